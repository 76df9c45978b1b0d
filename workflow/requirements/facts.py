"""Requirements on what has been recorded on the case: visits, approvals, rationales, and their order.

Evidence has a lifetime and an order. ``since`` says from when a fact counts (the case's
opening, the current state, the current allocation, or the latest of named anchors: an
event, another fact, a state entered, a holder changing hands), so an endorsement lapses
when the lead it was given for hands the case on. ``after`` says what the fact must
follow, and those anchors must exist: "the social worker *then* explains the decision"
needs the decision first. Only facts dated at or before the action count, so a back-dated
action never leans on something recorded later.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from ..clock import day_of, day_words
from ..people import Fact, Staff, newest_facts
from ..roles import roles_phrase
from ..verdict import Unmet
from ..model import alias
from .actor import ActorClause, WhoMayAct, clauses_phrase
from .base import MANY, Context, people_phrase, register
from .lifetime import Anchor, Scoped, merge_refs
from .wording import event_named, fact_named, state_named

if TYPE_CHECKING:  # pragma: no cover
    from ..definition import Definition, FactDef
    from ..schema import Field, Role

__all__ = ["FactRecorded", "EventHappened", "LatestFact", "Anchor", "Relation", "related_staff",
           "recording_unmet", "who_may_record", "who_may_make"]

Relation = Literal["lead", "supervisor", "worker", "allocated", "previous_lead"]

_RELATION_TEXT = {
    "lead": "the lead practitioner", "supervisor": "the supervisor", "worker": "the worker",
    "allocated": "someone allocated to the case", "previous_lead": "the previous lead practitioner",
}


def related_staff(ctx: Context, relation: Relation) -> tuple[Staff, ...]:
    """The people who stand in *relation* to the case in ctx."""
    return ctx.case.holding(relation)


def _party(word: str, relation: str | None, roles: tuple[str, ...], qualified: bool, qualified_alone: str
           ) -> list[str]:
    """'by the lead practitioner', 'with a registered social worker': who a fact is recorded by or with."""
    parts = [f"{word} {_RELATION_TEXT[relation]}"] if relation else []
    if roles:
        parts.append(f"{word} a {'registered ' if qualified else ''}{roles_phrase(roles)}")
    elif qualified:
        parts.append(f"{word} {qualified_alone}")
    return parts


def _is(person: Staff, people: tuple[Staff, ...]) -> bool:
    return any(p.id == person.id for p in people)


#: each fact's "who may record it" check, made once per fact definition (a year's import judges thousands)
_WHO_RECORDS: dict[int, tuple["FactDef", WhoMayAct]] = {}


def _who_records(spec: "FactDef") -> WhoMayAct:
    kept = _WHO_RECORDS.get(id(spec))
    if kept is None or kept[0] is not spec:  # keyed by identity, the definition kept so that its id stays its own
        kept = _WHO_RECORDS[id(spec)] = (spec, WhoMayAct.of(spec.who, spec.rules or ("WT-7",), spec.origin))
    return kept[1]


def recording_unmet(ctx: Context, fact: str) -> list[Unmet]:
    """What the protocol itself asks before *fact* may be recorded on ``ctx.case`` by ``ctx.actor`` (the case
    open, who may record it, what it must follow); arguments (note, people taking part) are the caller's."""
    spec = ctx.definition.facts[fact]
    unmet: list[Unmet] = []
    if not ctx.definition.states[ctx.case.state].open:
        unmet.append(Unmet("state", f"Case {ctx.case.id} is at {state_named(ctx.case.state, ctx.definition)} and "
                                    f"no longer open",
                           spec.rules or ("WT-7",), "Reopen the case first."))
    who = _who_records(spec).unmet(ctx)
    if who is not None:
        unmet.append(who)
    for requirement in spec.requires:
        failed = requirement.unmet(ctx)
        if failed is not None:
            unmet.append(failed)
    return unmet


def who_may_record(ctx: Context, fact: str) -> tuple[Staff, ...]:
    """Everyone on the staff list who the protocol would let record *fact* on the case as it stands now."""
    if fact not in ctx.definition.facts:
        return ()
    base = replace(ctx, case=ctx.now_case, current=None, staff=None)
    return tuple(p for p in ctx.active_staff() if not recording_unmet(replace(base, actor=p), fact))


