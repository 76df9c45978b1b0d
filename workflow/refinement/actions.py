"""The actions national has, judged by both protocols on the same situation through the real engine.

Each action knows how to judge a situation under the local protocol and under national,
how to draw a random situation for itself, how to mend a situation the local protocol
refuses (so the search reaches what it allows), and which part of the local file to
blame when national refuses what the local protocol allows.
"""
from __future__ import annotations

from random import Random
from typing import Any, Sequence

from ..allocation import explain_allocation, proposed_case
from ..definition import Definition, HolderPolicy
from ..engine import Engine
from ..recording import explain_record
from ..requirements import Context, Requirement
from ..requirements.actor import WhoMayAct
from ..verdict import Verdict
from .repair import View, fit_clause, fit_person, new_person, repair
from .situation import Person, Recorded, Situation
from .universe import Universe

__all__ = ["Action", "Move", "Allocation", "Recording"]

Key = tuple[Any, ...]


class Action:
    """One thing national lets people do, compared between the two protocols."""

    label = ""
    path: Key = ()
    states: tuple[str, ...] = ()

    def __init__(self, national: Definition, local: Definition):
        self.national_def = national
        self.local_def = local

    def local(self, sit: Situation) -> Verdict:  # pragma: no cover - abstract
        raise NotImplementedError

    def national(self, sit: Situation) -> Verdict | None:  # pragma: no cover - abstract
        """National's verdict, or None when national sees no action in this situation."""
        raise NotImplementedError

    def mend(self, sit: Situation, rng: Random) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def blame(self, verdict: Verdict) -> Key:
        """Where in the local file the loosening lies, from what national found unmet."""
        return self.path

    def random(self, universe: Universe, rng: Random) -> Situation:
        """A situation drawn at random from *universe*, in one of the action's states."""
        sit = Situation(rng.choice(self.states), rng.choice(universe.teams), rng.choice(universe.days))
        sit.opened_ago = rng.choice((2, 60, 200))
        sit.entered_ago = rng.randint(0, sit.opened_ago)
        sit.allocated_ago = rng.randint(0, sit.opened_ago)
        for slot, chance in (("lead", 0.75), ("supervisor", 0.4), ("worker", 0.2), ("previous_lead", 0.3)):
            if rng.random() < chance:
                setattr(sit, slot, sit.add(new_person(rng)))
        holders = [p for p in (sit.lead, sit.supervisor, sit.worker) if p]
        sit.actor = rng.choice(holders) if holders and rng.random() < 0.5 else sit.add(new_person(rng))
        for person in sit.people.values():
            person.pcf_level = rng.choice(universe.pcf_levels)
            person.caseload = rng.choice(universe.caseloads)
            person.training = universe.training if rng.random() < 0.5 else frozenset()
        for fact in universe.facts:
            if rng.random() < 0.3:
                sit.facts.append(Recorded(fact, rng.randint(0, sit.opened_ago), rng.choice(list(sit.people))))
        for event in universe.events:
            if rng.random() < 0.3:
                sit.events[event] = rng.randint(0, sit.opened_ago)
        sit.former_leads = tuple(p for p in sit.people if rng.random() < 0.2)
        sit.reason = "because" if rng.random() < 0.7 else None
        return sit.normalise()

    def _mend_all(self, requirements: Sequence[Requirement], ctx: Context, view: View, rng: Random,
                  d: Definition) -> None:
        for req in [r for r in requirements if not r.holds(ctx)]:
            repair(req, view, rng, d, self.states)


