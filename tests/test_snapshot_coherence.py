"""What a workspace remembers after each of its own writes is what the store would give it (issue 16).

A workspace keeps a case's facts, markers, former leads and holder changes after it writes them, so
that a bulk import's next action on the case reads the case row alone. These tests try to make that
memory drift from the store: random runs of facts (repeated, back-dated, tied to the microsecond, by
several people), reallocations to and fro, moves and refusals, and after every action the kept records
are compared with a fresh read, and the fresh read's former leads and hand-overs (from the holders rows)
with what the case's every allocation says. A fact no deadline reads leaves the kept due dates alone; audit verify
then still finds them as the case says.
"""
from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from casework.errors import Refused
from casework.store import records
from casework.workflow import service
from casework.workflow.clock import from_text
from casework.workflow.hydrate import load_case_for_write
from casework.workflow.people import holder_changes
from casework.workflow.snapshots import Snapshots

from .conftest import START

PEOPLE = [("tm", ["team_manager"], "SW900001"), ("sw1", ["social_worker"], "SW900002"),
          ("sw2", ["social_worker"], "SW900003"), ("sw3", ["social_worker"], "SW900004"),
          ("ps", ["practice_supervisor"], "SW900005")]
FACTS = ["home_visit", "case_note", "supervision", "assessment_completed", "assessment_approved"]
MOVES = ["decide_assessment", "start_cin_plan", "hold_cin_review", "decide_early_help"]

_RUNS: list[None] = []  # one case per example: hypothesis runs them all on the one store
_ACTION = st.one_of(
    st.tuples(st.just("fact"), st.sampled_from(FACTS), st.sampled_from(["tm", "tm", "sw1", "sw2"]),
              st.sampled_from([0, 3, 6, 1, 30, 200])),  # 3 and 6 hours back tie with earlier steps' facts
    st.tuples(st.just("allocate"), st.sampled_from(["sw1", "sw2", "sw3"]), st.sampled_from([None, "ps"]),
              st.sampled_from([0, 2, 6])),  # 6 hours back: dated before the allocation made just before it
    st.tuples(st.just("move"), st.sampled_from(MOVES), st.just("tm"), st.just(0)),
)


def _staff(cw) -> None:
    for sid, roles, registration in PEOPLE:
        service.add_staff(cw, sid, sid, roles, team="T", registration=registration, actor=None if sid == "tm" else "tm")


def _fresh(cw, case_id):
    """The case's records as a workspace that kept nothing reads them."""
    with cw.store.read() as conn:
        case = load_case_for_write(conn, case_id, (), Snapshots())[0]
    return case


def _kept(cw, case_id):
    with cw.store.read() as conn:
        return load_case_for_write(conn, case_id, (), cw.snapshots)[0]


def _as_every_allocation_says(cw, fresh):
    """The former leads (latest first) and hand-overs replayed from the case's every allocation, oldest first:
    what the holders rows must give."""
    with cw.store.read() as conn:
        rows = sorted((r for r in records.rows_of(conn, "allocations") if r["case_id"] == fresh.id),
                      key=lambda r: r["id"])
    former: list[str] = []
    for r in reversed(rows):
        if r["lead_id"] != (fresh.lead.id if fresh.lead else None) and r["lead_id"] not in former:
            former.append(r["lead_id"])
    since, prior = holder_changes((from_text(r["at"]), r["lead_id"], r["supervisor_id"], r["worker_id"]) for r in rows)
    assert fresh.former_leads == tuple(former)
    assert (fresh.holder_since, fresh.holder_prior) == (since, prior)


def _same(kept, fresh):
    assert kept.version == fresh.version
    facts = [(f.name, f.at, f.by.id, tuple(w.id for w in f.with_staff), f.note, f.state) for f in kept.facts._latest]
    assert facts == [(f.name, f.at, f.by.id, tuple(w.id for w in f.with_staff), f.note, f.state)
                     for f in fresh.facts._latest]
    assert kept.markers == fresh.markers
    assert kept.former_leads == fresh.former_leads
    assert (kept.holder_since, kept.holder_prior) == (fresh.holder_since, fresh.holder_prior)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(_ACTION, min_size=1, max_size=25))
@example(actions=[("fact", "home_visit", "tm", 0), ("fact", "home_visit", "tm", 3),  # a tie to the microsecond
                  ("fact", "home_visit", "tm", 200), ("fact", "case_note", "tm", 0),  # back-dated behind it
                  ("allocate", "sw1", None, 0), ("allocate", "sw2", "ps", 0), ("fact", "home_visit", "sw2", 0),
                  ("allocate", "sw1", None, 2), ("allocate", "sw3", "ps", 0), ("allocate", "sw3", None, 0),
                  ("move", "decide_assessment", "tm", 0), ("fact", "home_visit", "tm", 6)])
@example(actions=[("allocate", "sw1", "ps", 0), ("allocate", "sw2", None, 0), ("allocate", "sw1", None, 6),
                  ("allocate", "sw3", "ps", 6), ("allocate", "sw2", "ps", 0)])  # each hand-over dated before the last
def test_what_a_workspace_keeps_after_its_writes_is_what_the_store_holds(sqlite_cw, actions):
    cw = sqlite_cw
    cw.snapshots.clear()
    _RUNS.append(None)
    case_id = f"S-{len(_RUNS)}"
    if not service.list_staff(cw):
        _staff(cw)
    service.open_case(cw, case_id, "national", "T", "tm", at=START - timedelta(days=29))
    _same(_kept(cw, case_id), _fresh(cw, case_id))
    for step, (kind, what, who, hours) in enumerate(actions):
        at = START - timedelta(days=20) + timedelta(hours=step * 3 - hours)
        try:
            if kind == "fact":
                service.record_fact(cw, case_id, what, who, at=at)
            elif kind == "allocate":
                service.allocate(cw, case_id, what, "tm", supervisor=who, at=at)
            else:
                service.move_case(cw, case_id, what, who, reason="why", at=at)
        except Refused:
            pass
        fresh = _fresh(cw, case_id)
        _same(_kept(cw, case_id), fresh)
        _as_every_allocation_says(cw, fresh)
    assert service.verify_audit(cw).ok


def test_a_fact_no_deadline_reads_leaves_the_kept_due_dates_as_they_were(sqlite_cw):
    """A case note changes no due date, so its recording writes none; a home visit that meets a deadline does."""
    cw = sqlite_cw
    _staff(cw)
    service.open_case(cw, "D-1", "national", "T", "tm", at=START - timedelta(days=3))
    service.allocate(cw, "D-1", "sw1", "tm", at=START - timedelta(days=2))
    definition = cw.versions.for_opening("national", START.date())
    assert "fact:case_note" not in definition.deadline_markers
    assert "fact:assessment_completed" in definition.deadline_markers
    conn = cw.store._backend.writer()
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        service.record_fact(cw, "D-1", "case_note", "sw1", note="Spoke to school")
        noted, seen[:] = list(seen), []
        service.move_case(cw, "D-1", "decide_assessment", "tm", reason="Needs assessing")
        service.record_fact(cw, "D-1", "assessment_completed", "sw1")
    finally:
        conn.set_trace_callback(None)
    assert not [s for s in noted if "due_" in s]
    assert [s for s in seen if "INSERT INTO due_dates" in s]
    report = service.verify_audit(cw)
    assert report.ok, report.broken
