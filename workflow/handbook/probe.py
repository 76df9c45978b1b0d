"""What a person of one role may do under a protocol, found by asking the engine, never written by hand.

A person of the role (registered when the role is a social work role, in the case's team) is put on an
example case in each state, in each place the protocol lets them hold it (lead practitioner, supervisor,
worker beside the lead, or not holding it at all), and the definition's own checks are asked: the
allocation verdict (``explain_allocation``) says where they may hold a case, each move's and fact's
``who`` (``WhoMayAct``) and ``requires`` say what they may do. A condition that fails for them but holds
when someone with every role and a registration stands in their place is about *them*: if no record,
reason or date can meet it (their role or registration, the case's state) it is why they may not, else it
is what must happen first.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable

from ..allocation import explain_allocation
from ..definition import Definition
from ..people import Case, Staff
from ..requirements import ActorClause, Context, Requirement, WhoMayAct
from ..requirements.logic import AnyOf, NoneOf
from ..roles import ROLES, SOCIAL_WORK_ROLES

__all__ = ["Probe", "Outcome", "STANDING_WORDS", "probe_day"]

#: the team of the example case, and of everyone on it
_TEAM = "the case's team"
#: where someone stands on a case: its lead practitioner, supervisor, worker beside the lead, or none of these
STANDING_WORDS = {"lead": "as the case's lead practitioner", "supervisor": "as the case's supervisor",
                  "worker": "as the worker beside the lead", "none": ""}
#: what the allocation verdict says when someone may not hold a slot of a case in its state at all
_CANNOT_HOLD = {"lead_role", "lead_path", "worker_role", "worker_path", "case_in_states"}
#: conditions that no record, reason or date can meet: who the person is, or where the case is
_ABOUT_WHO = {"lead_is_registered_social_worker", "lead_has_role", "worker_has_role", "actor_has_role",
              "actor_is_qualified", "case_in_states"}


def probe_day(d: Definition) -> date:
    """A day on which *d* is in effect (its first, or a fixed day when it has no window), so pages never vary."""
    day = d.effective_from or date(2025, 1, 6)
    return min(day, d.effective_until) if d.effective_until else day


def _person(pid: str, roles: Iterable[str], registered: bool) -> Staff:
    return Staff(pid, pid, frozenset(roles), _TEAM, f"SWE-{pid}" if registered else None)


def _blocks(r: Requirement) -> bool:
    """Whether failing *r* is about who someone is (a combinator: only when each of its options is)."""
    if isinstance(r, AnyOf):
        return all(_blocks(o) for o in r.options)
    if isinstance(r, NoneOf):
        return any(_blocks(o) for o in r.options)
    return r.kind in _ABOUT_WHO


@dataclass(frozen=True)
class Outcome:
    """What the engine says of one action for the role: may they, where, how, and because of what."""

    allowed: bool
    #: the places they may do it from: 'lead', 'supervisor', 'worker', 'none'
    standings: tuple[str, ...] = ()
    #: the states they may do it in (for a move: the states it leaves)
    states: tuple[str, ...] = ()
    #: allowed: conditions that apply to them in particular; refused: why not
    because: tuple[Requirement, ...] = ()
    #: refused because they are not among those who may act, wherever they stand
    not_who: bool = False
    #: refused: the places they stood among those who may act, and were stopped by ``because``
    blocked_in: tuple[str, ...] = ()


class Probe:
    """Asks *d*'s checks about a person of *role*, on example cases in every state."""

    def __init__(self, d: Definition, role: str):
        self.d, self.role = d, role
        self.at = datetime.combine(probe_day(d), time(10), tzinfo=timezone.utc)
        self.you = _person("you", (role,), role in SOCIAL_WORK_ROLES)
        #: someone who stands where they stand with every role and a registration: what fails for them too is
        #: not about the role
        self.anyone = _person("anyone", ROLES, True)
        self.sw = _person("sw", ("social_worker",), True)
        self.tm = _person("tm", ("team_manager",), True)
        self.holds = {s: self._may_hold(s) for s in d.states}

    def case(self, state: str, standing: str, who: Staff | None = None) -> Case:
        """The example case at *state*, with *who* (default: you) standing in *standing*."""
        person = who or self.you
        opened = self.at - timedelta(days=30)
        holders = {"lead": self.sw, "supervisor": self.tm, "worker": None}
        if standing in holders:
            holders[standing] = person
        return Case("EXAMPLE", self.d.name, _TEAM, state, opened_at=opened, state_entered_at=opened,
                    allocated_at=opened, lead=holders["lead"], supervisor=holders["supervisor"],
                    worker=holders["worker"], holder_since={slot: opened for slot in ("lead", "supervisor")})

    def context(self, state: str, standing: str, who: Staff | None = None) -> Context:
        """The engine's context for acting on the example case; a reason is given, as a move's --reason."""
        person = who or self.you
        return Context(self.case(state, standing, person), person, self.at, self.at.date(), self.d, "(given)")

    def _may_hold(self, state: str) -> tuple[str, ...]:
        """Where the role may stand on a case at *state*: the allocation verdict of putting them there."""
        found = ["none"]
        if not self.d.states[state].open:
            return tuple(found)
        case = self.case(state, "none")
        for slot, verdict in (
                ("lead", explain_allocation(self.d, case, self.tm, self.at, self.you, self.tm)),
                ("worker", explain_allocation(self.d, case, self.tm, self.at, self.sw, self.tm, self.you))):
            if not any(u.kind in _CANNOT_HOLD for u in verdict.unmet):
                found.append(slot)
        ctx = self.context(state, "none")
        if any(c.matches(self.you, ctx) for c in self.d.allocation.supervisors):
            found.append("supervisor")
        return tuple(found)

    def states_held(self, slot: str) -> tuple[str, ...]:
        """The states in which the role may hold a case in *slot*."""
        return tuple(s for s, standings in self.holds.items() if slot in standings)

    def about_you(self, requires: Iterable[Requirement], state: str, standing: str) -> list[Requirement]:
        """The requirements that fail for you in *standing* and hold with someone of every role in your place."""
        mine = self.context(state, standing)
        # a worker is beside the lead, never needed: the case without one stands for 'anyone' there (someone of
        # every role as worker would be a student, which the CP moves refuse, STO-7)
        theirs = self.context(state, "none" if standing == "worker" else standing, self.anyone)
        return [r for r in requires if not r.holds(mine) and r.holds(theirs)]

    def judge(self, who: tuple[ActorClause, ...], requires: tuple[Requirement, ...],
              states: Iterable[str]) -> Outcome:
        """May the role act (``who``, then ``requires``) in any of *states*, standing wherever they may?"""
        check = WhoMayAct.of(who)
        standings: dict[str, None] = {}
        where: dict[str, None] = {}
        conditions: dict[str, Requirement] = {}
        blocked: dict[str, Requirement] = {}
        blocked_in: dict[str, None] = {}
        states = tuple(states)
        for state in states:
            for standing in self.holds[state]:
                if not check.holds(self.context(state, standing)):
                    continue
                mine = self.about_you(requires, state, standing)
                blocking = [r for r in mine if _blocks(r)]
                if blocking:
                    blocked.update((repr(r), r) for r in blocking)
                    blocked_in[standing] = None
                    continue
                standings[standing] = None
                where[state] = None
                conditions.update((repr(r), r) for r in mine)
        if standings:
            return Outcome(True, tuple(standings), tuple(where), tuple(conditions.values()))
        if not blocked:  # nowhere among those who may act; what else would stop them where they hold cases
            slots = [slot for slot in ("lead", "worker") if self.states_held(slot)] or ["lead"]
            for state in states:
                for slot in slots:
                    blocked.update((repr(r), r) for r in self.about_you(requires, state, slot) if _blocks(r))
        return Outcome(False, because=tuple(blocked.values()), not_who=not blocked_in, blocked_in=tuple(blocked_in))

    def event(self, name: str) -> Outcome:
        ev = self.d.events[name]
        return self.judge(ev.who, ev.requires, ev.sources)

    def fact(self, name: str) -> Outcome:
        spec = self.d.facts[name]
        return self.judge(spec.who, spec.requires, (s for s, st in self.d.states.items() if st.open))

    def allocate(self, who: tuple[ActorClause, ...]) -> Outcome:
        """Whether the role may allocate (``allocation.who``) or change only the worker (``workers_who``)."""
        return self.judge(who, (), (s for s, st in self.d.states.items() if st.open))

    def staff_change(self, who: tuple[ActorClause, ...]) -> bool:
        """Whether the role may make a change to the staff list: judged, as the staff list's changes are, on
        no case, about someone of their own team."""
        nobody = Case("staff:someone", self.d.name, _TEAM, "")
        return WhoMayAct.of(who).holds(Context(nobody, self.you, self.at, self.at.date(), self.d))
