"""The store contract, proved the same way on a real SQLite file and a real PostgreSQL server.

Every test compares full snapshots of the database (every row of every table) before and
after, so "nothing changed" means exactly that, not "the case still looks the same".
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import delete, select, update

from casework import store
from casework.store import audit as audit_log
from casework.store import records
from casework.store.schema import audit, cases, metadata
from casework.workflow import service
from casework.workflow.clock import to_text
from casework.errors import (
    AllocationRefused,
    AlreadyExists,
    CaseNotFound,
    CaseworkError,
    ConcurrentUpdate,
    InvalidDefinition,
    RecordRefused,
    StaffNotFound,
    TransitionRefused,
    UnknownPolicy,
)
from casework.workflow.identity import running
from casework.workflow.workspace import open_casework

from .helpers import (
    TEAM,
    add_standard_staff,
    case_in_assessment,
    case_in_cin_plan,
    hand_to_ccw,
)

Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(cw) -> Snapshot:
    """Every row of every casework table (staff, cases, allocations, facts, markers, settings, audit), ordered."""
    with cw.store.read() as conn:
        return {table.name: [tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key.columns))]
                for table in metadata.sorted_tables}


def _without_audit(snap: Snapshot) -> Snapshot:
    return {name: rows for name, rows in snap.items() if name != "audit"}


def _chain(cw, chain: str) -> list[dict[str, Any]]:
    with cw.store.read() as conn:
        return audit_log.entries(conn, chain)


@pytest.fixture
def ready(cw):
    """Standard staff and case C-1 on a CIN plan led by 'sw' (chain case:C-1 holds 5 entries, version 5)."""
    add_standard_staff(cw)
    case_in_cin_plan(cw, "C-1")
    return cw


# --- refusals write only their attempt -------------------------------------------------------------


def _nothing(cw) -> None:
    """No setup beyond the ready case."""


REFUSALS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any], type[CaseworkError]]] = {
    "move": (hand_to_ccw, lambda cw: service.move_case(cw, "C-1", "escalate_to_strategy", "ccw",
                                                        reason="Bruising seen at school"), TransitionRefused),
    "allocate": (_nothing, lambda cw: service.allocate(cw, "C-1", "sw2", "ccw", reason="ccw may not allocate"),
                 AllocationRefused),
    "record": (_nothing, lambda cw: service.record_fact(cw, "C-1", "plan_approved", "swa"), RecordRefused),
}


@pytest.mark.parametrize("setup,attempt,refusal", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refusal_changes_nothing_but_adds_one_refused_audit_row(ready, setup, attempt, refusal):
    """A refused move, allocation or fact leaves every table as it was; the audit log gains one 'refused' row."""  # WT-7
    setup(ready)
    before = snapshot(ready)
    with pytest.raises(refusal) as refused:
        attempt(ready)
    assert refused.value.exit_code == 1
    after = snapshot(ready)
    assert _without_audit(after) == _without_audit(before)
    assert after["audit"][:-1] == before["audit"]
    assert len(after["audit"]) == len(before["audit"]) + 1
    chain = _chain(ready, "case:C-1")
    assert (chain[-1]["action"], chain[-1]["seq"]) == ("refused", len(chain))
    assert chain[-1]["payload"]["verdict"]["allowed"] is False
    assert service.verify_audit(ready).ok


def test_a_refused_cp_escalation_by_a_ccw_lead_cites_wt5(ready):
    """The refused escalation names the unmet WT-5 requirement, and the case stays on the CIN plan."""  # WT-5
    hand_to_ccw(ready, "C-1")
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(ready, "C-1", "escalate_to_strategy", "ccw", reason="Bruising seen at school")
    assert "WT-5" in refused.value.verdict.rules
    assert service.show_case(ready, "C-1")["state"] == "cin_plan"


# --- bad input writes nothing ------------------------------------------------------------------------

BROKEN_DEFINITIONS = {
    "yaml-syntax": "name: broken\nstates: [\n",
    "unreachable-state": "name: broken\nextends: national\nversion: 1\nstates:\n  limbo:\n    title: Limbo\n"
                         "    path: cin\n",
    "unknown-target": "name: broken\nextends: national\nversion: 1\nevents:\n  wander:\n    title: Wander\n"
                      "    from: cin_plan\n    to: nowhere\n    who: [{relation: lead}]\n",
    "unknown-requirement": "name: broken\nextends: national\nversion: 1\nevents:\n  hold_cin_review:\n"
                           "    requires:\n      - moon_is_full: {}\n",
    "wrong-name": "name: other\nextends: national\nversion: 1\n",
}


@pytest.mark.parametrize("text", BROKEN_DEFINITIONS.values(), ids=BROKEN_DEFINITIONS.keys())
def test_opening_a_case_under_a_malformed_definition_writes_nothing(ready, tmp_path, clock, text):
    """open_case with a policy whose file has errors raises InvalidDefinition and the store is untouched."""
    machines = tmp_path / "machines"
    machines.mkdir()
    (machines / "broken.yaml").write_text(text)
    before = snapshot(ready)
    other = open_casework(ready.store.url, machines=[machines], clock=clock)
    try:
        with pytest.raises(InvalidDefinition) as invalid:
            service.open_case(other, "C-9", "broken", TEAM, "tm")
        assert invalid.value.problems and "broken.yaml" in str(invalid.value)
    finally:
        other.store.dispose()
    assert snapshot(ready) == before


def test_opening_a_case_under_an_unknown_policy_writes_nothing_and_suggests(ready):
    """A near-miss policy name is refused with the real name suggested; nothing is written."""
    before = snapshot(ready)
    with pytest.raises(UnknownPolicy) as unknown:
        service.open_case(ready, "C-9", "nationl", TEAM, "tm")
    assert unknown.value.suggestions[0] == "national"
    assert snapshot(ready) == before


UNKNOWN_NAMES: dict[str, tuple[Callable[[Any], Any], type[CaseworkError], str | None]] = {
    "move-unknown-case": (lambda cw: service.move_case(cw, "C-01", "hold_cin_review", "sw"), CaseNotFound, None),
    "move-unknown-actor": (lambda cw: service.move_case(cw, "C-1", "hold_cin_review", "sww"), StaffNotFound, "sw"),
    "move-unknown-case-and-actor": (lambda cw: service.move_case(cw, "C-01", "hold_cin_review", "sww"),
                                    CaseNotFound, None),
    "record-unknown-actor": (lambda cw: service.record_fact(cw, "C-1", "home_visit", "sw3"), StaffNotFound, "sw"),
    "allocate-unknown-lead": (lambda cw: service.allocate(cw, "C-1", "asww", "tm"), StaffNotFound, "asw"),
    "allocate-unknown-case": (lambda cw: service.allocate(cw, "C-11", "sw2", "tm"), CaseNotFound, None),
    "close-unknown-case": (lambda cw: service.close_case(cw, "C-11", "RC8", "tm"), CaseNotFound, None),
    "transfer-unknown-case": (lambda cw: service.transfer_case(cw, "C-11", "Other", "tm", reason="r"), CaseNotFound,
                              None),
}


@pytest.mark.parametrize("call,error,suggested", UNKNOWN_NAMES.values(), ids=UNKNOWN_NAMES.keys())
def test_an_unknown_case_or_person_writes_nothing_and_suggests_the_near_miss(ready, call, error, suggested):
    """StaffNotFound names the closest known id; CaseNotFound names none (a near miss is another child's case, not
    to be disclosed); either way the store is exactly as it was."""
    before = snapshot(ready)
    with pytest.raises(error) as unknown:
        call(ready)
    if suggested is None:
        assert unknown.value.suggestions == () and "'C-1'" not in str(unknown.value) and "Did you mean" not in \
            str(unknown.value)
    else:
        assert suggested in unknown.value.suggestions
        assert f"Did you mean {suggested!r}" in str(unknown.value)
    assert unknown.value.exit_code == 2
    assert snapshot(ready) == before


# --- units of work ---------------------------------------------------------------------------------

_T = "2025-03-03T09:00:00.000000+00:00"


def _insert_case_and_audit(conn) -> None:
    records.insert_case(conn, {"id": "C-X", "policy": "national", "team": TEAM, "state": "referral", "version": 1,
                               "opened_at": _T, "state_entered_at": _T, "allocated_at": None, "lead_id": None,
                               "supervisor_id": None, "worker_id": None, "previous_lead_id": None,
                               "updated_at": _T})
    records.insert_fact(conn, {"case_id": "C-1", "name": "home_visit", "at": _T, "recorded_at": _T, "by_id": "sw",
                               "with_ids": [], "note": "", "state": "cin_plan"})
    records.set_markers(conn, "C-1", {"fact:home_visit": _T})
    principal = running(conn)
    audit_log.append(conn, "case:C-X", recorded_at=_T, at=_T, actor="tm", action="open", case_id="C-X",
                     to_state="referral", payload={"team": TEAM}, principal=principal)
    audit_log.append(conn, "case:C-1", recorded_at=_T, at=_T, actor="sw", action="fact", case_id="C-1",
                     event="home_visit", payload={}, principal=principal)


def test_an_exception_inside_a_unit_of_work_rolls_everything_back(ready):
    """A case row, a fact, a marker and audit rows written before an exception are all gone afterwards."""
    before = snapshot(ready)
    with pytest.raises(RuntimeError, match="power cut"):
        with ready.store.write() as conn:
            _insert_case_and_audit(conn)
            raise RuntimeError("power cut")
    assert snapshot(ready) == before
    assert service.verify_audit(ready).ok


def test_a_version_guard_failure_inside_a_unit_of_work_rolls_back_earlier_writes(ready):
    """ConcurrentUpdate from the version guard after other writes in the same unit of work leaves nothing behind."""
    before = snapshot(ready)
    with pytest.raises(ConcurrentUpdate), ready.store.write() as conn:
        _insert_case_and_audit(conn)
        records.update_case(conn, "C-1", 99, {"state": "closed", "version": 100})
    assert snapshot(ready) == before


# --- optimistic concurrency ------------------------------------------------------------------------

STALE_ACTIONS: dict[str, Callable[[Any, int], Any]] = {
    "move": lambda cw, v: service.move_case(cw, "C-1", "hold_cin_review", "sw2", expected_version=v),
    "record": lambda cw, v: service.record_fact(cw, "C-1", "home_visit", "tm", expected_version=v),
    "allocate": lambda cw, v: service.allocate(cw, "C-1", "sw2", "tm", expected_version=v),
}


@pytest.mark.parametrize("second", STALE_ACTIONS.values(), ids=STALE_ACTIONS.keys())
def test_a_second_action_from_the_same_version_is_a_conflict_and_writes_nothing(ready, second):
    """Two actions read at version v: the second raises ConcurrentUpdate (exit 3); only the first is stored."""
    version = service.show_case(ready, "C-1")["version"]
    first = service.move_case(ready, "C-1", "hold_cin_review", "sw", expected_version=version)
    assert first.case["version"] == version + 1
    before = snapshot(ready)
    with pytest.raises(ConcurrentUpdate) as lost:
        second(ready, version)
    assert lost.value.exit_code == 3
    assert snapshot(ready) == before
    moves = [e for e in _chain(ready, "case:C-1") if e["event"] == "hold_cin_review"]
    assert [(e["action"], e["actor"]) for e in moves] == [("move", "sw")]


RACERS: dict[str, Callable[[Any, int], Any]] = {
    "fact-sw": lambda cw, v: service.record_fact(cw, "C-1", "home_visit", "sw", expected_version=v),
    "fact-tm": lambda cw, v: service.record_fact(cw, "C-1", "case_note", "tm", expected_version=v),
    "move-sw": lambda cw, v: service.move_case(cw, "C-1", "hold_cin_review", "sw", expected_version=v),
    "move-tm": lambda cw, v: service.move_case(cw, "C-1", "hold_cin_review", "tm", expected_version=v),
}


def _race(actions: list[Callable[[], Any]]) -> list[Any]:
    """Run each action on its own thread, released together by a barrier; each result or exception, in order."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[Any] = [None] * len(actions)

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = actions[i]()
        except Exception as exc:  # noqa: BLE001 - the test inspects whatever happened
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.mark.parametrize("pair", [("fact-sw", "fact-tm"), ("move-sw", "move-tm"), ("move-sw", "fact-tm"),
                                  ("fact-sw", "move-tm")], ids="+".join)