def who_may_make(ctx: Context, event: str) -> tuple[Staff, ...]:
    """Everyone on the staff list the protocol would let make *event* on the case as it stands now (given the
    arguments it needs)."""
    ev = ctx.definition.events.get(event)
    case = ctx.now_case
    if ev is None or case.state not in ev.sources:
        return ()
    base = replace(ctx, case=case, current=None, staff=None, reason="(given)")
    checks = (WhoMayAct.of(ev.who), *ev.requires)
    return tuple(p for p in ctx.active_staff() if all(r.holds(replace(base, actor=p)) for r in checks))


@register
class FactRecorded(Scoped):
    """A fact has been recorded, optionally by or with particular people, within its lifetime and in order."""

    kind: Literal["fact_recorded"] = "fact_recorded"
    primary = "fact"
    fact: str
    #: what it must follow: each anchor must have happened, and the fact be recorded at or after it
    after: Annotated[tuple[Anchor, ...], Field(max_length=MANY)] = ()
    by: Relation | None = None
    by_roles: Annotated[tuple[Role, ...], Field(max_length=MANY)] = ()
    by_qualified: bool = False
    with_relation: Relation | None = None
    with_roles: Annotated[tuple[Role, ...], Field(max_length=MANY)] = ()
    with_qualified: bool = False

    def _fits(self, fact: Fact, ctx: Context, since: datetime | None) -> bool:
        if fact.name != self.fact or fact.at > ctx.at or (since is not None and fact.at < since):
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
        for anchor in self.after:
            at = anchor.time(ctx)
            if at is None:
                return False
            since = at if since is None else max(since, at)
        return any(self._fits(f, ctx, since) for f in newest_facts(ctx.case.facts, (self.fact,), ctx.at))

    def _qualifiers(self, d: "Definition | None" = None) -> str:
        parts = _party("by", self.by, self.by_roles, self.by_qualified, "a registered social worker")
        if self._with_text():
            parts.append(self._with_text())
        parts += self._since_texts(d)
        if self.after:
            parts.append("after " + " and ".join(a.text(d) for a in self.after))
        return (" " + ", ".join(parts)) if parts else ""

    def _with_text(self) -> str:
        return " and ".join(_party("with", self.with_relation, self.with_roles, self.with_qualified,
                                   "a social-work-qualified practitioner"))

    def describe(self, d: "Definition | None" = None) -> str:
        if d is None:
            return f"'{self.fact}' must be recorded{self._qualifiers()}"
        return f"The child's file must show {fact_named(self.fact, d)}{self._recorded(d)}"

    def explain_held(self, ctx: Context) -> str:
        return f"the child's file shows {fact_named(self.fact, ctx.definition)}{self._recorded(ctx.definition)}"

    def explain(self, ctx: Context) -> str:
        d = ctx.definition
        missing = [a.first(d) for a in self.after if a.time(ctx) is None]
        first = f"; {' and '.join(missing)}" if missing else ""
        return f"The child's file does not show {fact_named(self.fact, d)}{self._recorded(d)}{first}"

    def _recorded(self, d: "Definition") -> str:
        """', recorded by the previous lead practitioner, since …': the qualifiers, when there are any."""
        found = self._qualifiers(d)
        return f", recorded{found}" if found else ""

    def _fits_person(self, person: Staff, ctx: Context) -> bool:
        """Whether a fact *person* records now would count (by, by_roles, by_qualified)."""
        if self.by and not _is(person, related_staff(ctx, self.by)):
            return False
        if self.by_roles and not (person.roles & set(self.by_roles)):
            return False
        return not self.by_qualified or person.qualified_on(ctx.day)

    def who_could(self, ctx: Context) -> str:
        with_ = f" {self._with_text()}" if self._with_text() else ""
        command = f"(casework case record {ctx.case.id} {self.fact} --as STAFF ...)"
        first = [a for a in self.after if a.time(ctx) is None]
        if first:
            before = " and ".join(a.first(ctx.definition) for a in first)
            return f"{before[0].upper()}{before[1:]}; then {fact_named(self.fact, ctx.definition)} can be recorded{with_}."
        if ctx.staff is not None:
            able = [p for p in who_may_record(ctx, self.fact) if self._fits_person(p, ctx)]
            if not able:
                return (f"Nobody on the staff list can record {fact_named(self.fact, ctx.definition)}"
                        f"{self._qualifiers(ctx.definition)} now; "
                        f"see 'casework case can {ctx.case.id} --record {self.fact}' for what it needs first.")
            return f"{people_phrase(able)} can record {fact_named(self.fact, ctx.definition)}{with_} {command}."
        return self._who_in_words(ctx, with_, command)

    def _who_in_words(self, ctx: Context, with_: str, command: str) -> str:
        if self.by:
            people = related_staff(ctx, self.by)
            who = (f"{_RELATION_TEXT[self.by]} ({', '.join(p.id for p in people)})" if people
                   else _RELATION_TEXT[self.by])
        elif self.by_roles:
            who = f"a {'registered ' if self.by_qualified else ''}{roles_phrase(self.by_roles)}"
        else:
            spec = ctx.definition.facts.get(self.fact)
            who = clauses_phrase(spec.who, ctx) if spec is not None and spec.who else "someone allocated to the case"
        return f"{who[0].upper()}{who[1:]} must record {fact_named(self.fact, ctx.definition)}{with_} {command}."

    def references(self) -> dict[str, tuple[str, ...]]:
        return merge_refs({"facts": (self.fact,)}, *(a.references() for a in (*self._anchors(), *self.after)))


