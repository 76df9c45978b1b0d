"""The running machine: one shared ``transitions`` Machine per definition, and verdicts.

Cases are never attached to the machine as models (``add_model`` grows with the models
already attached); a move dispatches on the model-less machine with
``machine.events[name].trigger(case)``, so it costs the same with 10 or 100,000 cases.
"""
from __future__ import annotations

from datetime import datetime

from typing import Any

from transitions import Machine
from transitions.core import EventData

from .clock import day_of
from .definition import Definition
from ..errors import MissingArguments, TransitionRefused, UnknownEvent
from .people import Case, Staff
from .requirements import Context, Requirement
from .requirements.actor import WhoMayAct
from .verdict import Unmet, Verdict, cited, in_words

__all__ = ["Engine"]


class Engine:
    """Guards and fires the moves of one definition, for any number of cases."""

    def __init__(self, definition: Definition):
        self.definition = definition
        self.machine = Machine(
            model=None,
            states=list(definition.states),
            initial=definition.initial,
            transitions=[{"trigger": name, "source": list(ev.sources), "dest": ev.to}
                         for name, ev in definition.events.items()],
            auto_transitions=False,
        )
        #: (event, source) → the event and its one transition from that source
        self._transitions: dict[tuple[str, str], tuple[Any, Any]] = {
            (name, source): (ev, ev.transitions[source][0])
            for name, ev in self.machine.events.items() for source in ev.transitions}
        self._states = {name: self.machine.get_state(name) for name in definition.states}
        self._events = dict(definition.events)  # a plain dict: read on every verdict
        #: the words a verdict carries, made once: each move's title mid-sentence, each state's title
        self._titles = {name: in_words(ev.title or name) for name, ev in definition.events.items()}
        self._state_titles = {name: spec.title or name for name, spec in definition.states.items()}
        self._checks: dict[str, tuple[Requirement, ...]] = {
            name: (WhoMayAct.of(ev.who, ev.rules, ev.origin), *ev.requires)
            for name, ev in definition.events.items()
        }

    def explain(self, case: Case, event: str, actor: Staff, at: datetime, reason: str | None = None,
                staff: tuple[Staff, ...] | None = None) -> Verdict:
        """May *actor* fire *event* on *case* at *at*? Every unmet requirement is listed; with *staff* (everyone
        on the staff list), each says by name who could meet it."""
        checks = self._checks.get(event)
        if checks is None:
            raise UnknownEvent(event, self.definition.events, f"in policy {self.definition.name!r}")
        ev = self._events[event]
        ctx = Context(case, actor, at, day_of(at), self.definition, reason, staff)
        unmet: list[Unmet] = []
        if case.state not in ev.sources:
            unmet.append(Unmet(
                "state", f"this move is not made from {self._state_title(case.state)}; it leaves "
                         f"{' or '.join(self._state_title(s) for s in ev.sources)}",
                rules=ev.rules or ("WT-7",),
                who_could=f"Nobody can now; 'casework case can {case.id} --as {actor.id}' lists the moves open from "
                          f"{self._state_title(case.state)}.",
                params={"from": list(ev.sources)}))
        for requirement in checks:
            if not requirement.holds(ctx):  # (unmet() asks holds() again, only for what fails)
                failed = requirement.unmet(ctx)
                if failed is not None:
                    unmet.append(failed)
        return Verdict("move", case.id, event, case.state, ev.to, actor.id, not unmet,
                       cited(unmet, ev.rules) if unmet else (), self._titles[event],
                       self._state_titles.get(case.state, ""), actor.named)

    def _state_title(self, state: str) -> str:
        return self._state_titles.get(state, state)

    def available(self, case: Case, actor: Staff, at: datetime, reason: str | None = None,
                  staff: tuple[Staff, ...] | None = None) -> list[Verdict]:
        """Every event leaving the case's state, each with its verdict for *actor* now (an event that needs a
        reason not given says so, as ``move`` would)."""
        return [self.explain(case, name, actor, at, reason, staff)
                for name, _ in self.definition.events_from(case.state)]

    def fire(self, case: Case, event: str, at: datetime) -> None:
        """Change the case's state through the shared machine (no guard: the verdict was taken).

        The verdict already chose the one transition that leaves the case's state, so it is executed
        directly (its callbacks, exit and entry run as transitions runs them), without the event's dispatch:
        looking the transition up again, the machine's event-level callbacks (this machine has none) and
        their logging, which were half the cost of a move in memory. A transition without any callbacks
        goes straight to transitions' state change (exit, set, enter), skipping four empty callback passes."""
        before = case.state
        found = self._transitions.get((event, before))
        if found is None:  # not a move from this state: let transitions say so, as it always has
            self.machine.events[event].trigger(case)
            return
        event_data = EventData(self._states[before], found[0], self.machine, case, args=(), kwargs={})
        transition, machine = found[1], self.machine
        if (transition.prepare or transition.conditions or transition.before or transition.after
                or machine.before_state_change or machine.after_state_change):
            transition.execute(event_data)
        else:  # no callbacks to pass through (none are registered today): exit, set the state, enter
            transition._change_state(event_data)
        if case.state != before:
            case.state_entered_at = at

    def move(self, case: Case, event: str, actor: Staff, at: datetime, reason: str | None = None) -> Verdict:
        """Fire *event* if the verdict allows it, else raise TransitionRefused carrying the verdict."""
        verdict = self.explain(case, event, actor, at, reason)
        if verdict.unmet and verdict.missing:
            raise MissingArguments(verdict)
        if not verdict.allowed:
            raise TransitionRefused(verdict)
        self.fire(case, event, at)
        return verdict
