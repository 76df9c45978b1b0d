"""The store contract, run against a real SQLite file and a real PostgreSQL server."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text

from store import audit, records
from store.schema import metadata
from workflow import service
from workflow.errors import (AlreadyExists, CaseNotFound, ConcurrentUpdate, InvalidDefinition, StaffNotFound,
                             TransitionRefused)
from workflow.workspace import open_casework

from .helpers import add_standard_staff, case_in_cin_plan, hand_to_ccw


def snapshot(cw) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    with cw.store.read() as conn:
        return {t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
                for t in metadata.sorted_tables}


@pytest.fixture
def ready(cw):
    add_standard_staff(cw)
    case_in_cin_plan(cw)
    return cw


def test_a_refused_move_adds_only_its_audited_attempt(ready):
    """Every table but the audit log is unchanged, and the log gains exactly one 'refused' row."""  # WT-7
    hand_to_ccw(ready)
    before = snapshot(ready)
    with pytest.raises(TransitionRefused):
        service.move_case(ready, "C-1", "escalate_to_strategy", "ccw", reason="Injury")
    after = snapshot(ready)
    assert {k: v for k, v in after.items() if k != "audit"} == {k: v for k, v in before.items() if k != "audit"}
    assert after["audit"][:-1] == before["audit"] and len(after["audit"]) == len(before["audit"]) + 1
    with ready.store.read() as conn:
        assert audit.entries(conn, "case:C-1")[-1]["action"] == "refused"


def test_bad_input_leaves_the_store_exactly_as_it_was(ready, tmp_path, clock):
    """An unknown case, an unknown person or a malformed definition writes nothing."""
    before = snapshot(ready)
    with pytest.raises(CaseNotFound) as missing:
        service.move_case(ready, "C-2", "hold_cin_review", "sw")
    assert "C-1" in str(missing.value)
    with pytest.raises(StaffNotFound) as who:
        service.move_case(ready, "C-1", "hold_cin_review", "sww")
    assert "'sw'" in str(who.value)
    (tmp_path / "broken.yaml").write_text("name: broken\nextends: national\nversion: 1\nstates:\n  limbo: {}\n")
    other = open_casework(str(ready.store.url), machines=[tmp_path], clock=clock)
    with pytest.raises(InvalidDefinition):
        service.open_case(other, "C-9", "broken", "Erewash", "tm")
    assert snapshot(ready) == before


def test_a_failure_inside_a_unit_of_work_rolls_everything_back(ready):
    """A case row and an audit entry written before an exception are both gone afterwards."""
    before = snapshot(ready)
    with pytest.raises(RuntimeError):
        with ready.store.write() as conn:
            records.insert_case(conn, {"id": "C-X", "policy": "national", "team": "Erewash", "state": "referral",
                                       "version": 1, "opened_at": "2025-03-03T09:00:00.000000+00:00",
                                       "state_entered_at": "2025-03-03T09:00:00.000000+00:00",
                                       "updated_at": "2025-03-03T09:00:00.000000+00:00"})
            audit.append(conn, "case:C-X", recorded_at="x", at="x", actor="tm", action="open", case_id="C-X")
            raise RuntimeError("power cut")
    assert snapshot(ready) == before


def test_the_losing_writer_gets_a_conflict_and_nothing_is_half_written(ready):
    """Two moves from the same version: one wins, the other gets ConcurrentUpdate (exit 3)."""
    version = service.show_case(ready, "C-1")["version"]
    service.move_case(ready, "C-1", "hold_cin_review", "sw", expected_version=version)
    before = snapshot(ready)
    with pytest.raises(ConcurrentUpdate) as lost:
        service.move_case(ready, "C-1", "hold_cin_review", "sw2", expected_version=version)
    assert lost.value.exit_code == 3
    assert snapshot(ready) == before


def test_a_real_race_has_exactly_one_winner(ready):
    """Two threads write the same case from the same version at once: one wins, one conflicts."""
    version = service.show_case(ready, "C-1")["version"]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def write(actor: str) -> None:
        barrier.wait()
        try:
            service.record_fact(ready, "C-1", "home_visit", actor, expected_version=version)
            outcomes.append("won")
        except ConcurrentUpdate:
            outcomes.append("conflict")

    threads = [threading.Thread(target=write, args=(a,)) for a in ("sw", "tm")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "won"]
    assert service.show_case(ready, "C-1")["version"] == version + 1
    assert service.verify_audit(ready).ok


def test_writers_on_different_cases_do_not_conflict(ready):
    """Moves on two cases at the same moment both succeed."""
    case_in_cin_plan(ready, "C-2")
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def review(cid: str) -> None:
        barrier.wait()
        try:
            service.move_case(ready, cid, "hold_cin_review", "sw")
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)

    threads = [threading.Thread(target=review, args=(c,)) for c in ("C-1", "C-2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert service.show_case(ready, "C-2")["version"] == service.show_case(ready, "C-1")["version"] == 6


@pytest.mark.parametrize("tamper,reason", [
    ("UPDATE audit SET payload = '{\"reason\":\"edited\"}' WHERE chain = 'case:C-1' AND seq = 3", "content"),
    ("DELETE FROM audit WHERE chain = 'case:C-1' AND seq = 2", "missing"),
    ("DELETE FROM audit WHERE chain = 'case:C-1' AND seq = 5", "removed"),
])
def test_audit_verify_finds_the_first_tampered_entry(ready, tamper, reason):
    """Editing, removing or truncating an entry is reported with its chain and position."""  # WT-7
    assert service.verify_audit(ready).ok
    with ready.store.write() as conn:
        conn.execute(text(tamper))
    report = service.verify_audit(ready)
    assert not report.ok
    broken = report.broken[0]
    assert broken.chain == "case:C-1" and reason in broken.reason
    if reason != "removed":
        assert broken.seq in (2, 3)


def test_duplicates_are_conflicts_and_write_nothing(ready):
    """A case or staff id that exists already is a conflict (exit 3)."""
    before = snapshot(ready)
    with pytest.raises(AlreadyExists) as dup:
        service.open_case(ready, "C-1", "national", "Erewash", "tm")
    assert dup.value.exit_code == 3
    with pytest.raises(AlreadyExists):
        service.add_staff(ready, "sw", "Again", ["social_worker"])
    assert snapshot(ready) == before


def test_init_is_idempotent_and_reports_the_revision(cw):
    """Running init again changes nothing and reports the newest migration."""
    assert service.init_store(cw) == "0003"
    assert cw.store.revision() == "0003"