@register
class LatestFact(Scoped):
    """Of a set of facts, the one recorded last is the one named: 'requested, then completed' reads as
    completed, 'requested, completed, requested again' as requested. Nothing of the set recorded: unmet."""

    kind: Literal["latest_fact"] = "latest_fact"
    #: the facts that succeed one another (e.g. [assessment_requested, assessment_completed])
    of: Annotated[tuple[str, ...], Field(min_length=2, max_length=MANY)]
    #: the one that must be the latest
    is_: str = alias("is")

    def __post_init__(self) -> None:
        if self.is_ not in self.of:
            raise ValueError(f"'is' ({self.is_!r}) must be one of 'of': {', '.join(self.of)}")

    def _latest(self, ctx: Context) -> Fact | None:
        since = self._since(ctx)
        latest = next(newest_facts(ctx.case.facts, self.of, ctx.at), None)
        return latest if latest is not None and (since is None or latest.at >= since) else None

    def holds(self, ctx: Context) -> bool:
        latest = self._latest(ctx)
        return latest is not None and latest.name == self.is_

    def describe(self, d: "Definition | None" = None) -> str:
        others = " or ".join(fact_named(n, d) for n in self.of if n != self.is_)
        if d is None:
            return f"'{self.is_}' must be recorded after the latest {others}"
        return f"The child's file must show {fact_named(self.is_, d)} after the latest {others}"

    def _set(self, d: "Definition") -> str:
        return " and ".join(fact_named(n, d) for n in self.of)

    def explain(self, ctx: Context) -> str:
        latest, d = self._latest(ctx), ctx.definition
        if latest is None:
            return f"The child's file shows none of {self._set(d)}"
        if latest.name == self.is_:
            return f"Of {self._set(d)}, the latest on the child's file is {fact_named(self.is_, d)}"
        return (f"Of {self._set(d)}, the latest on the child's file is {fact_named(latest.name, d)}, "
                f"recorded on {day_of(latest.at)}")

    def who_could(self, ctx: Context) -> str:
        if ctx.staff is not None:
            able = who_may_record(ctx, self.is_)
            if able:
                return (f"{people_phrase(able)} can record {fact_named(self.is_, ctx.definition)} "
                        f"(casework case record {ctx.case.id} {self.is_} ...).")
            return f"Nobody on the staff list can record {fact_named(self.is_, ctx.definition)} now."
        spec = ctx.definition.facts.get(self.is_)
        who = clauses_phrase(spec.who, ctx) if spec is not None else "someone allocated to the case"
        return f"{who[0].upper()}{who[1:]} must record {fact_named(self.is_, ctx.definition)}."

    def explain_held(self, ctx: Context) -> str:
        latest = self._latest(ctx)
        when = f" ({day_words(day_of(latest.at))}, by {latest.by.label})" if latest is not None else ""
        d = ctx.definition
        return f"of {self._set(d)}, the latest on the child's file is {fact_named(self.is_, d)}{when}"

    def undo_who(self, ctx: Context) -> str:
        following = [n for n in self.of if n != self.is_]
        facts = " or ".join(fact_named(n, ctx.definition) for n in following)
        commands = " or ".join(f"casework case record {ctx.case.id} {n} ..." for n in following)
        if ctx.staff is not None:
            able = {p.id: p for n in following for p in who_may_record(ctx, n)}
            if able:
                return f"{people_phrase(able.values())} can record {facts} ({commands})."
        return f"Record {facts} ({commands})."

    def references(self) -> dict[str, tuple[str, ...]]:
        return merge_refs({"facts": self.of}, *(a.references() for a in self._anchors()))


