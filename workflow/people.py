"""The domain objects a requirement looks at: staff, recorded facts and the case itself.

They are plain, database-free values so the engine can be used and tested in memory;
``store/`` turns rows into them and back.
"""
from __future__ import annotations

from functools import lru_cache
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable, Collection, Iterable, Iterator, Mapping, Sequence, overload

from .roles import SOCIAL_WORK_ROLES, roles_phrase

__all__ = ["Staff", "Fact", "FactLog", "Case", "holder_roles", "HOLDER_SLOTS", "handed_over", "holder_changes",
           "newest_facts", "markers_after"]

#: the places a person holds a case in
HOLDER_SLOTS = ("lead", "supervisor", "worker")


@dataclass(frozen=True, slots=True)
class Staff:
    """A person who may act on cases. Qualification depends on the date (registration lapses)."""

    id: str
    name: str
    roles: frozenset[str]
    team: str | None = None
    registration: str | None = None
    registered_until: date | None = None
    pcf_level: int | None = None
    training: frozenset[str] = frozenset()
    #: open cases this person holds as lead or worker (filled in when allocating)
    caseload: int = 0
    #: the database login that authenticates as this person on a shared store (workflow.identity)
    login: str | None = None
    #: the last day of their employment: from the day after, they neither act nor hold cases
    left_on: date | None = None

    def active_on(self, day: date) -> bool:
        """Still employed on *day*."""
        return self.left_on is None or day <= self.left_on

    def qualified_on(self, day: date) -> bool:
        """Social-work-qualified on *day*: a social work role and a current SWE registration, while employed."""
        if not self.registration or not (self.roles & SOCIAL_WORK_ROLES) or not self.active_on(day):
            return False
        return self.registered_until is None or day <= self.registered_until

    @property
    def label(self) -> str:
        """'Ana Lima (community care worker, ana)', as refusals and who-could sentences name people: by name, with
        the id a command's --as takes (just 'ana (community care worker)' for someone named by their id)."""
        roles = roles_phrase(sorted(self.roles), "and")
        return f"{self.name} ({roles}, {self.id})" if self.name and self.name != self.id else f"{self.id} ({roles})"

    @property
    def named(self) -> str:
        """'Ana Lima (community care worker)', as a sentence addressed to people names them."""
        return _named(self.name or self.id, self.roles)


@dataclass(frozen=True, slots=True)
class Fact:
    """Something recorded on a case: who, when, with whom, in which state."""

    name: str
    at: datetime
    by: Staff
    with_staff: tuple[Staff, ...] = ()
    note: str = ""
    state: str = ""


class FactLog(Sequence[Fact]):
    """A stored case's facts, oldest first: the latest of each name read with the case, the rest only when a
    question goes past them (:func:`newest_facts`) or something reads them all (``show``), so that judging an
    action costs the same at 10 facts as at 10,000."""

    __slots__ = ("_latest", "_load", "_all")

    def __init__(self, latest: Iterable[Fact], load: Callable[[Collection[str] | None], list[Fact]]):
        #: the latest fact of each name (ties: all of them), oldest first
        self._latest = sorted(latest, key=lambda f: f.at)
        #: every fact of the names given (None: of every name), oldest first
        self._load = load
        self._all: list[Fact] | None = None

    def _everything(self) -> list[Fact]:
        if self._all is None:
            self._all = self._load(None)
        return self._all

    def __len__(self) -> int:
        return len(self._everything())

    @overload
    def __getitem__(self, index: int) -> Fact: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Fact]: ...

    def __getitem__(self, index: int | slice) -> Fact | Sequence[Fact]:
        return self._everything()[index]

    def __iter__(self) -> Iterator[Fact]:
        return iter(self._everything())

    def __reversed__(self) -> Iterator[Fact]:
        return reversed(self._everything())

    def newest(self, names: Collection[str], until: datetime) -> Iterator[Fact]:
        """The facts of *names* recorded as at *until* or before, the latest first."""
        if self._all is not None:
            yield from _newest_in(self._all, names, until)
            return
        latest = [f for f in self._latest if f.name in names]
        if not latest:
            return  # the latest of each name is kept: none of these names was ever recorded
        if latest[-1].at > until:  # a later fact stands in front of what stood then
            yield from _newest_in(self._load(names), names, until)
            return
        first = latest[-1]
        yield first
        skipped = False
        for fact in _newest_in(self._load(names), names, until):  # only if the question goes on
            if not skipped and fact == first:
                skipped = True
                continue
            yield fact

    def plus(self, fact: Fact) -> "FactLog":
        """The log with *fact* added (after it was written)."""
        log = FactLog([f for f in self._latest if f.name != fact.name or f.at >= fact.at] +
                      ([fact] if all(f.at <= fact.at for f in self._latest if f.name == fact.name) else []),
                      self._load)
        if self._all is not None:
            log._all = sorted([*self._all, fact], key=lambda f: f.at)
        return log


