"""When evidence counts: the anchors that name a moment in a case's life, and the lifetime of a requirement.

``since`` says from when a fact or an event counts (the case's opening, its current state,
its current allocation, or the latest of named anchors); the kinds in :mod:`.facts` share
that through :class:`Scoped`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, model_validator

from ..people import newest_facts
from .base import Context, Requirement

__all__ = ["Anchor", "Scope", "Scoped", "SCOPE_TEXT", "scope_time", "scope_text", "merge_refs", "Slot"]

Slot = Literal["lead", "supervisor", "worker"]


class Anchor(BaseModel):
    """A moment in the case's life, named by what happened then (exactly one field)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    #: the latest time this event was made on the case
    event: str | None = None
    #: the latest time this fact was recorded (at or before the action)
    fact: str | None = None
    #: the latest time the case entered this state
    entered: str | None = None
    #: the latest time this slot changed hands (the current lead took over, say)
    holder: Slot | None = None

    @model_validator(mode="after")
    def _one(self) -> "Anchor":
        given = [k for k in ("event", "fact", "entered", "holder") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("an anchor names exactly one of 'event', 'fact', 'entered' or 'holder', "
                             f"found: {', '.join(given) or 'none'}")
        return self

    def time(self, ctx: Context) -> datetime | None:
        """When it last happened on the case as it stands, or None if it never has."""
        case = ctx.case
        if self.fact is not None:
            return next((f.at for f in newest_facts(case.facts, (self.fact,), ctx.at)), None)
        if self.holder is not None:
            return case.holder_since.get(self.holder)
        marker = f"event:{self.event}" if self.event is not None else f"entered:{self.entered}"
        return case.markers.get(marker)

    def text(self) -> str:
        if self.fact is not None:
            return f"'{self.fact}'"
        if self.holder is not None:
            return f"the {self.holder} last changed"
        return f"'{self.event}'" if self.event is not None else f"the case entered {self.entered!r}"

    def references(self) -> dict[str, tuple[str, ...]]:
        for space, name in (("events", self.event), ("facts", self.fact), ("states", self.entered)):
            if name is not None:
                return {space: (name,)}
        return {}


#: where evidence starts counting: a scope word, an anchor, or several (the latest of them applies)
Scope = Union[Literal["case", "state", "allocation"], Anchor]
SCOPE_TEXT = {"case": "", "state": "since the case entered its current state",
               "allocation": "since the current allocation"}


def scope_time(scope: Scope, ctx: Context) -> datetime | None:
    if isinstance(scope, Anchor):
        return scope.time(ctx)
    case = ctx.case
    return {"case": None, "state": case.state_entered_at, "allocation": case.allocated_at}[scope]


def scope_text(scope: Scope) -> str:
    return f"since {scope.text()}" if isinstance(scope, Anchor) else SCOPE_TEXT[scope]


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

    def _since_texts(self) -> list[str]:
        return [t for t in (scope_text(s) for s in self._scopes()) if t]

    def _anchors(self) -> list[Anchor]:
        return [s for s in self._scopes() if isinstance(s, Anchor)]

    def params(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"kind", "rules", "says", "origin"}, exclude_defaults=True,
                               exclude_none=True, by_alias=True)
