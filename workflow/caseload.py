"""A practitioner's own caseload: the open cases they hold, what is due next on each, and what they may do.

``casework mine --as STAFF`` is the first command of a practitioner's day. Each case is read
through the holder indexes (its cost is the caseload's, not the store's), its items come from
the same ``due`` computation, and the moves offered are the engine's own verdicts for that
person now: nothing here decides anything the engine would not.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable

from casework.store import Connection, records

from .case_views import StateTitles
from .clock import day_of
from .deadlines import DueItem
from .people import Case, Staff
from .definition import Definition
from .hydrate import load_case_and_actor, load_staff
from .judging import judged, judged_by
from .oversight import due_items
from .units import when
from .verdict import Verdict
from .workspace import Casework

__all__ = ["HeldCase", "my_cases", "StaffOverview", "show_staff"]

_PLACES = (("lead_id", "lead"), ("supervisor_id", "supervisor"), ("worker_id", "worker"))


@dataclass(frozen=True)
class HeldCase:
    """One open case a person holds: where it stands, their place in it, what is due and what they may do."""

    id: str
    policy: str
    team: str
    state: str
    state_title: str
    #: 'lead', 'supervisor' or 'worker' (a person may hold more than one place)
    places: tuple[str, ...]
    due: tuple[DueItem, ...]
    #: the moves open to them now (allowed, or allowed once they give what the move asks, such as a reason)
    may: tuple[Verdict, ...]
    #: of those, the moves that end the case, each with the closure reasons that lead to it (``case close``)
    closing: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "policy": self.policy, "team": self.team, "state": self.state,
                "state_title": self.state_title, "places": list(self.places),
                "due": [i.to_dict() for i in self.due],
                "may": [{"event": v.event, "target": v.target, "needs": [u.argument for u in v.missing],
                         "closure_reasons": list(self.closing.get(v.event, ()))} for v in self.may]}


def _moves(conn: Connection, cw: Casework, definition: Definition, case: Case, person: Staff, at: datetime,
           now: datetime) -> list[Verdict]:
    """The engine's verdict on each move out of the case's state, for *person* now."""
    engine = cw.engine(definition)

    def judge(event: str) -> Callable[[datetime, tuple[Staff, ...] | None], Verdict]:
        return lambda day, staff: engine.explain(case, event, person, day, None, staff)

    return [judged(conn, judge(name), at, now) for name, _ in definition.events_from(case.state)]


def my_cases(cw: Casework, actor: str, as_of: date | None = None) -> list[HeldCase]:
    """The open cases *actor* holds (as lead, supervisor or worker), most urgent first, each with its items due
    and the moves the engine would let *actor* make now."""
    at, now = when(cw, None)
    items: dict[str, list[DueItem]] = {}
    for item in due_items(cw, as_of, staff=actor):
        items.setdefault(item.case_id, []).append(item)
    held: list[HeldCase] = []
    with cw.store.read() as conn:
        load_staff(conn, actor)
        places: dict[str, list[str]] = {}
        for slot, place in _PLACES:
            for row in records.cases_held_as(conn, slot, actor):
                places.setdefault(row["id"], []).append(place)
        for case_id, where in places.items():
            case, person = load_case_and_actor(conn, case_id, actor, cw.snapshots)[:2]
            definition = judged_by(conn, cw, case)
            state = definition.states[case.state]
            if not state.open:
                continue
            verdicts = _moves(conn, cw, definition, case, person, at, now)
            may = tuple(v for v in verdicts if v.allowed or not v.refused)
            closing = {v.event: codes for v in may
                       if (codes := tuple(c for c, r in definition.closure_reasons.items() if r.to == v.target))}
            held.append(HeldCase(case.id, case.policy, case.team, case.state, state.title or case.state,
                                 tuple(where), tuple(items.get(case.id, ())), may, closing))
    soonest = day_of(now).toordinal() + 100_000
    return sorted(held, key=lambda h: (min((i.working_days_left for i in h.due), default=soonest), h.id))


@dataclass(frozen=True)
class StaffOverview:
    """One person as a team manager looks them up: their record, whether they are qualified today, and every
    case they hold, by place."""

    person: Staff
    qualified_today: bool
    #: whether their leaving day has passed
    left: bool
    #: place ('lead', 'supervisor', 'worker') → [(case id, its state's title, team)]
    cases: dict[str, list[tuple[str, str, str]]]

    def to_dict(self) -> dict[str, Any]:
        p = self.person
        return {"id": p.id, "name": p.name, "roles": sorted(p.roles), "team": p.team, "registration": p.registration,
                "registered_until": p.registered_until.isoformat() if p.registered_until else None,
                "pcf_level": p.pcf_level, "training": sorted(p.training), "login": p.login,
                "left_on": p.left_on.isoformat() if p.left_on else None, "left": self.left,
                "qualified_today": self.qualified_today,
                "cases": {place: [{"id": c, "state_title": s, "team": t} for c, s, t in held]
                          for place, held in self.cases.items()}}


def show_staff(cw: Casework, staff_id: str, as_of: date | None = None) -> StaffOverview:
    """A person's record and the cases they hold (StaffNotFound, with the nearest ids, for an unknown one)."""
    day = as_of or day_of(cw.clock())
    with cw.store.read() as conn:
        person = load_staff(conn, staff_id)
        titles = StateTitles(cw, conn)
        cases = {place: [(r["id"], titles.of(dict(r)), r["team"]) for r in records.cases_held_as(conn, slot, staff_id)]
                 for slot, place in _PLACES}
    return StaffOverview(person, person.qualified_on(day), not person.active_on(day), cases)
