"""The requirement registry: named kinds with parameters, never code in YAML.

Each kind is a frozen dataclass (workflow.model) registered under its YAML name. In YAML a
requirement is written compactly, ``- fact_recorded: assessment_approved`` (the value
fills the kind's primary parameter) or ``- fact_recorded: {fact: x, by: supervisor}``,
with optional ``rules:`` (rule IDs) and ``says:`` (the sentence shown to people).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Iterable

from ..model import Model, dump
from ..people import Case, Staff
from ..verdict import Unmet

if TYPE_CHECKING:  # pragma: no cover
    from ..definition import Definition
    from ..schema import Field, RuleIds

__all__ = ["Context", "Requirement", "people_phrase", "NAMED", "REGISTRY", "register", "RULE_ID", "check_rule_ids",
           "MANY",
           "FIRST_DAY", "LAST_DAY"]

#: the dates a definition may name: wide enough for any protocol, narrow enough that the
#: engine's date arithmetic (a day either side, a deadline after) can never overflow
FIRST_DAY, LAST_DAY = date(1990, 1, 1), date(2100, 12, 31)
#: the most items any list of a definition holds (clauses, requirements, roles, teams...): enough for
#: any protocol, and it keeps every verdict, message and the refinement search bounded
MANY = 30

RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*-\d+$")

#: kind name → requirement class; filled by :func:`register`.
REGISTRY: dict[str, type["Requirement"]] = {}


@dataclass(slots=True)
class Context:
    """What a requirement may look at: the case (possibly as proposed), who acts, and when."""

    case: Case
    actor: Staff
    at: datetime
    day: date
    definition: "Definition"
    reason: str | None = None
    #: everyone on the staff list, when the caller has it: "who could" then names the people for whom the
    #: unmet requirement would hold, never someone who would be refused (None: described in words)
    staff: tuple[Staff, ...] | None = None
    #: the case as it stands, when ``case`` is the case as an allocation would leave it
    current: Case | None = None

    @property
    def now_case(self) -> Case:
        """The case as it stands before the action (what someone could do about it now is judged on this)."""
        return self.current or self.case

    def active_staff(self) -> tuple[Staff, ...]:
        """The people still employed on the day, when the caller gave the staff list."""
        return tuple(s for s in self.staff or () if s.active_on(self.day))


#: the most people a "who could" sentence names before saying how many more there are
NAMED = 6


def people_phrase(people: "Iterable[Staff]") -> str:
    """'ana (team manager), bob (service manager)' (at most NAMED, then 'and 3 others')."""
    found = list(people)
    named = ", ".join(p.label for p in found[:NAMED])
    more = len(found) - NAMED
    return f"{named} and {more} other{'s' if more > 1 else ''}" if more > 0 else named


def check_rule_ids(value: tuple[str, ...]) -> tuple[str, ...]:
    """Rule IDs look like 'WT-5' or 'ABC-12'."""
    for rule in value:
        if not RULE_ID.match(rule):
            raise ValueError(f"{rule!r} is not a rule ID such as 'WT-5'")
    return value


class Requirement(Model):
    """Something that must hold before an action. Subclasses implement :meth:`holds`."""

    kind: str = ""
    #: parameter filled by the compact YAML form ``kind: value``
    primary: ClassVar[str | None] = None
    #: the option the person acting must give (e.g. '--reason'): unmet, it is a usage error (exit 2) that writes
    #: nothing, never an audited refusal, and ``case can`` reports it the same way
    argument: ClassVar[str] = ""

    rules: RuleIds = ()
    says: Annotated[str | None, Field(max_length=4000)] = None
    #: name of the definition that added this requirement (set by the loader)
    origin: str = ""


    def holds(self, ctx: Context) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def text(self, d: "Definition | None" = None) -> str:
        """The requirement as a rule a trainer reads: ``says`` or the kind's own sentence (with *d*, naming facts,
        moves, states and deadlines by their titles)."""
        return self.says or self.describe(d)

    def describe(self, d: "Definition | None" = None) -> str:
        """Default sentence for the rule, from the parameters; with *d* (the definition), in plain words: the
        titles of what it names rather than their identifiers."""
        return self.kind.replace("_", " ")

    def explain(self, ctx: Context) -> str:
        """Why it does not hold for this case now; defaults to the rule's sentence."""
        return self.text(ctx.definition)

    def who_could(self, ctx: Context) -> str:
        """Who could make it hold, as a sentence."""
        return ""

    def explain_held(self, ctx: Context) -> str:
        """What holds now, for a rule that says it must not (``none_of``): the kind's sentence by default."""
        return self.describe(ctx.definition)

    def undo_who(self, ctx: Context) -> str:
        """Who could make it stop holding (for ``none_of``); empty when nobody can say."""
        return ""

    def params(self) -> dict[str, Any]:
        """The parameters as written, for JSON output and diagrams."""
        params: dict[str, Any] = dump(self, exclude=("kind", "rules", "says", "origin"), exclude_defaults=True)
        return params

    def all_rules(self) -> tuple[str, ...]:
        """Rule IDs of this requirement and anything nested in it."""
        return self.rules

    def unmet(self, ctx: Context) -> Unmet | None:
        """None when it holds, else the explanation."""
        if self.holds(ctx):
            return None
        return Unmet(self.kind, self.explain(ctx), self.all_rules(), self.who_could(ctx),
                     self.params(), self.origin, self.argument)

    def references(self) -> dict[str, tuple[str, ...]]:
        """Names this requirement refers to, by namespace ('facts', 'teams'), for load-time checks."""
        return {}


def register(cls: type[Requirement]) -> type[Requirement]:
    """Class decorator: make a requirement kind available to definitions."""
    kind = cls.kind
    if not kind or kind in REGISTRY:
        raise TypeError(f"requirement kind {kind!r} is empty or registered twice")
    REGISTRY[kind] = cls
    return cls