class Move(Action):
    """A move of national (by name), or a local move between two national states judged as national's."""

    def __init__(self, national: Definition, local: Definition, event: str, engines: tuple[Engine, Engine],
                 as_national: tuple[str, ...] = ()):
        super().__init__(national, local)
        self.event = event
        #: national's events to judge by: the same name, or national's moves between the same states
        self.national_events = as_national or (event,)
        ev = local.events[event]
        self.states = tuple(s for s in ev.sources if s in national.states) or tuple(national.states)
        self.label = (f"move {event!r} ({', '.join(ev.sources)} → {ev.to})" if not as_national else
                      f"move {event!r} ({', '.join(self.states)} → {ev.to}), which does what national's "
                      f"{', '.join(repr(e) for e in as_national)} does")
        self.path = ("events", event)
        self._local_engine, self._national_engine = engines
        self._guard = (WhoMayAct.of(ev.who), *ev.requires)

    def local(self, sit: Situation) -> Verdict:
        return self._local_engine.explain(sit.case(), self.event, sit.known(sit.actor),
                                          sit.at, sit.reason)

    def national(self, sit: Situation) -> Verdict | None:
        verdicts = [self._national_engine.explain(sit.case(), e, sit.known(sit.actor),
                                                  sit.at, sit.reason) for e in self.national_events]
        return next((v for v in verdicts if v.allowed), verdicts[0])

    def mend(self, sit: Situation, rng: Random) -> None:
        ctx = Context(sit.case(), sit.known(sit.actor), sit.at, sit.day, self.local_def, sit.reason)
        self._mend_all(list(self._guard), ctx, View(sit), rng, self.local_def)

    def blame(self, verdict: Verdict) -> Key:
        kinds = {u.kind for u in verdict.unmet}
        if "who" in kinds and self.national_events == (self.event,):
            return self.path + ("who",)
        if "state" in kinds:
            return self.path + ("from",)
        return self.path


class Allocation(Action):
    """Allocating or changing the lead practitioner or the supervisor (a worker alone is local)."""

    label = "allocation of the lead practitioner or supervisor"
    path = ("allocation",)

    def __init__(self, national: Definition, local: Definition):
        super().__init__(national, local)
        self.states = tuple(s for s, spec in national.states.items() if spec.open)

    def random(self, universe: Universe, rng: Random) -> Situation:
        sit = super().random(universe, rng)
        sit.new_lead = sit.lead if sit.lead and rng.random() < 0.3 else sit.add(new_person(rng))
        sit.new_supervisor = rng.choice((sit.supervisor, None, sit.add(new_person(rng))))
        sit.new_worker = rng.choice((sit.worker, sit.worker, None, sit.add(new_person(rng))))
        return sit

    def _judge(self, d: Definition, sit: Situation, worker: bool) -> Verdict:
        if sit.new_lead is None:  # an allocation always names a lead; without one there is nothing to judge
            return Verdict("allocate", "C-1", "allocate", sit.state, None, sit.actor, False, ())
        return explain_allocation(d, sit.case(), sit.known(sit.actor), sit.at, sit.known(sit.new_lead),
                                  sit.staff(sit.new_supervisor), sit.staff(sit.new_worker) if worker else None,
                                  sit.reason)

    def local(self, sit: Situation) -> Verdict:
        return self._judge(self.local_def, sit, True)

    def national(self, sit: Situation) -> Verdict | None:
        if sit.new_lead == sit.lead and sit.new_supervisor == sit.supervisor:
            return None  # only the worker changes: national has no workers, so nothing it judges happens
        return self._judge(self.national_def, sit, bool(self.national_def.allocation.workers))

    def _policy(self, policies: tuple[HolderPolicy, ...], person: Person, path: str, rng: Random) -> HolderPolicy | None:
        on_path = [p for p in policies if path in p.paths]
        matching = [p for p in on_path if person.roles & set(p.roles)]
        if not matching and on_path:
            chosen = rng.choice(on_path)
            person.roles = frozenset({rng.choice(chosen.roles)})
            return chosen
        return rng.choice(matching) if matching else None

    def mend(self, sit: Situation, rng: Random) -> None:
        d, alloc = self.local_def, self.local_def.allocation
        if sit.new_lead is None:
            sit.new_lead = sit.add(new_person(rng))
        now = Context(sit.case(), sit.known(sit.actor), sit.at, sit.day, d, sit.reason)
        lead_changes = sit.new_lead != sit.lead or sit.new_supervisor != sit.supervisor
        who = alloc.who if lead_changes or sit.new_worker == sit.worker else (alloc.workers_who or alloc.who)
        if not WhoMayAct.of(who).holds(now):
            fit_clause(View(sit), rng.choice(who), rng)
        path = d.states[sit.state].path
        lead_policy = self._policy(alloc.leads, sit.people[sit.new_lead], path, rng)
        if sit.new_supervisor is not None and alloc.supervisors and rng.random() < 0.7:
            sup = sit.people[sit.new_supervisor]
            clause = rng.choice(alloc.supervisors)
            if not clause.matches(sit.known(sup.id), now):
                fit_person(sup, clause, rng)
        worker_policy = None
        if sit.new_worker is not None:
            if not alloc.workers or rng.random() < 0.3:
                sit.new_worker = None
            else:
                worker_policy = self._policy(alloc.workers, sit.people[sit.new_worker], path, rng)
        sit.forget()  # the repairs above changed people in place
        proposed = proposed_case(sit.case(), sit.known(sit.new_lead), sit.staff(sit.new_supervisor),
                                 sit.staff(sit.new_worker))
        ctx = Context(proposed, now.actor, sit.at, sit.day, d, sit.reason)
        wanted = [*(lead_policy.requires if lead_policy else ()), *(worker_policy.requires if worker_policy else ()),
                  *alloc.requires]
        self._mend_all(wanted, ctx, View(sit, proposed=True), rng, d)

    def blame(self, verdict: Verdict) -> Key:
        kinds = [u.kind for u in verdict.unmet]
        if "who" in kinds:
            return ("allocation", "who")
        if "supervisor_role" in kinds:
            return ("allocation", "supervisors")
        return ("allocation", "leads")


