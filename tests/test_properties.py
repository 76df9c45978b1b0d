"""Invariants under random sequences of actions by random staff (hypothesis, real SQLite file)."""
from __future__ import annotations

import tempfile
from datetime import timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from workflow import service
from workflow.errors import CaseworkError, Refused
from workflow.loader import Policies
from workflow.workspace import open_casework

from .conftest import Clock
from .helpers import STAFF, add_standard_staff
from .test_store import snapshot

NATIONAL = Policies().get("national")
PEOPLE = sorted(STAFF)
EVENTS = sorted(NATIONAL.events)
FACTS = sorted(NATIONAL.facts)

PARTNERS_AGREED = st.tuples(st.just("record"), st.just("lead_agreed_with_partners"), st.sampled_from(["tm", "ps"]),
                            st.just(None))
action = st.one_of(
    PARTNERS_AGREED,
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


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(action, min_size=1, max_size=25))
def test_random_actions_never_put_an_unregistered_lead_on_the_cp_path(steps):
    """Whatever happens, a case on the child protection path is led by a registered social worker, and the chain holds."""  # WT-5 WT-7
    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        cw = open_casework(f"sqlite:///{tmp}/p.db", clock=clock)
        service.init_store(cw)
        add_standard_staff(cw)
        service.open_case(cw, "C-1", "national", "Erewash", "tm")
        staff = {s.id: s for s in service.list_staff(cw)}
        attempts = 1
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
                event("reached the child protection path")
                lead = staff[case["lead"]["id"]]
                assert lead.qualified_on((clock.now).date())
        assert len(service.case_history(cw, "C-1")) == attempts  # no attempt is lost
        assert service.verify_audit(cw).ok
        cw.store.dispose()


def test_clock_advances_do_not_break_the_cp_invariant_check():
    """The property's own helper: waiting moves the clock forward only."""
    clock = Clock()
    start = clock.now
    _apply(None, clock, ("wait", 3, None, None))
    assert clock.now - start == timedelta(days=3)
