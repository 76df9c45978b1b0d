"""The demo: a real case through the national protocol, including a refused move.

It shows the point of the project in one run: a community care worker may lead a
Child in Need case under a qualified supervisor, but cannot take it into child
protection (WT-5) until a team manager reallocates it to a social worker.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import service
from ..errors import CaseNotFound, StaffNotFound, TransitionRefused
from .verdict import Verdict
from .workspace import Casework

__all__ = ["DemoReport", "run_demo", "DEMO_STAFF"]

DEMO_STAFF = (
    ("tess", "Tess Manning", ["team_manager"], "SW100001"),
    ("sam", "Sam Okafor", ["social_worker"], "SW100002"),
    ("ana", "Ana Lima", ["community_care_worker"], None),
)


@dataclass(frozen=True)
class DemoReport:
    """What the demo did: the case, the refused move, and the case's history."""

    case_id: str
    refused: Verdict
    case: dict[str, Any]
    history: list[dict[str, Any]]
    can: list[Verdict]


def _ensure_staff(cw: Casework, team: str) -> None:
    known = {s.id for s in service.list_staff(cw)}
    manager = DEMO_STAFF[0][0]  # the team manager starts an empty staff list and adds the others
    for staff_id, name, roles, reg in DEMO_STAFF:
        if staff_id not in known:
            first = not known and staff_id == manager
            service.add_staff(cw, staff_id, name, roles, team=team, registration=reg,
                              actor=None if first else manager)
            known.add(staff_id)
    if team not in {t.name for t in service.list_teams(cw)}:
        service.declare_team(cw, team, manager, reason="The demo's team")


def _free_case_id(cw: Casework) -> str:
    n = 1
    while True:
        try:
            service.show_case(cw, f"DEMO-{n}")
        except CaseNotFound:
            return f"DEMO-{n}"
        n += 1


def run_demo(cw: Casework, team: str = "Erewash") -> DemoReport:
    """Seed the demo staff (once) and walk a new case DEMO-n through the national protocol."""
    service.init_store(cw)
    _ensure_staff(cw, team)
    cid = _free_case_id(cw)
    service.open_case(cw, cid, "national", team, "tess")
    service.allocate(cw, cid, "sam", "tess", reason="Duty social worker")
    service.move_case(cw, cid, "decide_assessment", "tess")
    service.record_fact(cw, cid, "assessment_completed", "sam", note="Housing need; no safeguarding concerns")
    service.move_case(cw, cid, "start_cin_plan", "sam")
    service.record_fact(cw, cid, "lead_agreed_with_partners", "tess", note="Agreed with school and housing")
    service.allocate(cw, cid, "ana", "tess", supervisor="sam", reason="CIN primarily for housing need")
    service.move_case(cw, cid, "hold_cin_review", "ana")
    service.record_fact(cw, cid, "escalation_raised", "ana", note="Unexplained bruising seen on a visit")
    try:
        service.move_case(cw, cid, "escalate_to_strategy", "ana", reason="Unexplained bruising")
        raise StaffNotFound("ana")  # pragma: no cover - the national protocol must refuse this
    except TransitionRefused as refusal:
        refused = refusal.verdict
    service.allocate(cw, cid, "sam", "tess", supervisor=None, reason="Need escalated: back to the previous social worker")
    service.move_case(cw, cid, "escalate_to_strategy", "sam", reason="Unexplained bruising")
    service.move_case(cw, cid, "start_s47", "sam")
    return DemoReport(cid, refused, service.show_case(cw, cid), service.case_history(cw, cid, words=True),
                      service.available(cw, cid, "sam"))
