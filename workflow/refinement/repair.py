"""Repairs: change a situation so that one requirement holds, as a practitioner would make it hold.

The search needs situations in which the *local* protocol allows an action, to ask
whether national allows it too; random situations almost never pass a guard of seven
conditions. Each requirement kind therefore has a repair (allocate someone registered,
record the fact by the right person, give the reason ...). A kind without a repair is
still judged, just found less often; :data:`REPAIRS` names the kinds covered.
"""
from __future__ import annotations

from dataclasses import dataclass
from random import Random
from typing import Any, Callable

from ..definition import Definition
from ..requirements import (ActorClause, CaseInStates, CaseloadWithin, EventHappened, FactRecorded, InTeams,
                            LeadHasRole, NotOverdue, ReasonGiven, Requirement, WorkerAllocated, WorkerHasRole)
from ..roles import ROLES, SOCIAL_WORK_ROLES
from .situation import Person, Recorded, Situation
from .universe import REGISTRATIONS

__all__ = ["View", "fit_clause", "fit_person", "repair", "break_", "REPAIRS", "new_person"]

_SW_ROLES = tuple(r for r in ROLES if r in SOCIAL_WORK_ROLES)


@dataclass
class View:
    """Which people a requirement sees: the case as it is, or as an allocation would leave it."""

    sit: Situation
    proposed: bool = False

    def get(self, slot: str) -> str | None:
        s = self.sit
        if not self.proposed:
            found: str | None = getattr(s, slot)
            return found
        if slot == "previous_lead":
            return s.lead if s.lead is not None and s.lead != s.new_lead else s.previous_lead
        proposed: str | None = getattr(s, f"new_{slot}")
        return proposed

    def set(self, slot: str, person: str | None) -> None:
        s = self.sit
        if not self.proposed:
            setattr(s, slot, person)
        elif slot == "previous_lead":
            s.lead = person
        else:
            setattr(s, f"new_{slot}", person)

    def allocated(self) -> list[str]:
        return [p for p in (self.get("lead"), self.get("supervisor"), self.get("worker")) if p is not None]


def new_person(rng: Random, roles: tuple[str, ...] = (), qualified: bool = False, in_team: bool | None = None) -> Person:
    """Someone with one of *roles* (any role if none), registered if *qualified*."""
    pool = tuple(r for r in roles if r in SOCIAL_WORK_ROLES) if qualified and roles else roles
    role = rng.choice(pool or (_SW_ROLES if qualified else ROLES))
    extra = {role} if not qualified or role in SOCIAL_WORK_ROLES else {role, rng.choice(_SW_ROLES)}
    return Person("", frozenset(extra), "current" if qualified else rng.choice(REGISTRATIONS),
                  rng.random() < 0.8 if in_team is None else in_team)


def fit_person(person: Person, clause: ActorClause, rng: Random) -> None:
    if clause.roles and not person.roles & set(clause.roles):
        person.roles = person.roles | {rng.choice(clause.roles)}
    if clause.qualified:
        person.registration = "current"
        if not person.roles & SOCIAL_WORK_ROLES:
            person.roles = person.roles | {rng.choice(_SW_ROLES)}
    if clause.team == "case":
        person.in_case_team = True


def _holder(view: View, slot: str, rng: Random, **kind: object) -> Person:
    """The person in *slot*, created (as *kind* says) if nobody holds it."""
    pid = view.get(slot)
    if pid is None:
        pid = view.sit.add(new_person(rng, **kind))  # type: ignore[arg-type]
        view.set(slot, pid)
    return view.sit.people[pid]


def fit_clause(view: View, clause: ActorClause, rng: Random) -> None:
    """Make the person acting fit *clause*: take the holder of its relation, or someone new."""
    sit = view.sit
    if clause.relation is not None:
        slot = rng.choice(("lead", "supervisor", "worker")) if clause.relation == "allocated" else clause.relation
        person = _holder(view, slot, rng, roles=clause.roles, qualified=clause.qualified)
        sit.actor = person.id
    elif sit.actor in sit.people and rng.random() < 0.5:
        person = sit.people[sit.actor]
    else:
        person = sit.people[sit.add(new_person(rng, clause.roles, clause.qualified))]
        sit.actor = person.id
    fit_person(person, clause, rng)


