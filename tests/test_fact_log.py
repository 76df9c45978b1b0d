"""Judging reads only the latest fact of each name (issue 16): the verdicts are those of the whole history.

A stored case's facts come as a FactLog: the latest of each name, read with the case through the facts'
index, and the rest only when a question goes past them. These tests try to make that disagree with
judging on every fact: random histories with repeated, back-dated and tied facts by people who do and do
not count, every move and recording of two protocols, judged on several days.
"""
from __future__ import annotations

import re
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casework.store import records
from casework.workflow import service
from casework.workflow.clock import to_text
from casework.workflow.hydrate import load_case, load_staff
from casework.workflow.people import FactLog
from casework.workflow.recording import explain_record

from .conftest import START

STAFF = [("tm", ["team_manager"], "SW1", None), ("pe", ["practice_educator"], "SW2", None),
         ("ps", ["practice_supervisor"], "SW3", None), ("sw", ["social_worker"], "SW4", None),
         ("ccw", ["community_care_worker"], None, None), ("stu", ["student_social_worker"], None, 2)]
PEOPLE = [s[0] for s in STAFF]


def _store(cw, policy: str) -> None:
    for sid, roles, reg, pcf in STAFF:
        service.add_staff(cw, sid, sid, roles, team="T", registration=reg, pcf_level=pcf,
                          actor=None if sid == "tm" else "tm")
    service.open_case(cw, "C-1", policy, "T", "tm", at=START - timedelta(days=20))
    if policy == "stockport":  # the student works the case the practice educator holds
        service.allocate(cw, "C-1", "pe", "ps", worker="stu", at=START - timedelta(days=19))
    else:
        service.allocate(cw, "C-1", "sw", "tm", at=START - timedelta(days=19))


def _write_facts(cw, history) -> None:
    """Facts straight into the store, as record_fact writes them (whether or not the protocol would allow them)."""
    with cw.store.write() as conn:
        for name, hours, by, with_ in history:
            at = to_text(START - timedelta(hours=hours))
            records.insert_fact(conn, {"case_id": "C-1", "name": name, "at": at, "recorded_at": at, "by_id": by,
                                       "with_ids": with_, "note": "", "state": "assessment"})
            records.set_markers(conn, "C-1", {f"fact:{name}": at})


def _verdicts(cw, definition, whole: bool):
    """Every move's and recording's verdict on three days, the case's facts as read (or all read first)."""
    engine = cw.engine(definition)
    with cw.store.read() as conn:
        case = load_case(conn, "C-1")
        assert isinstance(case.facts, FactLog)
        if whole:
            case.facts = list(case.facts)
        actors = [load_staff(conn, p) for p in PEOPLE]
    found = []
    for days in (0, 3, 10):
        at = START - timedelta(days=days)
        for state in definition.states:
            case.state = state
            for event in definition.events:
                for actor in actors[:3]:
                    found.append(engine.explain(case, event, actor, at, "why").to_dict())
            for fact in list(definition.facts)[:6]:
                found.append(explain_record(definition, case, fact, actors[1], at, "", (actors[3],)).to_dict())
    return found


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(policy=st.sampled_from(["stockport", "national"]), data=st.data())
def test_judging_on_the_latest_of_each_name_agrees_with_judging_on_every_fact(tmp_path_factory, policy, data):
    from casework.workflow.workspace import open_casework

    cw = open_casework(str(tmp_path_factory.mktemp("log") / "c.db"), clock=lambda: START)
    service.init_store(cw)
    _store(cw, policy)
    definition = cw.policies.get(policy)
    names = sorted(definition.facts)[:8]
    history = data.draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from([1, 2, 30, 100, 500, 1000]),
                                           st.sampled_from(PEOPLE), st.lists(st.sampled_from(PEOPLE), max_size=2)),
                                 max_size=25))
    _write_facts(cw, history)
    assert _verdicts(cw, definition, whole=False) == _verdicts(cw, definition, whole=True)
    cw.store.dispose()


def test_a_move_on_a_long_history_never_reads_the_whole_history(sqlite_cw):
    """With 300 facts on the case, a recording and a move read the latest of each name, never every fact."""
    cw = sqlite_cw
    _store(cw, "national")
    _write_facts(cw, [("assessment_completed", 1000 + i, "sw", []) for i in range(300)])
    conn = cw.store._backend.writer()
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        cw.snapshots.clear()
        service.record_fact(cw, "C-1", "assessment_completed", "sw")
        service.move_case(cw, "C-1", "decide_assessment", "tm")
    finally:
        conn.set_trace_callback(None)
    reads_of_facts = [s for s in seen if re.search(r"FROM facts|JOIN facts", s)]
    assert reads_of_facts and all("markers" in s for s in reads_of_facts), reads_of_facts