def test_a_real_race_on_one_case_has_exactly_one_winner(ready, pair):
    """Two threads write the same case from the same version at once: one wins, the other gets ConcurrentUpdate."""
    version = service.show_case(ready, "C-1")["version"]
    before = snapshot(ready)
    outcomes = _race([lambda name=name: RACERS[name](ready, version) for name in pair])
    won = [o for o in outcomes if isinstance(o, service.MoveResult)]
    lost = [o for o in outcomes if isinstance(o, ConcurrentUpdate)]
    assert (len(won), len(lost)) == (1, 1), outcomes
    assert service.show_case(ready, "C-1")["version"] == version + 1
    after = snapshot(ready)
    assert after["audit"][:-1] == before["audit"] and len(after["audit"]) == len(before["audit"]) + 1
    assert service.verify_audit(ready).ok


def test_writers_on_different_cases_do_not_conflict(ready):
    """Moves and facts on two cases at the same moment all succeed, round after round, and the chains verify."""
    case_in_cin_plan(ready, "C-2")
    for _ in range(4):
        outcomes = _race([
            lambda: service.move_case(ready, "C-1", "hold_cin_review", "sw"),
            lambda: service.record_fact(ready, "C-2", "home_visit", "sw"),
        ])
        assert all(isinstance(o, service.MoveResult) for o in outcomes), outcomes
    assert service.show_case(ready, "C-1")["version"] == service.show_case(ready, "C-2")["version"] == 9
    assert service.verify_audit(ready).ok


