"""The validated, immutable form of a protocol definition (after ``extends`` is resolved).

The engine, the diagrams and the handbook all read this form; none of them reparses YAML. Its
classes are plain frozen dataclasses (workflow.model); workflow.schema validates them.
"""
from __future__ import annotations

from dataclasses import field
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Iterable, Literal

from .calendar import WorkingCalendar, calendar_for
from .catalogue import NATIONAL
from .deadlines import DeadlineDef, due_for_case
from .model import Model, alias
from .people import Case, holder_roles
from .requirements import ActorClause, Requirement, clauses_phrase
from .requirements.base import MANY

if TYPE_CHECKING:  # pragma: no cover
    from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo

    from .schema import Day, Name, ReasonCode, RequirementItem, Role, RuleId, RuleIds, Text

__all__ = ["StateDef", "EventDef", "FactDef", "HolderPolicy", "AllocationDef", "RuleDef", "StaffChangeDef",
           "StaffDef", "STAFF_CHANGES", "Definition", "Path", "is_local", "ClosureReason"]

Path = Literal["cin", "cp", "none"]


def is_local(origin: str, base: str) -> bool:
    """Whether an item stamped *origin* was added or tightened by a local protocol, not its *base*."""
    return bool(origin) and origin != base


def _as_tuple(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


def _no_case_terms(value: tuple[ActorClause, ...]) -> tuple[ActorClause, ...]:
    for clause in value:
        if clause.relation is not None or clause.team is not None:
            raise ValueError("a staff change concerns no case: give roles and 'qualified' only "
                             "(no 'relation' or 'team')")
    return value


def _version_text(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("give the version as a number or a short text, e.g. 'version: 2'")
    return str(value)


def _dates_in_order(value: date | None, info: ValidationInfo) -> date | None:
    start = info.data.get("effective_from")
    if value is not None and start is not None and value < start:
        raise ValueError(f"effective_until ({value}) is before effective_from ({start}); give the last day "
                         f"the version is in effect, on or after its first")
    return value


class StateDef(Model):
    """A stage of the case. ``path`` says whether it is Child in Need or child protection."""

    title: str = ""
    description: str = ""
    path: Path = "cin"
    open: bool = True
    initial: bool = False
    rules: RuleIds = ()
    origin: str = ""


class EventDef(Model):
    """A move: from which states to which, who may make it and what must hold first."""

    title: str = ""
    description: str = ""
    sources: Annotated[tuple[str, ...], BeforeValidator(_as_tuple), Field(max_length=MANY)] = alias("from")
    to: str
    who: Annotated[tuple[ActorClause, ...], Field(min_length=1, max_length=MANY)]
    requires: Annotated[tuple[RequirementItem, ...], Field(max_length=MANY)] = ()
    rules: RuleIds = ()
    origin: str = ""

    def who_text(self) -> str:
        """'a registered team manager; or the case's lead practitioner'."""
        return clauses_phrase(self.who)


class FactDef(Model):
    """Something that can be recorded on a case, who may record it, and what note it needs."""

    title: str = ""
    description: str = ""
    who: Annotated[tuple[ActorClause, ...], Field(min_length=1, max_length=MANY)]
    #: the note is the rationale and must be given (e.g. management oversight)
    note_required: bool = False
    #: the note must be one of these (e.g. the in-scope reasons of a protocol)
    choices: Annotated[tuple[str, ...], Field(max_length=MANY)] = ()
    #: someone recorded as taking part (--with) must be social-work-qualified (a joint visit)
    with_qualified: bool = False
    #: the people it is recorded with (--with): each clause is met by someone named other than the recorder,
    #: e.g. the case's keyworker and a PS/PE for a student's task under direct supervision (STO-7)
    with_: Annotated[tuple[ActorClause, ...], Field(max_length=MANY)] = alias("with", default=())
    #: what must hold before it may be recorded: order ("the decision first") and conditions, as for events
    requires: Annotated[tuple[RequirementItem, ...], Field(max_length=MANY)] = ()
    rules: RuleIds = ()
    origin: str = ""

    def who_text(self) -> str:
        """Who may record it, in words."""
        return clauses_phrase(self.who)


class HolderPolicy(Model):
    """Who may hold a case as lead (or worker), on which path, and under what conditions."""

    roles: Annotated[tuple[Role, ...], Field(min_length=1, max_length=MANY)]
    paths: tuple[Literal["cin", "cp"], ...] = ("cin",)
    requires: Annotated[tuple[RequirementItem, ...], Field(max_length=MANY)] = ()
    #: conditions that must keep holding while this holder holds the case (checked at allocation too): on the
    #: day one stops holding, ``due`` lists the case for reallocation or review
    keeps: Annotated[tuple[RequirementItem, ...], Field(max_length=MANY)] = ()
    rules: RuleIds = ()
    says: str = ""
    origin: str = ""


class AllocationDef(Model):
    """How a case gets and changes its lead practitioner, supervisor and worker."""

    #: who may allocate or change the lead practitioner or the supervisor
    who: Annotated[tuple[ActorClause, ...], Field(min_length=1, max_length=MANY)]
    leads: Annotated[tuple[HolderPolicy, ...], Field(min_length=1, max_length=MANY)]
    supervisors: Annotated[tuple[ActorClause, ...], Field(max_length=MANY)] = ()
    workers: Annotated[tuple[HolderPolicy, ...], Field(max_length=MANY)] = ()
    #: who may change only the co-allocated worker (default: ``who``); a worker is a local addition,
    #: so this is the protocol's own choice (e.g. a student's practice educator, STO-2)
    workers_who: Annotated[tuple[ActorClause, ...], Field(max_length=MANY)] = ()
    requires: Annotated[tuple[RequirementItem, ...], Field(max_length=MANY)] = ()
    rules: RuleIds = ()

    def who_text(self) -> str:
        """Who may allocate, in words."""
        return clauses_phrase(self.who)

    def supervisors_text(self) -> str:
        """Who may supervise, in words."""
        return clauses_phrase(self.supervisors)


#: the kinds of change to the staff list, each governed by the definition's ``staff:`` section
STAFF_CHANGES = ("add", "roles", "registration", "team", "login", "leave")


class StaffChangeDef(Model):
    """Who may make one kind of change to the staff list, and the sentence a refusal gives."""

    who: Annotated[tuple[ActorClause, ...], Field(min_length=1, max_length=MANY), AfterValidator(_no_case_terms)]
    #: why the change is restricted, in a sentence (refusals and the handbook quote it)
    says: Text
    rules: RuleIds = ()
    origin: str = ""

    def who_text(self) -> str:
        """'a registered team manager or service manager'."""
        return clauses_phrase(self.who)


class StaffDef(Model):
    """Who may add people, change their roles, registration, team or login, and record that they left."""

    add: StaffChangeDef
    #: roles, PCF level and completed training: what decides the cases a person may hold
    roles: StaffChangeDef
    #: recording, renewing or ending a Social Work England registration
    registration: StaffChangeDef
    team: StaffChangeDef
    #: the database login that authenticates as the person on a shared store
    login: StaffChangeDef
    leave: StaffChangeDef

    def change(self, kind: str) -> StaffChangeDef:
        """The rules for one kind of change (one of STAFF_CHANGES)."""
        change: StaffChangeDef = getattr(self, kind)
        return change


class RuleDef(Model):
    """A rule the definition cites: what it means, and the words of the source document that say so."""

    #: the rule in plain English, one or two sentences
    says: Text
    #: a short passage copied verbatim from the source document ("…" marks an elision)
    quote: Text
    #: the document quoted: title, author or publisher, and date
    source: Text
    origin: str = ""


class ClosureReason(Model):
    """Why a case ends, coded as the protocol reports it (national uses the CIN census's RC1 to RC9):
    what ``case close`` records, and which of the protocol's ended states the case goes to."""

    title: Text
    #: the state a case closed for this reason goes to: one that is not open
    to: Name = "closed"


class Definition(Model):
    """A whole protocol: states, events, facts and allocation rules, with provenance."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]
    version: Annotated[str, BeforeValidator(_version_text), Field(min_length=1, max_length=64)]
    title: str = ""
    source: str = ""
    description: str = ""
    extends: str | None = None
    states: Annotated[dict[Name, StateDef], Field(min_length=1, max_length=60)]
    events: Annotated[dict[Name, EventDef], Field(min_length=1, max_length=100)]
    facts: Annotated[dict[Name, FactDef], Field(max_length=100)] = field(default_factory=dict)
    allocation: AllocationDef
    #: who may change the staff list (the store's staff protocol applies it, workflow.staffing)
    staff: StaffDef
    deadlines: Annotated[dict[Name, DeadlineDef], Field(max_length=60)] = field(default_factory=dict)
    #: the reasons a case may be closed for, by code (``case close CASE CODE``)
    closure_reasons: Annotated[dict[ReasonCode, ClosureReason], Field(max_length=50)] = field(default_factory=dict)
    #: every rule ID cited anywhere in the definition, declared once (a local protocol adds its own)
    rulebook: Annotated[dict[RuleId, RuleDef], Field(max_length=200)] = field(default_factory=dict)
    #: how many calendar days in the past a move or fact may be dated (`--at`); audited as back-dated.
    #: A local protocol may shorten its base's window, never lengthen it.
    backdate_days: Annotated[int, Field(ge=0, le=366, strict=True)] = 30
    #: local closure days that are not working days (e.g. a Christmas shutdown); they count for the
    #: protocol's own deadlines only, never for national ones (WT-6 counts weekends and bank holidays)
    closures: Annotated[tuple[Day, ...], Field(max_length=1000)] = ()
    #: the first day new cases open under this version (a protocol's earlier versions sit in versions/)
    effective_from: Day | None = None
    #: the last day of a trial or pilot: from the day after, no new case opens under it, and its open
    #: cases show in ``due`` as needing migration to the version that follows
    effective_until: Annotated[Day | None, AfterValidator(_dates_in_order)] = None
    #: sha256 of the resolved definition: audit entries name exactly what was enforced
    digest: str = ""
    #: files read to build it, base first
    files: tuple[str, ...] = ()
    #: definition names base first (national, then the local protocol)
    lineage: tuple[str, ...] = ()

    def in_effect_on(self, day: date) -> bool:
        """Whether new cases may open under this version on *day*."""
        return (self.effective_from is None or self.effective_from <= day) and \
            (self.effective_until is None or day <= self.effective_until)

    def calendar_of(self, deadline: DeadlineDef) -> WorkingCalendar:
        """The working days *deadline* counts: a national deadline skips weekends and England bank
        holidays only (WT-6), so a local closure list can never lengthen it; the protocol's own
        deadlines also skip its closures."""
        return calendar_for(() if deadline.origin == NATIONAL else self.closures)

    def overdue(self, deadline: str, case: Case, day: date) -> bool:
        """Whether this protocol's *deadline* is overdue on *case* on *day* (the requirement not_overdue asks
        the definition, which knows its deadlines and calendars, rather than computing due dates itself)."""
        if deadline not in self.deadlines:
            return False
        items = due_for_case(case.id, case.team, case.state, case.markers, {deadline: self.deadlines[deadline]},
                             self.calendar_of, day, holder_roles(case))
        return any(i.overdue for i in items)

    @cached_property
    def deadline_markers(self) -> frozenset[str]:
        """Every marker a deadline starts from or is met by: a change to any other leaves every due date as it
        was (so recording such a fact need not re-make the case's kept due dates)."""
        return frozenset(m.key() for dl in self.deadlines.values() for m in (dl.start, *dl.met_by)
                         if m.day is None)

    @cached_property
    def named_teams(self) -> dict[str, tuple[str, ...]]:
        """The teams the protocol's rules name (a pilot's, a trial's), each with the rule IDs that name it: those
        rules hold only for cases of a team of exactly that name."""
        found: dict[str, tuple[str, ...]] = {}
        for _, r in self.requirements():
            for team in r.references().get("teams", ()):
                found[team] = tuple(dict.fromkeys((*found.get(team, ()), *r.all_rules())))
        return found

    def stages_phrase(self, states: "Iterable[str]") -> str:
        """'Referral, Single assessment or Child in Need plan': states by their titles (a name it lacks as given)."""
        titles = [(self.states[s].title if s in self.states else "") or s for s in states]
        return ", ".join(titles[:-1]) + " or " + titles[-1] if len(titles) > 1 else "".join(titles)

    @property
    def initial(self) -> str:
        """The state every case starts in."""
        return next(name for name, s in self.states.items() if s.initial)

    def events_from(self, state: str) -> list[tuple[str, EventDef]]:
        """The events that can leave *state*, in definition order."""
        return [(n, e) for n, e in self.events.items() if state in e.sources]

    def requirements(self) -> list[tuple[tuple[Any, ...], Requirement]]:
        """Every requirement with its path in the resolved definition (for checks)."""
        found: list[tuple[tuple[Any, ...], Requirement]] = []
        for name, ev in self.events.items():
            found += [(("events", name, "requires", i), r) for i, r in enumerate(ev.requires)]
        alloc = self.allocation
        found += [(("allocation", "requires", i), r) for i, r in enumerate(alloc.requires)]
        for key, policies in (("leads", alloc.leads), ("workers", alloc.workers)):
            for j, pol in enumerate(policies):
                found += [(("allocation", key, j, "requires", i), r) for i, r in enumerate(pol.requires)]
                found += [(("allocation", key, j, "keeps", i), r) for i, r in enumerate(pol.keeps)]
        for name, fact in self.facts.items():
            found += [(("facts", name, "requires", i), r) for i, r in enumerate(fact.requires)]
        return found