def _newest_in(facts: Sequence[Fact], names: Collection[str], until: datetime) -> Iterator[Fact]:
    return (f for f in reversed(facts) if f.name in names and f.at <= until)


def newest_facts(facts: Sequence[Fact], names: Collection[str], until: datetime) -> Iterator[Fact]:
    """The facts of *names* recorded as at *until* or before, the latest first: how every requirement asks."""
    if isinstance(facts, FactLog):
        return facts.newest(names, until)
    return _newest_in(facts, names, until)


@dataclass(slots=True)
class Case:
    """A case as the engine sees it. ``state`` is the attribute the shared machine drives."""

    id: str
    policy: str
    team: str
    state: str
    version: int = 0
    opened_at: datetime | None = None
    state_entered_at: datetime | None = None
    allocated_at: datetime | None = None
    lead: Staff | None = None
    supervisor: Staff | None = None
    worker: Staff | None = None
    #: the lead before the latest reallocation (a handover's outgoing practitioner)
    previous_lead: Staff | None = None
    #: ids of everyone who led the case before, most recent first
    former_leads: tuple[str, ...] = ()
    #: oldest first; from the store a FactLog, which reads only what a question needs
    facts: Sequence[Fact] = field(default_factory=list)
    #: latest time of each marker ('entered:<state>', 'event:<name>', 'fact:<name>'), for deadlines
    markers: dict[str, datetime] = field(default_factory=dict)
    #: digest of the protocol version the case runs under (None: opened before versions were kept)
    policy_digest: str | None = None
    #: when each slot ('lead', 'supervisor', 'worker') last changed hands (absent: never held). While an
    #: allocation is judged the proposed case keeps the times before it: evidence "since the lead changed"
    #: means since the current lead took over
    holder_since: dict[str, datetime] = field(default_factory=dict)
    #: when the holder before the current one took each slot (absent: nobody did): what ``holder_since`` becomes
    #: while an allocation that keeps the slot's holder is judged, so it is judged on the evidence it was given on
    holder_prior: dict[str, datetime] = field(default_factory=dict)

    def allocated(self) -> tuple[Staff, ...]:
        """Everyone currently allocated: lead, supervisor and worker."""
        return tuple(s for s in (self.lead, self.supervisor, self.worker) if s is not None)

    def holders(self) -> dict[str, Staff | None]:
        """The lead, supervisor and worker, by slot (None where nobody holds it)."""
        return {"lead": self.lead, "supervisor": self.supervisor, "worker": self.worker}

    def holding(self, relation: str) -> tuple[Staff, ...]:
        """Who stands in *relation* to the case: 'lead', 'supervisor', 'worker' or 'previous_lead' (one person
        or nobody), or 'allocated' (everyone allocated). The one lookup every requirement and clause uses."""
        if relation == "allocated":
            return self.allocated()
        person = {**self.holders(), "previous_lead": self.previous_lead}[relation]
        return (person,) if person is not None else ()


def markers_after(markers: dict[str, datetime], happened: dict[str, datetime]) -> dict[str, datetime]:
    """The markers after these things happened: a marker only ever moves forward (as the store keeps them)."""
    return {**markers, **{k: max(v, markers.get(k, v)) for k, v in happened.items()}}


def holder_roles(case: Case) -> frozenset[str]:
    """Roles of whoever holds the case day to day: the lead and any worker."""
    roles: frozenset[str] = frozenset()
    for person in (case.lead, case.worker):
        if person is not None:
            roles |= person.roles
    return roles


def handed_over(case: Case, ids: Mapping[str, str | None]) -> dict[str, str | None]:
    """The slots an allocation of *ids* (``lead_id``, ``supervisor_id``, ``worker_id``) gives to someone other
    than holds them now: slot → who takes it (None: the slot is left empty)."""
    held = {"lead": case.lead, "supervisor": case.supervisor, "worker": case.worker}
    return {slot: ids[f"{slot}_id"] for slot, was in held.items() if (was.id if was else None) != ids[f"{slot}_id"]}


def holder_changes(allocations: "Iterable[tuple[datetime, str | None, str | None, str | None]]"
                   ) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """When each slot last changed hands, and when the change before that was, from the case's allocations
    (at, lead, supervisor, worker), oldest first."""
    since: dict[str, datetime] = {}
    prior: dict[str, datetime] = {}
    held: dict[str, str | None] = {slot: None for slot in HOLDER_SLOTS}
    for at, *people in allocations:
        for slot, person in zip(HOLDER_SLOTS, people, strict=False):
            if person != held[slot]:
                held[slot] = person
                if slot in since:
                    prior[slot] = since[slot]
                since[slot] = at
    return since, prior


@lru_cache(maxsize=4096)
def _named(name: str, roles: frozenset[str]) -> str:
    """Staff.named, made once per person (every verdict carries it)."""
    return f"{name} ({roles_phrase(sorted(roles), 'and')})"