# --- a long-running workspace reuses what it read, never past the case's version -------------------


@pytest.fixture
def elsewhere(ready, store_url, clock):
    """A second workspace on the same store: another process or service writing the same cases."""
    other = open_casework(store_url, clock=clock)
    yield other
    other.store.dispose()


def test_a_workspace_judges_on_another_writers_reallocation(ready, elsewhere):
    """Workspace A has C-1 in memory from its own move; B hands C-1 to a CCW; A's escalation is then refused."""  # WT-5
    service.move_case(ready, "C-1", "hold_cin_review", "sw")
    assert ready.snapshots.case("C-1", service.show_case(ready, "C-1")["version"]) is not None
    hand_to_ccw(elsewhere, "C-1")
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(ready, "C-1", "escalate_to_strategy", "ccw", reason="Bruising seen at school")
    assert "WT-5" in refused.value.verdict.rules
    assert service.show_case(ready, "C-1")["lead"]["id"] == "ccw"


def test_a_workspace_judges_on_a_fact_another_writer_recorded(ready, elsewhere):
    """A refuses 'start_cin_plan' for want of the completed assessment, B records it, A's retry goes through."""
    case_in_assessment(ready, "C-2")
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(ready, "C-2", "start_cin_plan", "sw")
    assert [u.kind for u in refused.value.verdict.unmet] == ["fact_recorded"]
    service.record_fact(elsewhere, "C-2", "assessment_completed", "sw")
    assert service.move_case(ready, "C-2", "start_cin_plan", "sw").case["state"] == "cin_plan"


