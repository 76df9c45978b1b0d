"""Who has held a case's slots is kept as rows (issue 16): judging reads one row per person, not every allocation.

The holders rows are what the former leads and "since the lead changed" are read from; the
random runs of test_snapshot_coherence compare them with the case's every allocation. Here: a
case reallocated many times reads no allocation row when it is judged, and a store from before
the rows were kept gets, from its audit chains, exactly the rows live writes would have made.
"""
from __future__ import annotations

import sqlite3

from click.testing import CliRunner

from casework.cli.main import cli
from casework.store import records
from casework.workflow import service
from casework.workflow.hydrate import load_case

from .helpers import TEAM, add_standard_staff


def _holders(cw) -> list[tuple[object, ...]]:
    with cw.store.read() as conn:
        return sorted(tuple(r.values()) for r in records.rows_of(conn, "holders"))


def _reallocated(cw, clock, case_id: str, leads: list[str]) -> None:
    service.open_case(cw, case_id, "national", TEAM, "tm")
    for n, lead in enumerate(leads):
        clock.advance(minutes=5)
        service.allocate(cw, case_id, lead, "tm", supervisor="ps" if n % 3 else None)


def test_a_case_reallocated_many_times_is_judged_without_reading_its_allocations(sqlite_cw, clock):
    """Sixty hand-overs among three social workers leave three lead rows; a cold allocation reads those, never the
    sixty allocations, and still knows the former leads, latest first."""
    cw = sqlite_cw
    add_standard_staff(cw)
    _reallocated(cw, clock, "C-1", ["sw", "sw2", "asw"] * 20)
    # opened at version 1, the sixty allocations made versions 2 to 61: each lead's row is their last taking
    assert {(h[2], h[3]) for h in _holders(cw) if h[1] == "lead"} == {("sw", 59), ("sw2", 60), ("asw", 61)}
    cw.snapshots.clear()
    conn = cw.store._backend.writer()
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        clock.advance(minutes=5)
        service.allocate(cw, "C-1", "sw", "tm")
    finally:
        conn.set_trace_callback(None)
    assert [s for s in seen if "FROM holders" in s]
    assert not [s for s in seen if "FROM allocations" in s]
    with cw.store.read() as read:
        case = load_case(read, "C-1")
    assert case.former_leads == ("asw", "sw2")
    assert service.verify_audit(cw).ok


def test_a_store_from_before_holders_were_kept_gets_them_from_its_chains(sqlite_cw, sqlite_url, clock):
    """A store at revision 0007 refuses writes until `casework init`, which fills the holders rows from the audit
    chains: the same rows as the live writes made, hand-overs to and fro and an emptied supervisor slot included."""
    cw = sqlite_cw
    add_standard_staff(cw)
    _reallocated(cw, clock, "C-1", ["sw", "sw2", "sw", "asw", "sw2"])
    service.record_fact(cw, "C-1", "case_note", "sw2", note="Spoke to school")  # changes between hand-overs
    service.move_case(cw, "C-1", "decide_assessment", "tm")
    service.allocate(cw, "C-1", "sw", "tm")
    _reallocated(cw, clock, "C-2", ["asw"])
    service.open_case(cw, "C-3", "national", TEAM, "tm")  # never allocated: no rows
    live = _holders(cw)
    assert {h[2] for h in live if h[0] == "C-1" and h[1] == "supervisor"} == {"ps", ""}
    cw.store.dispose()
    db = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE holders")
        conn.execute("UPDATE alembic_version SET version_num = '0007'")
    runner = CliRunner()
    refused = runner.invoke(cli, ["--db", db, "case", "allocate", "C-3", "--lead", "sw", "--as", "tm"])
    assert refused.exit_code == 2 and "casework init" in refused.output, refused.output
    assert runner.invoke(cli, ["--db", db, "init"]).exit_code == 0
    with sqlite3.connect(db) as conn:
        upgraded = sorted(conn.execute("SELECT case_id, slot, staff_id, version, at FROM holders"))
    assert upgraded == live
    verified = runner.invoke(cli, ["--db", db, "audit", "verify"])
    assert verified.exit_code == 0, verified.output
