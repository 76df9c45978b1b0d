"""Exploring situations for one action: where does the local protocol allow what national refuses?

For each action the search judges random situations, then builds *witnesses*
(situations the local protocol allows, reached by repairing what it refuses) and
sweeps every dimension around each one: the person acting as every role, registered,
lapsed or not, in or out of the case's team, holding each relation to the case; each
holder as every role and registration; every team, action day and state; each fact
present or absent, earlier or later, recorded by someone else; a reason given or not.
A loosening shows as a neighbour the local protocol still allows and national refuses;
the first one found is shrunk to the fewest facts and people that still show it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from random import Random
from typing import Iterator

from ..verdict import Verdict
from .actions import Action, Allocation, Recording
from .situation import SLOTS, Person, Situation
from .universe import REGISTRATIONS, Universe

__all__ = ["Found", "explore"]


@dataclass
class Found:
    """A situation where the local protocol allows the action and national refuses it."""

    action: Action
    situation: Situation
    national: Verdict


class _Judge:
    """Counts situations and compares the two verdicts."""

    def __init__(self, action: Action):
        self.action = action
        self.explored = 0

    def allows(self, sit: Situation) -> bool:
        self.explored += 1
        return self.action.local(sit).allowed

    def loosened(self, sit: Situation) -> Found | None:
        if not self.allows(sit):
            return None
        verdict = self.action.national(sit)
        return Found(self.action, sit, verdict) if verdict is not None and not verdict.allowed else None


def _with_person(sit: Situation, pid: str, person: Person) -> Situation:
    return sit.but(people={**sit.people, pid: replace(person, id=pid)})


def _slots(action: Action) -> tuple[str, ...]:
    return (*SLOTS, "new_lead", "new_supervisor", "new_worker") if isinstance(action, Allocation) else SLOTS


def _neighbours(sit: Situation, action: Action, universe: Universe, rng: Random) -> Iterator[Situation]:
    profiles = list(universe.profiles())
    newcomer = next(f"P{k}" for k in range(len(sit.people) + 1, 10 * len(sit.people) + 2) if f"P{k}" not in sit.people)
    # the person acting: anyone at all, with no relation to the case ...
    for p in profiles:
        yield _with_person(sit, newcomer, p).but(actor=newcomer)
    # ... or the holder of each relation, as every role and registration
    for slot in _slots(action):
        holder = getattr(sit, slot)
        if holder is not None:
            for p in universe.profiles(with_teams=False):
                moved = _with_person(sit, holder, p).but(actor=holder)
                yield moved
    # each holder as every role and registration, or nobody
    for slot in _slots(action):
        for p in universe.profiles(with_teams=False):
            changed = _with_person(sit, newcomer, p)
            yield changed.but(**{slot: newcomer})
        if getattr(sit, slot) is not None:
            yield sit.but(**{slot: None})
    # everyone's other attributes
    for pid, person in sit.people.items():
        for registration in REGISTRATIONS:
            yield _with_person(sit, pid, replace(person, registration=registration))
        yield _with_person(sit, pid, replace(person, in_case_team=not person.in_case_team))
        for level in universe.pcf_levels:
            yield _with_person(sit, pid, replace(person, pcf_level=level))
        for load in universe.caseloads:
            yield _with_person(sit, pid, replace(person, caseload=load))
        yield _with_person(sit, pid, replace(person, training=frozenset()))
    # where and when
    for team in universe.teams:
        yield sit.but(team=team)
    for day in universe.days:
        yield sit.but(day=day)
    for state in action.national_def.states:
        yield sit.but(state=state)
    yield sit.but(reason=None)
    yield sit.but(former_leads=())
    yield sit.but(entered_ago=0)
    yield sit.but(allocated_ago=0)
    # what is recorded
    for i, fact in enumerate(sit.facts):
        rest = sit.facts[:i] + sit.facts[i + 1:]
        yield sit.but(facts=rest)
        for ago in (sit.entered_ago + 1, sit.allocated_ago + 1):
            if ago <= sit.opened_ago:
                yield sit.but(facts=[*rest, replace(fact, ago=ago)])
        for pid in sit.people:
            yield sit.but(facts=[*rest, replace(fact, by=pid)])
        yield sit.but(facts=[*rest, replace(fact, with_ids=())])
    for event in sit.events:
        yield sit.but(events={k: v for k, v in sit.events.items() if k != event})
    if isinstance(action, Recording):
        for note in ("", "noted", *action.national_def.facts[action.fact].choices):
            yield sit.but(note=note)
        yield sit.but(with_ids=())
    if isinstance(action, Allocation):
        if sit.lead is not None:
            yield sit.but(new_lead=sit.lead)
        yield sit.but(new_supervisor=sit.supervisor)
        yield sit.but(new_worker=sit.worker)


def _minimise(found: Found, judge: _Judge) -> Found:
    """The same loosening with as few facts, events and people as still show it."""
    sit = found.situation
    changed = True
    while changed:
        changed = False
        candidates = [sit.but(facts=sit.facts[:i] + sit.facts[i + 1:]) for i in range(len(sit.facts))]
        candidates += [sit.but(events={k: v for k, v in sit.events.items() if k != e}) for e in sit.events]
        candidates += [sit.but(**{slot: None}) for slot in _slots(found.action)
                       if getattr(sit, slot) is not None and getattr(sit, slot) != sit.actor]
        candidates += [sit.but(former_leads=())] if sit.former_leads else []
        candidates += [sit.but(reason=None)] if sit.reason else []
        candidates += [_with_person(sit, pid, replace(p, pcf_level=None, training=frozenset(), caseload=0))
                       for pid, p in sit.people.items() if p.pcf_level is not None or p.training or p.caseload]
        for candidate in candidates:
            shown = judge.loosened(candidate)
            if shown is not None:
                sit, found, changed = candidate, shown, True
                break
    used = {sit.actor, *(getattr(sit, s) for s in _slots(found.action)), *sit.former_leads, *sit.with_ids}
    for f in sit.facts:
        used.update((f.by, *f.with_ids))
    found.situation = sit.but(people={k: v for k, v in sit.people.items() if k in used})
    return found


def explore(action: Action, universe: Universe, rng: Random, effort: float = 1.0) -> tuple[int, Found | None]:
    """Situations explored for *action*, and the first loosening found (shrunk), if any."""
    judge = _Judge(action)
    for _ in range(max(1, int(40 * effort))):
        found = judge.loosened(action.random(universe, rng))
        if found is not None:
            return judge.explored, _minimise(found, judge)
    for _ in range(max(1, int(8 * effort))):
        sit = action.random(universe, rng)
        for _ in range(12):
            if judge.allows(sit):
                break
            action.mend(sit, rng)
            sit.normalise()
        else:
            continue
        for candidate in (sit, *_neighbours(sit, action, universe, rng)):
            found = judge.loosened(candidate)
            if found is not None:
                return judge.explored, _minimise(found, judge)
    return judge.explored, None

