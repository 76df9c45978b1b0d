"""Requirements on what has been recorded on the case: visits, approvals, rationales."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from ..clock import day_of
from ..people import Fact, Staff
from ..roles import roles_phrase
from .actor import Role, clauses_phrase
from .base import MANY, Context, Requirement, register

__all__ = ["FactRecorded", "Relation", "related_staff"]

Relation = Literal["lead", "supervisor", "worker", "allocated", "previous_lead"]

_RELATION_TEXT = {
    "lead": "the lead practitioner", "supervisor": "the supervisor", "worker": "the worker",
    "allocated": "someone allocated to the case", "previous_lead": "the previous lead practitioner",
}


def related_staff(ctx: Context, relation: Relation) -> tuple[Staff, ...]:
    """The people who stand in *relation* to the case in ctx."""
    case = ctx.case
    if relation == "allocated":
        return case.allocated()
    person = {"lead": case.lead, "supervisor": case.supervisor, "worker": case.worker,
              "previous_lead": case.previous_lead}[relation]
    return (person,) if person is not None else ()


def _is(person: Staff, people: tuple[Staff, ...]) -> bool:
    return any(p.id == person.id for p in people)


@register
class FactRecorded(Requirement):
    """A fact has been recorded, optionally by or with particular people, since a point in time."""

    kind: Literal["fact_recorded"] = "fact_recorded"
    primary = "fact"
    fact: str
    since: Literal["case", "state", "allocation"] = "case"
    by: Relation | None = None
    by_roles: tuple[Role, ...] = Field((), max_length=MANY)
    by_qualified: bool = False
    with_relation: Relation | None = None
    with_roles: tuple[Role, ...] = Field((), max_length=MANY)
    with_qualified: bool = False

    def _since(self, ctx: Context) -> datetime | None:
        case = ctx.case
        return {"case": None, "state": case.state_entered_at, "allocation": case.allocated_at}[self.since]

    def _fits(self, fact: Fact, ctx: Context, since: datetime | None) -> bool:
        if fact.name != self.fact or (since is not None and fact.at < since):
            return False
        day = day_of(fact.at)
        if self.by and not _is(fact.by, related_staff(ctx, self.by)):
            return False
        if self.by_roles and not (fact.by.roles & set(self.by_roles)):
            return False
        if self.by_qualified and not fact.by.qualified_on(day):
            return False
        if self.with_relation:
            wanted = related_staff(ctx, self.with_relation)
            if not wanted or not all(_is(w, fact.with_staff) or w.id == fact.by.id for w in wanted):
                return False
        if self.with_roles and not any(w.roles & set(self.with_roles) for w in fact.with_staff):
            return False
        if self.with_qualified and not any(w.qualified_on(day) for w in fact.with_staff):
            return False
        return True

    def holds(self, ctx: Context) -> bool:
        since = self._since(ctx)
        return any(self._fits(f, ctx, since) for f in reversed(ctx.case.facts))

    def _qualifiers(self) -> str:
        parts = []
        if self.by:
            parts.append(f"by {_RELATION_TEXT[self.by]}")
        if self.by_roles:
            parts.append(f"by a {'registered ' if self.by_qualified else ''}{roles_phrase(self.by_roles)}")
        elif self.by_qualified:
            parts.append("by a registered social worker")
        if self._with_text():
            parts.append(self._with_text())
        scope = {"case": "", "state": "since the case entered its current state",
                 "allocation": "since the current allocation"}[self.since]
        if scope:
            parts.append(scope)
        return (" " + ", ".join(parts)) if parts else ""

    def _with_text(self) -> str:
        parts = []
        if self.with_relation:
            parts.append(f"with {_RELATION_TEXT[self.with_relation]}")
        if self.with_roles:
            parts.append(f"with a {'registered ' if self.with_qualified else ''}{roles_phrase(self.with_roles)}")
        elif self.with_qualified:
            parts.append("with a social-work-qualified practitioner")
        return " and ".join(parts)

    def describe(self) -> str:
        return f"'{self.fact}' must be recorded{self._qualifiers()}"

    def explain(self, ctx: Context) -> str:
        spec = ctx.definition.facts.get(self.fact)
        title = f" ({spec.title})" if spec is not None and spec.title else ""
        return f"'{self.fact}'{title} has not been recorded{self._qualifiers()}"

    def who_could(self, ctx: Context) -> str:
        if self.by:
            people = related_staff(ctx, self.by)
            who = (f"{_RELATION_TEXT[self.by]} ({', '.join(p.id for p in people)})" if people
                   else _RELATION_TEXT[self.by])
        elif self.by_roles:
            who = f"a {'registered ' if self.by_qualified else ''}{roles_phrase(self.by_roles)}"
        else:
            spec = ctx.definition.facts.get(self.fact)
            who = clauses_phrase(spec.who, ctx) if spec is not None and spec.who else "someone allocated to the case"
        with_ = f" {self._with_text()}" if self._with_text() else ""
        return f"{who[0].upper()}{who[1:]} must record '{self.fact}'{with_} (casework case record {ctx.case.id} {self.fact} ...)."

    def references(self) -> dict[str, tuple[str, ...]]:
        return {"facts": (self.fact,)}


@register
class EventHappened(Requirement):
    """An event has been made on this case before (e.g. the first TAC meeting was held)."""

    kind: Literal["event_happened"] = "event_happened"
    primary = "event"
    event: str

    def holds(self, ctx: Context) -> bool:
        return f"event:{self.event}" in ctx.case.markers

    def describe(self) -> str:
        return f"'{self.event}' must have happened on this case first"

    def who_could(self, ctx: Context) -> str:
        return f"Make '{self.event}' first."

    def references(self) -> dict[str, tuple[str, ...]]:
        return {"events": (self.event,)}