def _qualify(person: Person, rng: Random) -> None:
    person.registration = "current"
    if not person.roles & SOCIAL_WORK_ROLES:
        person.roles = frozenset({rng.choice(_SW_ROLES)})


def _fact(req: FactRecorded, view: View, rng: Random, d: Definition) -> None:
    sit = view.sit
    scopes = req.since if isinstance(req.since, tuple) else (req.since,)
    known = {"case": sit.opened_ago, "state": sit.entered_ago, "allocation": sit.allocated_ago}
    # an anchor (an event, a fact, a change of hands) may be as recent as now: a fact recorded now follows it
    horizon = min(known[s] if isinstance(s, str) else 0 for s in scopes)
    if req.by:
        by = _holder(view, req.by if req.by != "allocated" else rng.choice(("lead", "supervisor", "worker")), rng)
    elif req.by_roles or req.by_qualified or rng.random() < 0.5:
        by = sit.people[sit.add(new_person(rng, req.by_roles, req.by_qualified))]
    else:
        by = sit.people[rng.choice(list(sit.people))] if sit.people else sit.people[sit.add(new_person(rng))]
    if req.by_roles and not by.roles & set(req.by_roles):
        by.roles = by.roles | {rng.choice(req.by_roles)}
    if req.by_qualified:
        _qualify(by, rng)
    withs: list[str] = []
    if req.with_relation:
        slots = ("lead", "supervisor", "worker") if req.with_relation == "allocated" else (req.with_relation,)
        for slot in slots:
            if slot == req.with_relation or view.get(slot) is not None:
                withs.append(_holder(view, slot, rng).id)
    if req.with_roles:
        withs.append(sit.add(new_person(rng, req.with_roles, req.with_qualified)))
    elif req.with_qualified:
        withs.append(sit.add(new_person(rng, qualified=True)))
    spec = d.facts.get(req.fact)
    note = rng.choice(spec.choices) if spec is not None and spec.choices else "noted"
    sit.facts.append(Recorded(req.fact, rng.randint(0, max(horizon, 0)), by.id, tuple(withs), note))


def _not_overdue(req: NotOverdue, view: View, rng: Random, d: Definition) -> None:
    sit, dl = view.sit, d.deadlines.get(req.deadline)
    if dl is None:
        return
    met = [m for m in dl.met_by if m.fact or m.event]
    if met:
        marker = rng.choice(met)
        if marker.fact:
            sit.facts.append(Recorded(marker.fact, 0, sit.actor if sit.actor in sit.people else
                                      sit.add(new_person(rng))))
        else:
            sit.events[marker.event] = 0  # type: ignore[index]
    elif dl.start.event:
        sit.events[dl.start.event] = 0
    else:
        sit.entered_ago = 0


def _caseload(req: CaseloadWithin, view: View, rng: Random, d: Definition) -> None:
    person = _holder(view, req.of, rng)
    level = rng.choice([lvl for lvl, cap in req.caps.items() if cap >= 1] or [None])
    person.pcf_level = level
    person.caseload = rng.randint(0, max(req.caps.get(level, 1) - 1, 0)) if level is not None else 0


def _lead(view: View, rng: Random) -> Person:
    return _holder(view, "lead", rng)


def _states(req: CaseInStates, view: View, rng: Random, d: Definition, states: tuple[str, ...]) -> None:
    choices = [s for s in req.states if s in states]
    if choices:
        view.sit.state = rng.choice(choices)


