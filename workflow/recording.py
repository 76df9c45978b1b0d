"""Recording verdicts: may this person record this fact on this case now?"""
from __future__ import annotations

from datetime import datetime

from .clock import day_of
from .definition import Definition, FactDef
from ..errors import UnknownFact
from .people import Case, Staff
from .requirements import Context
from .requirements.facts import recording_unmet, with_unmet
from .verdict import Unmet, Verdict, cited

__all__ = ["explain_record"]


def _called(spec: "FactDef", fact: str) -> str:
    """The fact as a sentence names it: its title in quotes, or its identifier when it has none."""
    return f'"{spec.title}"' if spec.title else f"'{fact}'"


def explain_record(definition: Definition, case: Case, fact: str, actor: Staff, at: datetime,
                   note: str = "", with_staff: tuple[Staff, ...] = (), staff: tuple[Staff, ...] | None = None) -> Verdict:
    """Facts are recorded by the people the definition names, on open cases, after what they follow.

    The note and the people taking part are arguments: when one is missing the verdict's unmet item
    names the option (``Unmet.argument``), which the service turns into a usage error.
    """
    spec = definition.facts.get(fact)
    if spec is None:
        raise UnknownFact(fact, definition.facts, f"in policy {definition.name!r}")
    ctx = Context(case, actor, at, day_of(at), definition, staff=staff)
    unmet: list[Unmet] = recording_unmet(ctx, fact)
    unmet += with_unmet(ctx, fact, with_staff)
    rules = spec.rules or ("WT-7",)
    if spec.choices and note not in spec.choices:
        unmet.append(Unmet("note_choice",
                           f"{_called(spec, fact)} must say which of these applies: {', '.join(spec.choices)}", rules,
                           f"Give one of them with --note (e.g. --note {spec.choices[0]}).",
                           {"choices": list(spec.choices)}, spec.origin, "--note"))
    elif spec.note_required and not note.strip():
        unmet.append(Unmet("note_required", f"{_called(spec, fact)} must carry its rationale as a note", rules,
                           "Give it with --note.", {}, spec.origin, "--note"))
    state = definition.states.get(case.state)
    return Verdict("record", case.id, fact, case.state, None, actor.id, not unmet, cited(unmet, spec.rules),
                   f"record {_called(spec, fact)}",
                   state.title if state else "", actor.named)