@register
class EventHappened(Scoped):
    """An event has been made on this case before (e.g. the first TAC meeting was held), optionally after an
    anchor (since the current lead took over, say)."""

    kind: Literal["event_happened"] = "event_happened"
    primary = "event"
    event: str

    def holds(self, ctx: Context) -> bool:
        at = ctx.case.markers.get(f"event:{self.event}")
        since = self._since(ctx)
        return at is not None and at <= ctx.at and (since is None or at >= since)

    def describe(self, d: "Definition | None" = None) -> str:
        when = ", ".join(self._since_texts(d))
        if d is None:
            return f"'{self.event}' must have happened on this case first{' ' + when if when else ''}"
        return f"The move {event_named(self.event, d)} must have been made on this case first{' ' + when if when else ''}"

    def who_could(self, ctx: Context) -> str:
        if ctx.staff is not None:
            able = who_may_make(ctx, self.event)
            if able:
                return (f"Make the move {event_named(self.event, ctx.definition)} first "
                        f"(casework case move {ctx.case.id} {self.event} ...): {people_phrase(able)} may.")
        return f"Make the move {event_named(self.event, ctx.definition)} first."

    def references(self) -> dict[str, tuple[str, ...]]:
        return merge_refs({"events": (self.event,)}, *(a.references() for a in self._anchors()))


def with_unmet(ctx: Context, fact: str, with_staff: tuple[Staff, ...]) -> list[Unmet]:
    """The people a fact must be recorded with (its ``with:`` clauses, ``with_qualified``): each clause met by
    someone named with --with other than the recorder. Nobody named at all is a missing argument."""
    spec = ctx.definition.facts[fact]
    clauses: list[ActorClause] = list(spec.with_)
    if spec.with_qualified:
        clauses.append(ActorClause(qualified=True, rules=spec.rules))
    if not clauses:
        return []
    rules = tuple(dict.fromkeys((*(r for c in clauses for r in c.rules), *spec.rules))) or ("WT-7",)
    wanted = clauses_phrase(tuple(clauses), ctx).replace("; or ", "; and ")
    others = tuple(w for w in with_staff if w.id != ctx.actor.id)
    if not others:
        return [Unmet("with", f"Recording {fact_named(fact, ctx.definition)} needs the people taking part: "
                              f"{wanted}", rules,
                      "Name them with --with STAFF (repeatable).", {}, spec.origin, "--with")]
    unmet = []
    for clause in clauses:
        if not any(clause.matches(w, ctx) for w in others):
            able = [p for p in ctx.active_staff() if p.id != ctx.actor.id and clause.matches(p, ctx)]
            who = f" ({people_phrase(able)})" if able else ""
            unmet.append(Unmet("with", f"Recording {fact_named(fact, ctx.definition)} needs "
                                       f"{clause.describe(ctx)}; "
                                       f"named: {', '.join(w.label for w in others)}",
                               tuple(dict.fromkeys((*clause.rules, *spec.rules))) or ("WT-7",),
                               f"Name {clause.describe(ctx)}{who} with --with.", {}, spec.origin))
    return unmet
