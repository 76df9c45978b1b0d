"""Recording verdicts: may this person record this fact on this case now?"""
from __future__ import annotations

from datetime import datetime

from .clock import day_of
from .definition import Definition
from .errors import UnknownFact
from .people import Case, Staff
from .requirements import Context
from .requirements.actor import WhoMayAct
from .verdict import Unmet, Verdict

__all__ = ["explain_record"]


def explain_record(definition: Definition, case: Case, fact: str, actor: Staff, at: datetime) -> Verdict:
    """Facts are recorded by the people the definition names, on open cases."""
    spec = definition.facts.get(fact)
    if spec is None:
        raise UnknownFact(fact, definition.facts, f"in policy {definition.name!r}")
    ctx = Context(case, actor, at, day_of(at), definition)
    unmet: list[Unmet] = []
    if not definition.states[case.state].open:
        unmet.append(Unmet("state", f"case {case.id} is {case.state!r}, not open", (), "Reopen the case first."))
    who = WhoMayAct(clauses=spec.who, rules=spec.rules, origin=spec.origin).unmet(ctx)
    if who is not None:
        unmet.append(who)
    return Verdict("record", case.id, fact, case.state, None, actor.id, not unmet, tuple(unmet))
