"""A situation the refinement search judges: a case, the people around it, what is recorded, and a day.

Situations are small mutable descriptions (people as profiles, times as days before the
action) that the search changes one dimension at a time; :meth:`Situation.case` and
:meth:`Situation.staff` turn them into the engine's own values, so both protocols are
judged by the real engine, never a model of it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime, time, timedelta
from typing import Literal

from ..clock import LONDON
from ..people import Case, Fact, Staff
from ..roles import SOCIAL_WORK_ROLES, roles_phrase

__all__ = ["Person", "Recorded", "Situation", "Registration", "SLOTS", "OTHER_TEAM"]

Registration = Literal["current", "lapsed", "none"]
#: the relations a person can hold to a case, as situation attributes
SLOTS = ("lead", "supervisor", "worker", "previous_lead")
#: the team of everyone who is not in the case's team
OTHER_TEAM = "Elsewhere"


@dataclass
class Person:
    """A staff profile: roles, Social Work England registration on the day, team and the rest."""

    id: str
    roles: frozenset[str]
    registration: Registration = "none"
    in_case_team: bool = True
    pcf_level: int | None = None
    training: frozenset[str] = frozenset()
    caseload: int = 0

    def staff(self, team: str, day: date) -> Staff:
        return _staff(self.id, self.roles, self.registration, team if self.in_case_team else OTHER_TEAM, day,
                      self.pcf_level, self.training, self.caseload)

    def describe(self) -> str:
        """'P3, a community care worker, not registered, of another team'."""
        registered = {"current": "registered", "lapsed": "registration lapsed",
                      "none": "not registered"}[self.registration]
        if self.registration == "none" and not self.roles & SOCIAL_WORK_ROLES:
            registered = "not registered"
        roles = roles_phrase(sorted(self.roles), "and")
        text = f"{self.id}, {'an' if roles[0] in 'aeiou' else 'a'} {roles}, {registered}"
        text += ", of the case's team" if self.in_case_team else ", of another team"
        if self.pcf_level is not None:
            text += f", PCF level {self.pcf_level}"
        if self.training:
            text += f", trained in {', '.join(sorted(self.training))}"
        if self.caseload:
            text += f", holding {self.caseload} other open cases"
        return text


@dataclass
class Recorded:
    """A fact on the case: recorded *ago* days before the action, by and with people of the situation."""

    name: str
    ago: int
    by: str
    with_ids: tuple[str, ...] = ()
    note: str = "noted"


@dataclass
class Situation:
    """Everything a verdict can look at, for one action on one case."""

    state: str
    team: str
    day: date
    people: dict[str, Person] = field(default_factory=dict)
    actor: str = ""
    lead: str | None = None
    supervisor: str | None = None
    worker: str | None = None
    previous_lead: str | None = None
    former_leads: tuple[str, ...] = ()
    opened_ago: int = 120
    entered_ago: int = 40
    allocated_ago: int = 30
    facts: list[Recorded] = field(default_factory=list)
    #: markers of moves made before (event name → days ago)
    events: dict[str, int] = field(default_factory=dict)
    reason: str | None = "because"
    #: an allocation's proposal: the lead, supervisor and worker after it
    new_lead: str | None = None
    new_supervisor: str | None = None
    new_worker: str | None = None
    #: a recording's note and the people recorded as taking part
    note: str = ""
    with_ids: tuple[str, ...] = ()
    #: the engine's case and staff, built once (not copied by ``replace``; cleared by :meth:`forget`)
    _built: tuple[Case, dict[str, Staff]] | None = field(default=None, init=False, repr=False, compare=False)

    def but(self, **changes: object) -> "Situation":
        """A shallow copy with *changes* (the search makes hundreds of thousands; ``replace`` is slower)."""
        new = object.__new__(Situation)
        new.__dict__.update(self.__dict__)
        new.__dict__.update(changes)
        new._built = None
        return new

    def forget(self) -> None:
        """Drop what was built from this situation, after changing it in place."""
        self._built = None

    def add(self, person: Person) -> str:
        """Add *person* under a fresh id (P1, P2, ...) and return it."""
        person.id = f"P{len(self.people) + 1}"
        while person.id in self.people:
            person.id = f"P{int(person.id[1:]) + 1}"
        self.people[person.id] = person
        return person.id

    @property
    def at(self) -> datetime:
        """When the action is taken: the afternoon of the day."""
        return datetime.combine(self.day, time(14, 0), LONDON)

    def _time(self, ago: int) -> datetime:
        return _ten_o_clock(self.day.toordinal() - ago)

    def staff(self, person_id: str | None) -> Staff | None:
        """The engine's staff member for *person_id* (None for nobody)."""
        return self._build()[1].get(person_id) if person_id is not None else None

    def known(self, person_id: str) -> Staff:
        """The engine's staff member for someone the situation has (the actor, a holder being proposed)."""
        found = self.staff(person_id)
        if found is None:
            raise KeyError(f"{person_id!r} is not in the situation")
        return found

    def case(self) -> Case:
        """The engine's case for this situation (shared by both protocols' verdicts: they never change it)."""
        return self._build()[0]

    def _build(self) -> tuple[Case, dict[str, Staff]]:
        if self._built is None:
            people = {pid: p.staff(self.team, self.day) for pid, p in self.people.items()}
            facts = sorted((Fact(f.name, self._time(f.ago), people[f.by],
                                 tuple(people[w] for w in f.with_ids if w in people), f.note, self.state)
                            for f in self.facts if f.by in people), key=lambda f: f.at)
            markers: dict[str, datetime] = {f"entered:{self.state}": self._time(self.entered_ago)}
            if self.lead is not None:
                markers["event:allocate"] = self._time(self.allocated_ago)
            for name, ago in self.events.items():
                markers[f"event:{name}"] = self._time(ago)
            for f in facts:
                markers[f"fact:{f.name}"] = max(f.at, markers.get(f"fact:{f.name}", f.at))
            case = Case("C-1", "", self.team, self.state, 1, self._time(self.opened_ago),
                        self._time(self.entered_ago), self._time(self.allocated_ago) if self.lead else None,
                        people.get(self.lead or ""), people.get(self.supervisor or ""), people.get(self.worker or ""),
                        people.get(self.previous_lead or ""), self.former_leads, facts, markers)
            self._built = (case, people)
        return self._built

    def normalise(self) -> "Situation":
        """Keep times in order (opened, then state entered and allocated), after changes in place."""
        self.forget()
        self.entered_ago = min(self.entered_ago, self.opened_ago)
        self.allocated_ago = min(self.allocated_ago, self.opened_ago)
        for f in self.facts:
            f.ago = min(f.ago, self.opened_ago)
        return self

    def describe(self, national_states: dict[str, str] | None = None) -> list[str]:
        """The situation in sentences a practice lead can check against the protocols."""
        lines = [f"case C-1 of team {self.team!r}, in state {self.state!r} for {self.entered_ago} days, "
                 f"on {self.day:%a %d %b %Y}; " + (f"reason given: {self.reason!r}" if self.reason else "no reason given")]
        named = {self.actor}
        lines.append(f"acting: {self._who(self.actor)}")
        for slot in SLOTS:
            person = getattr(self, slot)
            if person is not None:
                named.add(person)
                lines.append(f"{slot.replace('_', ' ')}: {self._who(person)}")
        if self.former_leads:
            lines.append(f"led the case before: {', '.join(self.former_leads)}")
        for slot in ("new_lead", "new_supervisor", "new_worker"):
            person = getattr(self, slot)
            if person is not None:
                named.add(person)
                lines.append(f"proposed {slot[4:]}: {self._who(person)}")
        if self.note or self.with_ids:
            lines.append(f"recording with note {self.note!r}" + (f" and with {', '.join(map(self._who, self.with_ids))}"
                                                                  if self.with_ids else ""))
        for f in sorted(self.facts, key=lambda f: f.ago):
            withs = f" with {', '.join(f.with_ids)}" if f.with_ids else ""
            lines.append(f"recorded {f.ago} days ago: {f.name!r} by {f.by}{withs}")
            named.update((f.by, *f.with_ids))
        for name, ago in sorted(self.events.items()):
            lines.append(f"{name!r} was made {ago} days ago")
        for pid in sorted(named - {self.actor, None} - set(getattr(self, s) for s in SLOTS)):
            if pid in self.people and not any(pid == getattr(self, s) for s in ("new_lead", "new_supervisor", "new_worker")):
                lines.append(f"also: {self.people[pid].describe()}")
        return lines

    def _who(self, person_id: str | None) -> str:
        if person_id is None or person_id not in self.people:
            return "nobody"
        return self.people[person_id].describe()


@lru_cache(maxsize=8192)
def _staff(pid: str, roles: frozenset[str], registration: Registration, team: str, day: date, pcf_level: int | None,
           training: frozenset[str], caseload: int) -> Staff:
    """The engine's staff member for a profile (the search builds the same ones over and over)."""
    number = None if registration == "none" else f"SW-{pid}"
    until = day - timedelta(days=1) if registration == "lapsed" else None
    return Staff(pid, pid, roles, team, number, until, pcf_level, training, caseload)


@lru_cache(maxsize=4096)
def _ten_o_clock(ordinal: int) -> datetime:
    return datetime.combine(date.fromordinal(ordinal), time(10, 0), LONDON)