class Recording(Action):
    """Recording one of national's facts."""

    def __init__(self, national: Definition, local: Definition, fact: str):
        super().__init__(national, local)
        self.fact = fact
        self.label = f"recording {fact!r}"
        self.path = ("facts", fact)
        self.states = tuple(national.states)
        self._spec = local.facts[fact]

    def random(self, universe: Universe, rng: Random) -> Situation:
        sit = super().random(universe, rng)
        sit.note = rng.choice(("", "noted", *self._spec.choices, *self.national_def.facts[self.fact].choices))
        if rng.random() < 0.4:
            sit.with_ids = (sit.add(new_person(rng)),)
        return sit

    def _judge(self, d: Definition, sit: Situation) -> Verdict:
        withs = tuple(s for s in map(sit.staff, sit.with_ids) if s is not None)
        return explain_record(d, sit.case(), self.fact, sit.known(sit.actor), sit.at, sit.note, withs)

    def local(self, sit: Situation) -> Verdict:
        return self._judge(self.local_def, sit)

    def national(self, sit: Situation) -> Verdict | None:
        return self._judge(self.national_def, sit)

    def mend(self, sit: Situation, rng: Random) -> None:
        d, spec = self.local_def, self._spec
        now = Context(sit.case(), sit.known(sit.actor), sit.at, sit.day, d, sit.reason)
        if not WhoMayAct.of(spec.who).holds(now):
            fit_clause(View(sit), rng.choice(spec.who), rng)
        if spec.with_qualified and not any(sit.people[p].registration == "current" for p in sit.with_ids):
            sit.with_ids = (*sit.with_ids, sit.add(new_person(rng, qualified=True)))
        if spec.choices and sit.note not in spec.choices:
            sit.note = rng.choice(spec.choices)
        elif spec.note_required and not sit.note.strip():
            sit.note = "because"
        if not d.states[sit.state].open:
            sit.state = rng.choice([s for s in self.states if d.states[s].open])

    def blame(self, verdict: Verdict) -> Key:
        kinds = [u.kind for u in verdict.unmet]
        if "who" in kinds:
            return self.path + ("who",)
        if kinds and kinds[0] in ("with_qualified", "note_choice", "note_required"):
            return self.path + ({"note_choice": "choices"}.get(kinds[0], kinds[0]),)
        return self.path
