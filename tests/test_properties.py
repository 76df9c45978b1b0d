"""Invariants under random sequences of actions by random staff (hypothesis, real SQLite file)."""
from __future__ import annotations

import tempfile
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from workflow import service
from workflow.errors import CaseworkError, Refused
from workflow.loader import Policies
from workflow.workspace import open_casework

from .conftest import Clock
from .helpers import STAFF, add_standard_staff, case_in_cin_plan
from .test_store import snapshot

NATIONAL = Policies().get("national")
PEOPLE = sorted(STAFF)
EVENTS = sorted(NATIONAL.events)
#: the moves around child protection, drawn more often so that sequences really reach it
CP_MOVES = ["escalate_to_strategy", "start_s47", "convene_icpc", "start_cp_plan", "hold_cp_review", "end_cp_plan"]
ACTORS = ["sw", "tm", "ccw", "lapsed", "asw", "swa"]
FACTS = sorted(NATIONAL.facts)

PARTNERS_AGREED = st.tuples(st.just("record"), st.just("lead_agreed_with_partners"), st.sampled_from(["tm", "ps"]),
                            st.just(None))
cp_move = st.tuples(st.just("move"), st.sampled_from(CP_MOVES), st.sampled_from(ACTORS), st.just("why"))
escalation = st.tuples(st.just("move"), st.just("escalate_to_strategy"), st.sampled_from(["sw", "tm", "ccw"]),
                       st.just("why"))
action = st.one_of(
    PARTNERS_AGREED, escalation, cp_move, cp_move, cp_move,
    st.tuples(st.just("move"), st.sampled_from(EVENTS), st.sampled_from(PEOPLE), st.sampled_from([None, "why"])),
    st.tuples(st.just("allocate"), st.sampled_from(PEOPLE), st.sampled_from(PEOPLE),
              st.sampled_from([None, "sw", "ps", "lapsed", "tm_unreg"])),
    st.tuples(st.just("record"), st.sampled_from(FACTS), st.sampled_from(PEOPLE), st.just(None)),
    st.tuples(st.just("wait"), st.integers(1, 40), st.just(None), st.just(None)),
)


def _apply(cw, clock, step) -> str:
    kind, a, b, c = step
    if kind == "wait":
        clock.advance(days=a)
        return "wait"
    try:
        if kind == "move":
            service.move_case(cw, "C-1", a, b, reason=c)
        elif kind == "allocate":
            service.allocate(cw, "C-1", a, b, supervisor=c)
        else:
            service.record_fact(cw, "C-1", a, b)
        return "done"
    except Refused:
        return "refused"


reached: list[bool] = []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(action, min_size=6, max_size=25))
def test_random_actions_never_put_an_unregistered_lead_on_the_cp_path(steps):
    """Whatever happens, a case on the child protection path is led by a registered social worker, and the chain holds."""  # WT-5 WT-7
    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        cw = open_casework(f"sqlite:///{tmp}/p.db", clock=clock)
        service.init_store(cw)
        add_standard_staff(cw)
        case_in_cin_plan(cw)
        staff = {s.id: s for s in service.list_staff(cw)}
        attempts = len(service.case_history(cw, "C-1"))
        for step in steps:
            before = snapshot(cw)
            try:
                outcome = _apply(cw, clock, step)
            except CaseworkError:
                assert snapshot(cw) == before  # bad input or conflict writes nothing
                continue
            attempts += outcome != "wait"
            if outcome == "refused":
                after = snapshot(cw)
                assert {k: v for k, v in after.items() if k != "audit"} == \
                    {k: v for k, v in before.items() if k != "audit"}
                assert after["audit"][:-1] == before["audit"]
            case = service.show_case(cw, "C-1")
            if case["path"] == "cp":
                reached.append(True)
                event("reached the child protection path")
                lead = staff[case["lead"]["id"]]
                assert lead.qualified_on((clock.now).date())
        assert len(service.case_history(cw, "C-1")) == attempts  # no attempt is lost
        assert service.verify_audit(cw).ok
        cw.store.dispose()


def test_the_property_really_reaches_child_protection():
    """The random sequences above are not vacuous: some of them take the case onto the CP path."""
    if not reached:
        test_random_actions_never_put_an_unregistered_lead_on_the_cp_path()
    assert reached
