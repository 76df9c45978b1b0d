"""The tables the guards read answer to the audit log (issue 12): every direct edit of them is reported by verify.

Each attack edits one table directly, as an insider with a database client would, on a
real SQLite file and a real PostgreSQL server; `audit verify` must name the table and
the row, and what the chain says instead.
"""
from __future__ import annotations

import json
from typing import Callable

import pytest
from sqlalchemy import delete, insert, update
from sqlalchemy.engine import Connection

from casework.store.schema import allocations, cases, facts, holders, markers, settings, staff
from casework.workflow import service

from .helpers import add_standard_staff, case_in_cin_plan, hand_to_ccw

ATTACKS: dict[str, tuple[Callable[[Connection], object], str]] = {
    "case state": (lambda c: c.execute(update(cases).where(cases.c.id == "C-1").values(state="cp_plan")), "cases"),
    "case lead": (lambda c: c.execute(update(cases).where(cases.c.id == "C-1").values(lead_id="tm")), "cases"),
    "case policy": (lambda c: c.execute(update(cases).where(cases.c.id == "C-1").values(policy="torbay")), "cases"),
    "staff roles": (lambda c: c.execute(update(staff).where(staff.c.id == "ccw").values(
        roles=json.dumps(["social_worker"]))), "staff"),
    "staff registration": (lambda c: c.execute(update(staff).where(staff.c.id == "ccw").values(
        registration="SW123456")), "staff"),
    "forged staff row": (lambda c: c.execute(insert(staff).values(
        id="fake_tm", name="Fake", roles=json.dumps(["team_manager"]), registration="SW1", training="[]",
        updated_at="2025-03-03T09:00:00.000000+00:00")), "staff"),
    "fact removed": (lambda c: c.execute(delete(facts).where(facts.c.name == "lead_agreed_with_partners")), "facts"),
    "fact forged": (lambda c: c.execute(insert(facts).values(
        case_id="C-1", name="plan_approved", at="2025-03-03T09:00:00.000000+00:00",
        recorded_at="2025-03-03T09:00:00.000000+00:00", by_id="sw", with_ids="[]", note="", state="cin_plan")),
        "facts"),
    "marker moved": (lambda c: c.execute(update(markers).where(markers.c.marker == "entered:cin_plan").values(
        at="2099-01-01T00:00:00.000000+00:00")), "markers"),
    "allocation rewritten": (lambda c: c.execute(update(allocations).values(by_id="ccw")), "allocations"),
    "former lead forged": (lambda c: c.execute(insert(holders).values(
        case_id="C-1", slot="lead", staff_id="tm", version=1, at="2025-03-03T09:00:00.000000+00:00")), "holders"),
    "hand-over re-dated": (lambda c: c.execute(update(holders).where(holders.c.slot == "lead").values(
        at="2020-01-01T00:00:00.000000+00:00")), "holders"),
    "sandbox slipped in": (lambda c: c.execute(insert(settings).values(key="sandbox", value="true")), "settings"),
    "case team": (lambda c: c.execute(update(cases).where(cases.c.id == "C-1").values(team="Amber Valley")), "cases"),
    "team declared behind casework": (lambda c: c.execute(insert(settings).values(key="team:Shadow", value="declared")),
                                      "settings"),
}


@pytest.mark.parametrize("attack", ATTACKS)
def test_a_direct_edit_of_a_guarded_table_is_reported(cw, attack):
    """Cases, staff, facts, markers, allocations and settings are re-derived from the chains and compared (WT-7)."""
    add_standard_staff(cw)
    case_in_cin_plan(cw, "C-1")
    hand_to_ccw(cw, "C-1")
    assert service.verify_audit(cw).ok
    change, table = ATTACKS[attack]
    with cw.store.write() as conn:
        change(conn)
    report = service.verify_audit(cw)
    assert not report.ok
    assert any(b.reason.startswith(f"table {table}: row") for b in report.broken), report.broken


def test_a_training_sandbox_made_by_init_verifies(tmp_path, clock):
    """The sandbox setting `init --sandbox` writes is audited, so a real sandbox is not reported."""
    from casework.workflow.workspace import open_casework

    cw = open_casework(f"sqlite:///{tmp_path / 'sandbox.db'}", clock=clock)
    service.init_store(cw, sandbox=True)
    service.init_store(cw, sandbox=True)
    assert service.is_sandbox(cw) and service.verify_audit(cw).ok
    cw.store.dispose()