#: kind → how to make it hold (view, rng, definition, the states the action may be tried in); each handler is
#: called only with its own kind, so it reads that kind's parameters (the table cannot say so to a type checker)
REPAIRS: dict[str, Callable[[Any, View, Random, Definition, tuple[str, ...]], object]] = {
    "who": lambda r, v, g, d, s: fit_clause(v, g.choice(r.clauses), g),
    "lead_allocated": lambda r, v, g, d, s: _lead(v, g),
    "lead_is_registered_social_worker": lambda r, v, g, d, s: _qualify(_lead(v, g), g),
    "supervised_if_unqualified": lambda r, v, g, d, s: _qualify(
        _lead(v, g) if g.random() < 0.3 else _holder(v, "supervisor", g, qualified=True), g),
    "lead_has_role": lambda r, v, g, d, s: setattr(_lead(v, g), "roles", frozenset({g.choice(r.roles)})),
    "lead_has_training": lambda r, v, g, d, s: setattr(_lead(v, g), "training",
                                                       _lead(v, g).training | set(r.training)),
    "lead_pcf_level": lambda r, v, g, d, s: setattr(_holder(v, r.of, g), "pcf_level", g.randint(r.minimum, r.maximum)),
    "worker_allocated": lambda r, v, g, d, s: _holder(v, "worker", g),
    "lead_in_case_team": lambda r, v, g, d, s: setattr(_lead(v, g), "in_case_team", True),
    "lead_was_former_lead": lambda r, v, g, d, s: setattr(v.sit, "former_leads", (*v.sit.former_leads, _lead(v, g).id)),
    "case_in_states": _states,
    "worker_has_role": lambda r, v, g, d, s: setattr(_holder(v, "worker", g), "roles", frozenset({g.choice(r.roles)})),
    "caseload_within": lambda r, v, g, d, s: _caseload(r, v, g, d),
    "fact_recorded": lambda r, v, g, d, s: _fact(r, v, g, d),
    "event_happened": lambda r, v, g, d, s: v.sit.events.__setitem__(r.event, g.randint(0, v.sit.entered_ago)),
    "in_teams": lambda r, v, g, d, s: setattr(v.sit, "team", g.choice(r.teams)),
    "within_dates": lambda r, v, g, d, s: setattr(v.sit, "day", r.start or r.end),
    "reason_given": lambda r, v, g, d, s: setattr(v.sit, "reason", "because"),
    "actor_has_role": lambda r, v, g, d, s: fit_clause(v, ActorClause(roles=r.roles), g),
    "actor_is_qualified": lambda r, v, g, d, s: fit_clause(v, ActorClause(qualified=True), g),
    "not_overdue": lambda r, v, g, d, s: _not_overdue(r, v, g, d),
    "any_of": lambda r, v, g, d, s: repair(g.choice(r.options), v, g, d, s),
    "none_of": lambda r, v, g, d, s: _break_all(r.options, v, g),
}


def repair(req: Requirement, view: View, rng: Random, d: Definition, states: tuple[str, ...]) -> None:
    """Change the situation so that *req* is likely to hold (it may undo another; the caller re-judges)."""
    fix = REPAIRS.get(req.kind)
    if fix is not None:
        fix(req, view, rng, d, states)


def _break_all(options: tuple[Requirement, ...], view: View, rng: Random) -> None:
    for option in options:
        break_(option, view, rng)


def break_(req: Requirement, view: View, rng: Random) -> None:
    """Change the situation so that *req* is likely not to hold (for ``none_of``)."""
    sit = view.sit
    lead = view.get("lead")
    if isinstance(req, (WorkerHasRole, WorkerAllocated)):
        view.set("worker", None)
    elif isinstance(req, LeadHasRole) and lead is not None:
        person = sit.people[lead]
        person.roles = frozenset({rng.choice([r for r in ROLES if r not in req.roles])})
    elif isinstance(req, FactRecorded):
        sit.facts = [f for f in sit.facts if f.name != req.fact]
    elif isinstance(req, EventHappened):
        sit.events.pop(req.event, None)
    elif isinstance(req, InTeams):
        sit.team = "Home team"
    elif isinstance(req, ReasonGiven):
        sit.reason = None
