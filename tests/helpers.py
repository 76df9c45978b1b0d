"""Builders for tests: the standard staff and cases at a given stage (through the real API)."""
from __future__ import annotations

from datetime import date

from casework.workflow import service
from casework.workflow.workspace import Casework

TEAM = "Erewash"

#: id → (roles, registration, registered_until, team)
STAFF = {
    "tm": (["team_manager"], "SW900001", None, TEAM),
    "sm": (["service_manager"], "SW900002", None, TEAM),
    "ps": (["practice_supervisor"], "SW900003", None, TEAM),
    "sw": (["social_worker"], "SW900004", None, TEAM),
    "sw2": (["social_worker"], "SW900005", None, TEAM),
    "asw": (["advanced_social_worker"], "SW900006", None, TEAM),
    "lapsed": (["social_worker"], "SW900007", date(2024, 12, 31), TEAM),
    "tm_unreg": (["team_manager"], None, None, TEAM),
    "ccw": (["community_care_worker"], None, None, TEAM),
    "swa": (["social_work_assistant"], None, None, TEAM),
    "fsw": (["family_support_worker"], None, None, TEAM),
    "student": (["student_social_worker"], None, None, TEAM),
    "outsider": (["team_manager"], "SW900008", None, "Amber Valley"),
}


def add_standard_staff(cw: Casework) -> None:
    """Everyone in STAFF, added through the service."""
    for sid, (roles, reg, until, team) in STAFF.items():  # 'tm' starts the staff list and adds the others
        service.add_staff(cw, sid, sid.upper(), roles, team=team, registration=reg, registered_until=until,
                          actor=None if sid == "tm" else "tm")


def case_in_assessment(cw: Casework, cid: str = "C-1", lead: str = "sw", policy: str = "national") -> None:
    """A case opened, allocated to *lead* and in single assessment."""
    service.open_case(cw, cid, policy, TEAM, "tm")
    service.allocate(cw, cid, lead, "tm")
    service.move_case(cw, cid, "decide_assessment", "tm")


def case_in_cin_plan(cw: Casework, cid: str = "C-1", policy: str = "national") -> None:
    """A case on a CIN plan led by social worker 'sw'."""
    case_in_assessment(cw, cid, policy=policy)
    service.record_fact(cw, cid, "assessment_completed", "sw")
    service.move_case(cw, cid, "start_cin_plan", "sw")


def hand_to_ccw(cw: Casework, cid: str = "C-1", supervisor: str = "sw") -> None:
    """Reallocate a CIN case to community care worker 'ccw' under *supervisor* (national rules)."""
    service.record_fact(cw, cid, "lead_agreed_with_partners", "tm")
    service.allocate(cw, cid, "ccw", "tm", supervisor=supervisor)


def walk_to_assessment(cw: Casework, cid: str, policy: str, team: str, manager: str, social_worker: str) -> None:
    """Open *cid* under *policy*, allocate it to *social_worker* and decide to assess."""
    service.open_case(cw, cid, policy, team, manager)
    service.allocate(cw, cid, social_worker, manager)
    service.move_case(cw, cid, "decide_assessment", manager)


def walk_to_cin_plan(cw: Casework, cid: str, policy: str, team: str, manager: str, social_worker: str) -> None:
    """As walk_to_assessment, then complete the assessment and start the CIN plan."""
    walk_to_assessment(cw, cid, policy, team, manager, social_worker)
    service.record_fact(cw, cid, "assessment_completed", social_worker)
    service.move_case(cw, cid, "start_cin_plan", social_worker)


def unmet_of(error, kind: str, rule: str):
    """The unmet requirement of *kind* citing *rule* in a refusal (pytest.raises info); fails if absent."""
    found = [u for u in error.value.verdict.unmet if u.kind == kind and rule in u.rules]
    assert found, error.value.verdict.unmet
    return found[0]


def workspace_with_protocol(tmp_path, store_url: str, clock, name: str, text: str) -> Casework:
    """A store with the standard staff whose protocols include local file *name* (machines/NAME.yaml)."""
    from casework.workflow.workspace import open_casework

    folder = tmp_path / "machines"
    folder.mkdir()
    (folder / f"{name}.yaml").write_text(text)
    cw = open_casework(store_url, machines=[folder], clock=clock)
    service.init_store(cw)
    add_standard_staff(cw)
    return cw


def rewrite_entry(cw: Casework, chain: str, seq: int, **changes: object) -> None:
    """Change entry *seq* of *chain* and recompute every hash after it, as a forger would."""
    from sqlalchemy import delete, insert

    from casework.store import audit as audit_log
    from casework.store.schema import audit

    with cw.store.write() as conn:
        rows = audit_log.entries(conn, chain)
        fields = [{k: r[k] for k in ("recorded_at", "at", "actor", "action", "case_id", "event", "from_state",
                                     "to_state", "policy", "policy_version", "payload", "principal")} for r in rows]
        fields[seq - 1].update(changes)
        conn.execute(delete(audit).where(audit.c.chain == chain))
        conn.execute(insert(audit), audit_log.chain_rows(chain, fields))
