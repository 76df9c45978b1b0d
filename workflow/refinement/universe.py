"""The values worth trying: every role and registration, and the teams, dates and names the protocols mention.

A requirement can only tell situations apart by values it looks at, so the search
draws teams from ``in_teams``, action days from either side of each ``within_dates``
boundary, training, PCF levels and caseloads from the requirements that name them, and
fact and event names from everything either protocol refers to.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import product
from typing import Iterable, Iterator

from ..definition import Definition
from ..requirements import Requirement
from ..requirements.base import FIRST_DAY, LAST_DAY
from ..requirements.facts import EventHappened, FactRecorded
from ..requirements.lead import CaseloadWithin, LeadHasTraining, LeadPcfLevel
from ..requirements.logic import AnyOf, NoneOf
from ..requirements.scope import InTeams, NotOverdue, WithinDates
from ..roles import ROLES
from .situation import Person, Registration

__all__ = ["Universe", "requirements_of"]

#: the case's team when no requirement names one
HOME_TEAM = "Home team"
#: an ordinary Monday, outside every trial window of the shipped protocols but near none
BASE_DAY = date(2025, 6, 2)
REGISTRATIONS: tuple[Registration, ...] = ("current", "lapsed", "none")


def _flatten(requirements: Iterable[Requirement]) -> Iterator[Requirement]:
    for r in requirements:
        yield r
        if isinstance(r, (AnyOf, NoneOf)):
            yield from _flatten(r.options)


def requirements_of(d: Definition) -> list[Requirement]:
    """Every requirement of *d*, nested ones included."""
    found: list[Requirement] = [*d.allocation.requires]
    for ev in d.events.values():
        found += ev.requires
    for policy in (*d.allocation.leads, *d.allocation.workers):
        found += policy.requires
    return list(_flatten(found))


def _clamp(day: date) -> date:
    return min(max(day, FIRST_DAY), LAST_DAY)


@dataclass(frozen=True)
class Universe:
    """The finite sets each dimension of a situation is drawn from."""

    teams: tuple[str, ...]
    days: tuple[date, ...]
    training: frozenset[str]
    pcf_levels: tuple[int | None, ...]
    caseloads: tuple[int, ...]
    facts: tuple[str, ...]
    events: tuple[str, ...]

    @classmethod
    def of(cls, *definitions: Definition) -> "Universe":
        teams: dict[str, None] = {HOME_TEAM: None}
        days: dict[date, None] = {BASE_DAY: None}
        training: set[str] = set()
        levels: dict[int | None, None] = {None: None, 1: None, 2: None}
        caseloads: dict[int, None] = {0: None}
        facts: dict[str, None] = {}
        events: dict[str, None] = {}
        for d in definitions:
            facts.update(dict.fromkeys(d.facts))
            for r in requirements_of(d):
                if isinstance(r, InTeams):
                    teams.update(dict.fromkeys(r.teams))
                elif isinstance(r, WithinDates):
                    for edge in (r.start, r.end):
                        if edge is not None:
                            days.update(dict.fromkeys(_clamp(edge + timedelta(days=k)) for k in (-1, 0, 1)))
                elif isinstance(r, LeadHasTraining):
                    training.update(r.training)
                elif isinstance(r, LeadPcfLevel):
                    levels.update(dict.fromkeys((r.minimum - 1 or None, r.minimum, r.maximum, r.maximum + 1)))
                elif isinstance(r, CaseloadWithin):
                    levels.update(dict.fromkeys(r.caps))
                    caseloads.update(dict.fromkeys(c for cap in r.caps.values() for c in (cap - 1, cap) if c >= 0))
                elif isinstance(r, EventHappened):
                    events[r.event] = None
                elif isinstance(r, NotOverdue) and r.deadline in d.deadlines:
                    dl = d.deadlines[r.deadline]
                    events.update(dict.fromkeys(m.event for m in (dl.start, *dl.met_by) if m.event))
                elif isinstance(r, FactRecorded):
                    facts[r.fact] = None
        return cls(tuple(teams), tuple(sorted(days)), frozenset(training), tuple(levels), tuple(sorted(caseloads)),
                   tuple(facts), tuple(e for e in events if e != "allocate"))

    def profiles(self, with_teams: bool = True) -> Iterator[Person]:
        """Every role with every registration (and in or out of the case's team): one person each."""
        teams = (True, False) if with_teams else (True,)
        for role, registration, in_team in product(ROLES, REGISTRATIONS, teams):
            yield Person("", frozenset({role}), registration, in_team)
