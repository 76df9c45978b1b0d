"""When evidence counts: the anchors that name a moment in a case's life, and the lifetime of a requirement.

``since`` says from when a fact or an event counts (the case's opening, its current state,
its current allocation, or the latest of named anchors); the kinds in :mod:`.facts` share
that through :class:`Scoped`.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Union

from ..model import Model, dump
from ..people import newest_facts
from .base import Context, Requirement
from .wording import SLOT_WORDS, event_named, fact_named, state_named

if TYPE_CHECKING:  # pragma: no cover
    from ..definition import Definition

__all__ = ["Anchor", "Scope", "Scoped", "SCOPE_TEXT", "scope_time", "scope_text", "merge_refs", "Slot"]

Slot = Literal["lead", "supervisor", "worker"]


class Anchor(Model):
    """A moment in the case's life, named by what happened then (exactly one field)."""

    #: the latest time this event was made on the case
    event: str | None = None
    #: the latest time this fact was recorded (at or before the action)
    fact: str | None = None
    #: the latest time the case entered this state
    entered: str | None = None
    #: the latest time this slot changed hands (the current lead took over, say)
    holder: Slot | None = None

    def __post_init__(self) -> None:
        given = [k for k in ("event", "fact", "entered", "holder") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("an anchor names exactly one of 'event', 'fact', 'entered' or 'holder', "
                             f"found: {', '.join(given) or 'none'}")

    def time(self, ctx: Context) -> datetime | None:
        """When it last happened on the case as it stands, or None if it never has."""
        case = ctx.case
        if self.fact is not None:
            return next((f.at for f in newest_facts(case.facts, (self.fact,), ctx.at)), None)
        if self.holder is not None:
            return case.holder_since.get(self.holder)
        marker = f"event:{self.event}" if self.event is not None else f"entered:{self.entered}"
        return case.markers.get(marker)

    def text(self, d: "Definition | None" = None) -> str:
        """What happened, to follow 'since' or 'after'; with *d*, in plain words (“…” was recorded)."""
        if d is None:
            if self.fact is not None:
                return f"'{self.fact}'"
            if self.holder is not None:
                return f"the {self.holder} last changed"
            return f"'{self.event}'" if self.event is not None else f"the case entered {self.entered!r}"
        if self.fact is not None:
            return f"{fact_named(self.fact, d)} was recorded"
        if self.holder is not None:
            return f"the current {SLOT_WORDS[self.holder]} took the case"
        if self.event is not None:
            return f"the move {event_named(self.event, d)} was made"
        return f"the case entered {state_named(str(self.entered), d)}"

    def first(self, d: "Definition | None" = None) -> str:
        """What must happen first when it never has: “…” must be recorded first."""
        if d is None:
            return f"{self.text()} must come first"
        if self.fact is not None:
            return f"{fact_named(self.fact, d)} must be recorded first"
        if self.holder is not None:
            return f"a {SLOT_WORDS[self.holder]} must be allocated first"
        if self.event is not None:
            return f"the move {event_named(self.event, d)} must be made first"
        return f"the case must first enter {state_named(str(self.entered), d)}"

    def references(self) -> dict[str, tuple[str, ...]]:
        for space, name in (("events", self.event), ("facts", self.fact), ("states", self.entered)):
            if name is not None:
                return {space: (name,)}
        return {}


#: where evidence starts counting: a scope word, an anchor, or several (the latest of them applies)
Scope = Union[Literal["case", "state", "allocation"], Anchor]
SCOPE_TEXT = {"case": "", "state": "since the case entered its current state",
               "allocation": "since the current allocation"}
#: the same in plain words, once a definition names things by their titles
_PLAIN_SCOPE = {**SCOPE_TEXT, "allocation": "since the case was last allocated"}


def scope_time(scope: Scope, ctx: Context) -> datetime | None:
    if isinstance(scope, Anchor):
        return scope.time(ctx)
    case = ctx.case
    return {"case": None, "state": case.state_entered_at, "allocation": case.allocated_at}[scope]


def scope_text(scope: Scope, d: "Definition | None" = None) -> str:
    if isinstance(scope, Anchor):
        return f"since {scope.text(d)}"
    return (SCOPE_TEXT if d is None else _PLAIN_SCOPE)[scope]


def merge_refs(*parts: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    merged: dict[str, tuple[str, ...]] = {}
    for part in parts:
        for space, names in part.items():
            merged[space] = merged.get(space, ()) + names
    return merged


class Scoped(Requirement):
    """Shared by the kinds whose evidence has a lifetime: ``since``, its time on a case, its words, its names."""

    #: from when it counts: 'case', 'state', 'allocation', an anchor, or a list of them (the latest applies)
    since: Union[Scope, tuple[Scope, ...]] = "case"

    def _scopes(self) -> tuple[Scope, ...]:
        return self.since if isinstance(self.since, tuple) else (self.since,)

    def _since(self, ctx: Context) -> datetime | None:
        """When evidence starts counting on ctx.case, or None when it counts from the case's opening."""
        times = [t for t in (scope_time(s, ctx) for s in self._scopes()) if t is not None]
        return max(times) if times else None

    def _since_texts(self, d: "Definition | None" = None) -> list[str]:
        """'since …' for each scope; with *d*, one phrase: 'since the case entered its current state and the
        current lead practitioner took the case' (the later of them applies)."""
        texts = [t for t in (scope_text(s, d) for s in self._scopes()) if t]
        if d is None or len(texts) < 2:
            return texts
        return [" and ".join([texts[0], *(t.removeprefix("since ") for t in texts[1:])])]

    def _anchors(self) -> list[Anchor]:
        return [s for s in self._scopes() if isinstance(s, Anchor)]

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = dump(self, exclude=("kind", "rules", "says", "origin"), exclude_defaults=True,
                                      exclude_none=True, by_alias=True)
        return params