def test_a_workspace_sees_staff_added_by_another_writer(ready, elsewhere):
    """Staff are read as of the staff chain's head: a person B adds can act through A at once."""
    service.move_case(ready, "C-1", "hold_cin_review", "sw")
    service.add_staff(elsewhere, "sw3", "SW3", ["social_worker"], team=TEAM, registration="SW900099", actor="tm")
    service.allocate(ready, "C-1", "sw3", "tm")
    assert service.move_case(ready, "C-1", "hold_cin_review", "sw3").case["lead"]["id"] == "sw3"


def test_a_workspace_rereads_staff_once_the_staff_chain_moves_on(ready, elsewhere):
    """Remembered staff are keyed to the staff chain's head: a lapsed registration written (and audited)
    elsewhere is seen at once, and the CP escalation is refused."""  # WT-5
    service.move_case(ready, "C-1", "hold_cin_review", "sw")
    service.update_staff(elsewhere, "sw", "tm", registered_until=date(2024, 1, 31))
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(ready, "C-1", "escalate_to_strategy", "sw", reason="Bruising seen at school")
    assert "WT-5" in refused.value.verdict.rules


def test_moves_through_one_workspace_keep_the_chain_and_markers_right(ready):
    """Many moves reusing remembered records still write a verifying chain and the latest markers."""
    for _ in range(5):
        last = ready.clock.advance(hours=1)
        service.move_case(ready, "C-1", "hold_cin_review", "sw")
    with ready.store.read() as conn:
        stored = records.case_markers(conn, "C-1")
    assert stored["event:hold_cin_review"] == to_text(last)
    fresh = open_casework(ready.store.url, clock=ready.clock)
    try:
        assert service.show_case(fresh, "C-1") == service.show_case(ready, "C-1")
    finally:
        fresh.store.dispose()
    assert service.verify_audit(ready).ok


