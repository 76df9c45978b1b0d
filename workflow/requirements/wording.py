"""How a requirement names what it is about: by its title when the definition is at hand, else by identifier.

A sentence a practitioner reads (a refusal's explanation, a handbook's condition) names a fact, a move, a
state or a deadline by the title the definition gives it, quoted: “the service manager endorsed the CCW
allocation…”. Without the definition (a diagram's key, ``policy diff``) the identifier stands in, as before,
so those outputs do not change. Identifiers always stay in JSON (a requirement's ``params``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ..definition import Definition

__all__ = ["fact_named", "event_named", "state_named", "deadline_named", "states_named", "opening",
           "lower_first", "SLOT_WORDS"]

#: a holder slot, as a sentence names the person in it
SLOT_WORDS = {"lead": "lead practitioner", "supervisor": "supervisor", "worker": "worker"}


def _quoted(title: str | None, name: str) -> str:
    return f"“{title}”" if title else f"'{name}'"


def fact_named(name: str, d: "Definition | None") -> str:
    """“the lead practitioner has completed the single assessment”, or 'assessment_completed' without *d*."""
    spec = d.facts.get(name) if d is not None else None
    return _quoted(spec.title if spec is not None else None, name)


def event_named(name: str, d: "Definition | None") -> str:
    """“Start a Child in Need plan”, or 'start_cin_plan' without *d*."""
    spec = d.events.get(name) if d is not None else None
    return _quoted(spec.title if spec is not None else None, name)


def state_named(name: str, d: "Definition | None") -> str:
    """“Child in Need plan”, or 'cin_plan' without *d*."""
    spec = d.states.get(name) if d is not None else None
    return _quoted(spec.title if spec is not None else None, name)


def states_named(names: "tuple[str, ...] | list[str]", d: "Definition | None") -> str:
    """States joined with 'or' when titled (“Referral” or “Single assessment”), by comma as identifiers."""
    if d is None:
        return ", ".join(names)
    return " or ".join(state_named(n, d) for n in names)


def deadline_named(name: str, d: "Definition | None") -> str:
    """“Supervision of the CCW-led case”, or 'ccw_supervision' without *d*."""
    spec = d.deadlines.get(name) if d is not None else None
    return _quoted(spec.title if spec is not None else None, name)


def opening(text: str) -> str:
    """The text as a sentence's beginning: its first letter upper case, after any opening quote."""
    start = 1 if text[:1] in "“'" else 0
    return text[:start] + text[start:start + 1].upper() + text[start + 1:]


def lower_first(text: str) -> str:
    """The text inside a sentence: its first letter lower case, unless it opens with a quoted name or an
    abbreviation ('CIN', 'PS/PE'), which keep their capitals."""
    if text[:1] in "“'" or text[:2].isupper():
        return text
    return text[:1].lower() + text[1:]
