"""The domain objects a requirement looks at: staff, recorded facts and the case itself.

They are plain, database-free values so the engine can be used and tested in memory;
``store/`` turns rows into them and back.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable

from .roles import SOCIAL_WORK_ROLES, roles_phrase

__all__ = ["Staff", "Fact", "Case", "holder_roles", "HOLDER_SLOTS", "holder_changes"]

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
        """'ana (community care worker)', as messages name people."""
        return f"{self.id} ({roles_phrase(sorted(self.roles), 'and')})"


@dataclass(frozen=True, slots=True)
class Fact:
    """Something recorded on a case: who, when, with whom, in which state."""

    name: str
    at: datetime
    by: Staff
    with_staff: tuple[Staff, ...] = ()
    note: str = ""
    state: str = ""


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
    facts: list[Fact] = field(default_factory=list)
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


def holder_roles(case: Case) -> frozenset[str]:
    """Roles of whoever holds the case day to day: the lead and any worker."""
    roles: frozenset[str] = frozenset()
    for person in (case.lead, case.worker):
        if person is not None:
            roles |= person.roles
    return roles


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