# --- the audit chain -------------------------------------------------------------------------------


@pytest.fixture
def busy(ready):
    """C-1's chain: 1 open, 2 allocate, 3 move, 4 fact, 5 move, 6 refused, 7 fact, 8 move (version 7); C-2 open."""
    with pytest.raises(TransitionRefused):
        service.move_case(ready, "C-1", "escalate_to_strategy", "swa", reason="Worried")
    service.record_fact(ready, "C-1", "home_visit", "sw")
    service.move_case(ready, "C-1", "hold_cin_review", "sw")
    service.open_case(ready, "C-2", "national", TEAM, "tm")
    assert [e["action"] for e in _chain(ready, "case:C-1")] == [
        "open", "allocate", "move", "fact", "move", "refused", "fact", "move"]
    assert service.show_case(ready, "C-1")["version"] == 7
    return ready


def _edit_payload(conn) -> None:
    conn.execute(update(audit).where(audit.c.chain == "case:C-1", audit.c.seq == 3)
                 .values(payload='{"reason":"edited"}'))


def _delete_middle(conn) -> None:
    conn.execute(delete(audit).where(audit.c.chain == "case:C-1", audit.c.seq == 4))


def _delete_last_move(conn) -> None:
    conn.execute(delete(audit).where(audit.c.chain == "case:C-1", audit.c.seq == 8))


def _edit_staff_entry(conn) -> None:
    conn.execute(update(audit).where(audit.c.chain == "staff", audit.c.seq == 2).values(actor="intruder"))


def _forge_with_new_hash(conn) -> None:
    """Edit entry 3 and recompute its own hash: the link from entry 4 still gives it away."""
    row = dict(conn.execute(select(audit).where(audit.c.chain == "case:C-1", audit.c.seq == 3)).mappings().one())
    forged = audit_log.chain_rows("case:C-1", [{**row, "payload": {"reason": "edited"}}], 2, row["prev_hash"])[0]
    assert forged["hash"] != row["hash"]
    conn.execute(update(audit).where(audit.c.id == row["id"]).values(payload=forged["payload"], hash=forged["hash"]))


