"""A move is fired through transitions (issue 16): with no callbacks to pass, straight to its state change.

The engine skips transitions' empty callback passes when a transition has none. These tests check that
what transitions would do still happens: the states' exit and entry callbacks run, the case's state and
entry time change, and a transition that does carry a callback (or a machine-wide hook) is executed whole.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from casework.workflow.engine import Engine
from casework.workflow.loader import Policies
from casework.workflow.people import Case

AT = datetime(2025, 3, 3, 9, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(Policies().get("national"))


def test_a_plain_move_runs_the_states_exit_and_entry_and_changes_the_state(engine):
    seen: list[str] = []
    engine.machine.get_state("referral").on_exit.append(lambda *_: seen.append("exit referral"))
    engine.machine.get_state("assessment").on_enter.append(lambda *_: seen.append("enter assessment"))
    try:
        case = Case("E-1", "national", "A", "referral")
        engine.fire(case, "decide_assessment", AT)
    finally:
        engine.machine.get_state("referral").on_exit.clear()
        engine.machine.get_state("assessment").on_enter.clear()
    assert (case.state, case.state_entered_at) == ("assessment", AT)
    assert seen == ["exit referral", "enter assessment"]


@pytest.mark.parametrize("hook", ["before", "after", "prepare", "machine"])
def test_a_transition_that_carries_a_callback_is_executed_whole(engine, hook):
    seen: list[str] = []
    transition = engine.machine.events["decide_assessment"].transitions["referral"][0]
    if hook == "machine":
        engine.machine.before_state_change.append(lambda *_: seen.append(hook))
    else:
        transition.add_callback(hook, lambda *_: seen.append(hook))
    try:
        case = Case("E-2", "national", "A", "referral")
        engine.fire(case, "decide_assessment", AT)
    finally:
        engine.machine.before_state_change.clear()
        for name in ("before", "after", "prepare"):
            getattr(transition, name).clear()
    assert case.state == "assessment" and seen == [hook]
