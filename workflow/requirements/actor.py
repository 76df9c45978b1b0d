"""Who may act: clauses about the acting person and their relation to the case."""
from __future__ import annotations

from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Literal

from ..clock import day_words
from ..model import Model
from ..people import Staff
from ..roles import ROLES, roles_phrase
from .base import MANY, Context, Requirement, people_phrase, register

if TYPE_CHECKING:  # pragma: no cover
    from ..definition import Definition
    from ..schema import Field, Role, RuleIds

__all__ = ["known_role", "ActorClause", "WhoMayAct", "ActorHasRole", "ActorIsQualified", "clauses_phrase"]


def known_role(value: str) -> str:
    """*value*, when it is a role identifier (README, 'Role identifiers'); the schema's check of a ``Role``."""
    if value not in ROLES:
        from difflib import get_close_matches
        close = get_close_matches(value, ROLES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known roles: {', '.join(ROLES)}"
        raise ValueError(f"unknown role {value!r}{hint}")
    return value


_RELATIONS = {
    "lead": "the case's lead practitioner",
    "supervisor": "the case's supervisor",
    "worker": "the case's allocated worker",
    "allocated": "someone allocated to the case",
}


class ActorClause(Model):
    """One kind of person who may act; every field given must hold."""

    roles: Annotated[tuple[Role, ...], Field(max_length=MANY)] = ()
    qualified: bool = False
    relation: Literal["lead", "supervisor", "worker", "allocated"] | None = None
    team: Literal["case"] | None = None
    rules: RuleIds = ()
    origin: str = ""


    @cached_property
    def role_set(self) -> frozenset[str]:
        """The roles as a set, built once (checked on every move)."""
        return frozenset(self.roles)

    def matches(self, actor: Staff, ctx: Context) -> bool:
        """Does *actor* fit this clause for ctx.case on ctx.day? (Nobody does once they have left.)"""
        if not actor.active_on(ctx.day):
            return False
        if self.roles and not (actor.roles & self.role_set):
            return False
        if self.qualified and not actor.qualified_on(ctx.day):
            return False
        if self.team == "case" and actor.team != ctx.case.team:
            return False
        if self.relation is not None:
            if not any(s.id == actor.id for s in ctx.case.holding(self.relation)):
                return False
        return True

    def describe(self, ctx: Context | None = None) -> str:
        """'a registered team manager or service manager of the case's team'; with *ctx*, relations
        name the person who holds them now: "the case's lead practitioner (pe)"."""
        qual = "registered " if self.qualified else ""
        if self.relation:
            text = _RELATIONS[self.relation]
            holder = _holder(self.relation, ctx) if ctx is not None else None
            if holder:
                text += f" ({holder})"
            if self.roles:
                text += f" if a {qual}{roles_phrase(self.roles)}"
            elif self.qualified:
                text += " if social-work-qualified"
        elif self.roles:
            text = f"a {qual}{roles_phrase(self.roles)}"
        else:
            text = "a social-work-qualified practitioner" if self.qualified else "anyone"
        if self.team == "case":
            text += " of the case's team"
        return text


def _holder(relation: str, ctx: Context) -> str:
    return ", ".join(p.id for p in ctx.case.holding(relation))


def clauses_phrase(clauses: tuple[ActorClause, ...], ctx: Context | None = None) -> str:
    """Clauses joined with 'or'; with *ctx*, naming who holds each relation now."""
    return "; or ".join(c.describe(ctx) for c in clauses) or "nobody"


@register
class WhoMayAct(Requirement):
    """The actor must fit one of the clauses (an event's ``who:``)."""

    kind: Literal["who"] = "who"
    primary = "clauses"
    clauses: Annotated[tuple[ActorClause, ...], Field(max_length=MANY)]

    @classmethod
    def of(cls, clauses: tuple[ActorClause, ...], rules: tuple[str, ...] = (), origin: str = "") -> "WhoMayAct":
        """The check of a definition's ``who:`` (its clauses were validated with the definition)."""
        return cls(clauses=clauses, rules=rules, origin=origin)

    def holds(self, ctx: Context) -> bool:
        return any(c.matches(ctx.actor, ctx) for c in self.clauses)

    def describe(self, d: "Definition | None" = None) -> str:
        return f"Only {clauses_phrase(self.clauses)} may do this"

    def explain(self, ctx: Context) -> str:
        left = ctx.actor.left_on
        if left is not None and not ctx.actor.active_on(ctx.day):
            return f"{ctx.actor.label} left on {day_words(left)} and can no longer act"
        return f"{ctx.actor.label} is not among those who may do this"

    def who_could(self, ctx: Context) -> str:
        if ctx.staff is not None:
            base = replace(ctx, case=ctx.now_case, current=None)
            able = [p for p in ctx.active_staff() if p.id != ctx.actor.id and self.holds(replace(base, actor=p))]
            if able:
                return f"Ask {people_phrase(able)} ({clauses_phrase(self.clauses)})."
            return f"Nobody on the staff list may do this now: it needs {clauses_phrase(self.clauses, ctx)}."
        return f"Ask {clauses_phrase(self.clauses, ctx)}."

    def all_rules(self) -> tuple[str, ...]:
        rules = dict.fromkeys(self.rules)
        for c in self.clauses:
            rules.update(dict.fromkeys(c.rules))
        # who may act is the protocol's to say (WT-7) when the clauses cite nothing more particular
        return tuple(rules) or ("WT-7",)


@register
class ActorHasRole(Requirement):
    """The person acting holds one of these roles."""

    kind: Literal["actor_has_role"] = "actor_has_role"
    primary = "roles"
    roles: Annotated[tuple[Role, ...], Field(max_length=MANY)]

    def holds(self, ctx: Context) -> bool:
        return bool(ctx.actor.roles & set(self.roles))

    def describe(self, d: "Definition | None" = None) -> str:
        if d is None:
            return f"Must be done by a {roles_phrase(self.roles)}"
        return f"The person acting must be a {roles_phrase(self.roles)}"

    def who_could(self, ctx: Context) -> str:
        return f"Ask a {roles_phrase(self.roles)}."


@register
class ActorIsQualified(Requirement):
    """The person acting is social-work-qualified (registered) on the day of the action."""

    kind: Literal["actor_is_qualified"] = "actor_is_qualified"

    def holds(self, ctx: Context) -> bool:
        return ctx.actor.qualified_on(ctx.day)

    def describe(self, d: "Definition | None" = None) -> str:
        if d is None:
            return "Must be done by a registered social worker"
        return "The person acting must be a registered social worker"

    def explain(self, ctx: Context) -> str:
        return f"{ctx.actor.label} is not a registered social worker on {day_words(ctx.day)}"

    def who_could(self, ctx: Context) -> str:
        return "Ask a practitioner registered with Social Work England."