TAMPERING = {
    "edited-payload": (_edit_payload, "case:C-1", 3, "content does not match"),
    "deleted-middle": (_delete_middle, "case:C-1", 5, "entry 4 is missing"),
    "deleted-last-move": (_delete_last_move, "case:C-1", 8, "entries were removed"),
    "edited-staff-entry": (_edit_staff_entry, "staff", 2, "content does not match"),
    "forged-hash": (_forge_with_new_hash, "case:C-1", 4, "link to the previous entry"),
}


@pytest.mark.parametrize("tamper,chain,seq,reason", TAMPERING.values(), ids=TAMPERING.keys())
def test_audit_verify_reports_the_first_tampered_entry(busy, tamper, chain, seq, reason):
    """After direct edits or deletions in the database, verify names the broken chain and the first bad position."""  # WT-7
    report = service.verify_audit(busy)
    assert report.ok and report.entries == len(snapshot(busy)["audit"])
    with busy.store.write() as conn:
        tamper(conn)
    report = service.verify_audit(busy)
    assert not report.ok
    assert len(report.broken) == 1, report.broken  # the other chains still verify
    broken = report.broken[0]
    assert (broken.chain, broken.seq) == (chain, seq), broken
    assert reason in broken.reason


def test_audit_verify_counts_every_entry_of_every_chain(busy):
    """verify checks every row of the audit table, across the staff chain and every case chain."""  # WT-7
    report = service.verify_audit(busy)
    with busy.store.read() as conn:
        chains = {row.chain for row in conn.execute(select(audit.c.chain))}
    assert chains == {"settings", "definitions", "staff", "case:C-1", "case:C-2"}
    assert report.ok and report.entries == len(snapshot(busy)["audit"])


# --- duplicates and init ---------------------------------------------------------------------------


def test_a_duplicate_case_id_is_a_conflict_and_writes_nothing(ready):
    """Opening a case whose id exists raises AlreadyExists (exit 3); every table is unchanged."""
    before = snapshot(ready)
    with pytest.raises(AlreadyExists) as dup:
        service.open_case(ready, "C-1", "national", TEAM, "tm")
    assert dup.value.exit_code == 3 and "C-1" in str(dup.value)
    assert snapshot(ready) == before


def test_a_duplicate_staff_id_is_a_conflict_and_writes_nothing(ready):
    """Adding a staff member whose id exists raises AlreadyExists (exit 3); every table is unchanged."""
    before = snapshot(ready)
    with pytest.raises(AlreadyExists) as dup:
        service.add_staff(ready, "sw", "Someone Else", ["social_worker"], team=TEAM, registration="SW999999",
                          actor="tm")
    assert dup.value.exit_code == 3 and "sw" in str(dup.value)
    assert snapshot(ready) == before


def _head_revision() -> str:
    return ScriptDirectory(str(Path(store.__file__).resolve().parent / "migrations")).get_current_head()


def test_init_twice_is_harmless_and_reports_the_newest_revision(ready):
    """Running init again on a store in use changes no row and reports the newest migration's revision."""
    before = snapshot(ready)
    head = _head_revision()
    assert service.init_store(ready) == head
    assert service.init_store(ready) == head
    assert ready.store.revision() == head
    assert snapshot(ready) == before


def test_the_first_migration_is_0001_and_the_chain_of_migrations_ends_at_the_head(cw):
    """The migrations start at '0001' and init leaves the store at the last of them."""
    script = ScriptDirectory(str(Path(store.__file__).resolve().parent / "migrations"))
    revisions = [r.revision for r in script.walk_revisions()]
    assert revisions[-1] == "0001"
    assert cw.store.revision() == revisions[0] == _head_revision()


def test_cases_table_counts_versions_the_audit_chain_agrees_with(busy):
    """Each case's version equals the number of changing entries (open/move/fact/allocate) in its chain."""  # WT-7
    with busy.store.read() as conn:
        versions = dict(conn.execute(select(cases.c.id, cases.c.version)).all())
    for case_id, version in versions.items():
        changes = [e for e in _chain(busy, f"case:{case_id}") if e["action"] in audit_log.CHANGES]
        assert len(changes) == version
