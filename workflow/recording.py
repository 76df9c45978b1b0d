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


def explain_record(definition: Definition, case: Case, fact: str, actor: Staff, at: datetime,
                   note: str = "", with_staff: tuple[Staff, ...] = ()) -> Verdict:
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
    if spec.with_qualified and not any(w.qualified_on(ctx.day) for w in with_staff):
        unmet.append(Unmet("with_qualified", f"'{fact}' must be recorded with a social-work-qualified practitioner",
                           spec.rules, "Name them with --with STAFF (a registered social worker).", {}, spec.origin))
    if spec.choices and note not in spec.choices:
        unmet.append(Unmet("note_choice", f"'{fact}' must say which of these applies: {', '.join(spec.choices)}",
                           spec.rules, f"Give one of them with --note (e.g. --note {spec.choices[0]}).",
                           {"choices": list(spec.choices)}, spec.origin))
    elif spec.note_required and not note.strip():
        unmet.append(Unmet("note_required", f"'{fact}' must carry its rationale as a note", spec.rules,
                           "Give it with --note.", {}, spec.origin))
    return Verdict("record", case.id, fact, case.state, None, actor.id, not unmet, tuple(unmet))
