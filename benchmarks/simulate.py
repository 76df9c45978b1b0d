"""A year of a large local authority under the five shipped protocols, driven through casework (issue 16).

Why: the other benchmarks time one kind of action on copies of one case. A year of practice asks
more: every protocol, every route a referral takes, staff who join, leave and let registrations
lapse, deadlines met and missed, and the refusals real work meets. This generates that year,
seeded and reproducible, as JSON lines (``casework.workflow.actions_file``), and times it live
(one transaction per action, as an embedding service makes them) and in bulk (``casework import``'s
path), on SQLite and PostgreSQL, in a training sandbox whose clock follows the actions.

Routes: no further action or early help at referral; assessments in and out of 45 working days,
then closure, step-down, a CIN plan or a strategy discussion; CIN plans with visits, notes,
supervision and reviews, some handed to a lead who is not a social worker (national: family
support, early help, community care workers, assistants, partners; Derbyshire: co-allocation, and
CCW/FSW leads in the Erewash pilot; Kent: trained SWAs in the trial districts, back to a social
worker after 3 April 2025; Stockport: students working PE-held cases; Torbay: TOR-1..5, four-weekly
supervision, concerns); child protection (strategy, s47, ICPC in or out of 15 working days, plan,
reviews); re-referrals. Every action carries the verdict it should get, so a run also checks the
generator against casework. Refused on purpose: a lapsed social worker allocated or moving a case,
a non-social-worker escalating or chairing, steps out of order, an untrained or post-trial Kent SWA,
a Torbay review with supervision overdue, a Stockport escalation with the student still on.

Staff changes never alter a verdict in hindsight (renewals come before the lapse, leaving is a
date), so several PostgreSQL processes can make the staff first and then split the cases: live
by case (a student's cases together, since STO-8 counts their caseload), bulk by team.

Run: .venv/bin/python benchmarks/simulate.py [--referrals 15000] [--seed 2026] [--mode live|bulk|both]
     [--db sqlite|postgres|both] [--processes 1 2 4] [--group 500] [--out FILE] [--check] [--postgres URL]
"""
from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import tempfile
import time
import zlib
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.databases import postgres_databases  # noqa: E402
from casework.errors import CaseworkError, Refused  # noqa: E402
from casework.workflow import bulk, service  # noqa: E402
from casework.workflow.actions_file import (AddStaff, Allocate, LeaveStaff, Move, OpenCase, Record,  # noqa: E402
                                           UpdateStaff, to_line)
from casework.workflow.bank_holidays import england_bank_holidays  # noqa: E402
from casework.workflow.clock import LONDON  # noqa: E402
from casework.workflow.workspace import open_casework  # noqa: E402

DAY = 480  # working minutes a day (09:00 to 17:00): a moment is a count of them from the year's first day
TRIAL_END = date(2025, 4, 3)  # the Kent SWA trial's last day (KEN-2): cases opened by then run under kent@1
TEAMS = {"national": ("Central", "Riverside", "Hillside"), "derbyshire": ("Erewash", "Amber Valley"),
         "kent": ("Thanet", "Dover", "Maidstone"), "stockport": ("Stockport North", "Stockport South"),
         "torbay": ("Paignton", "Torquay")}
KENT_TRIAL = ("Thanet", "Dover")
#: each team's named people, the team manager (who adds the staff) first
NAMED = {"tm": "team_manager", "ps": "practice_supervisor", "asw": "advanced_social_worker", "sm": "service_manager",
         "tl": "team_leader", "school": "partner_practitioner"}
OTHERS = {"national": ("family_support_worker", "early_help_practitioner", "community_care_worker",
                       "social_work_assistant"), "derbyshire": ("community_care_worker", "family_support_worker"),
          "kent": ("social_work_assistant",), "torbay": ("community_care_worker",)}
#: moves a lapsed social worker is refused (WT-3, WT-5, DER-4, KEN-5): tried once before the case is reallocated
NEEDS_REGISTRATION = {"start_cin_plan", "hold_cin_review", "step_down", "escalate_to_strategy", "convene_icpc",
                      "start_cp_plan", "hold_cp_review"}
CAPS = {1: 2, 2: 3, 3: 4, 4: 5}  # Stockport's caseload caps by PCF level (STO-8)
KEEP: Any = object()


def _given(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v}


class _Random(random.Random):
    """Seeded draws; randint without the checks of the standard one, which took a fifth of the generation."""

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))


class _Calendar:
    """England's working days from *start*, so that 'within 15 working days' is arithmetic on integers."""

    def __init__(self, start: date):
        holidays = set().union(*(england_bank_holidays(y) for y in range(start.year, start.year + 4)))
        self.days = [d for d in (start + timedelta(n) for n in range(3 * 366)) if d.weekday() < 5 and d not in holidays]
        self.nine = [datetime(d.year, d.month, d.day, 9, tzinfo=LONDON).astimezone(timezone.utc) for d in self.days]

    def at(self, t: int) -> datetime:
        return self.nine[t // DAY] + timedelta(minutes=t % DAY)

    def day(self, t: int) -> date:
        return self.days[t // DAY]

    def index(self, day: date) -> int:
        """The first working day on or after *day*, as a moment."""
        return bisect_left(self.days, day) * DAY


@dataclass(eq=False)
class _Person:
    id: str
    roles: tuple[str, ...]
    reg: str | None = None
    until: date | None = None  # the registration's last day, a renewal counted
    leaves: date | None = None
    joins: int = 0
    slots: list[list[tuple[int, int]]] = field(default_factory=list)  # a student's caseload, slot by slot

    def fit(self, day: date) -> bool:
        return (self.leaves is None or day <= self.leaves) and (self.until is None or day <= self.until)


@dataclass(eq=False)
class _Team:
    name: str
    policy: str
    named: dict[str, _Person] = field(default_factory=dict)
    sws: list[_Person] = field(default_factory=list)  # registered leads (Stockport: its PEs and PSs)
    others: list[_Person] = field(default_factory=list)  # leads who are not social workers
    students: list[_Person] = field(default_factory=list)


class _YearOver(Exception):
    """The next action would fall after the simulated year: the case stays where it is."""


class _Year:
    """The staff and every case's actions, generated case by case, then put in time order."""

    def __init__(self, referrals: int, seed: int, start: date):
        self.rng, self.cal = _Random(seed), _Calendar(start)
        self.end = self.cal.index(start + timedelta(365))
        self.rows: list[tuple[int, int, Any, Any, bool]] = []  # (moment, sequence, case, action, to be refused)
        self.routes: Counter[str] = Counter()
        self.numbers, self.first = iter(range(100_001, 999_999)), ""
        self.teams = [self._team(policy, name, referrals / 12) for policy, names in TEAMS.items() for name in names]
        for n in range(referrals):
            _Case(self, n, self.rng.choice(self.teams), self.rng.randrange(60, self.end - DAY)).run()
        self.rows.sort(key=lambda r: (r[0], r[1]))

    def emit(self, t: int, kind: type, refused: bool = False, owner: Any = None, **fields: Any) -> None:
        self.rows.append((t, len(self.rows), owner, kind(at=self.cal.at(t), **fields), refused))

    def _add(self, team: str | None, sid: str, role: str, t: int = 0, reg: bool = True, **extra: Any) -> _Person:
        p = _Person(sid, (role,), f"SW{next(self.numbers)}" if reg else None, joins=t)
        self.emit(t, AddStaff, id=sid, name=sid.upper(), roles=p.roles, team=team, **_given(
            registration=p.reg, actor=self.first), **extra)
        self.first = self.first or sid  # the first person (a team manager) starts the staff list and adds the rest
        return p

    def _team(self, policy: str, name: str, share: float) -> _Team:
        rng, cal, code, team = self.rng, self.cal, "".join(w[:3] for w in name.lower().split()), _Team(name, policy)
        team.named = {k: self._add(name if k != "school" else None, f"{code}-{k}", role, reg=k != "school")
                      for k, role in NAMED.items()}
        tm, n = team.named["tm"].id, max(4, round(share / 45))
        if policy == "stockport":
            team.sws = [self._add(name, f"{code}-pe{i}", "practice_educator" if i % 4 else "practice_supervisor")
                        for i in range(n)]
            for cohort, first in enumerate((0, 110, 220)):  # placements of 100 working days
                for i in range(max(2, n // 3)):
                    level = rng.randint(1, 4)
                    p = self._add(name, f"{code}-stu{cohort}{i}", "student_social_worker", first * DAY + 1, False,
                                  pcf_level=level)
                    p.leaves, p.slots = cal.days[first + 100], [[] for _ in range(CAPS[level])]
                    self.emit((first + 95) * DAY, LeaveStaff, id=p.id, actor=tm, on=p.leaves)
                    team.students.append(p)
            return team
        kinds = OTHERS[policy]
        for i in range(max(2, n // 5)):  # Kent's first SWA has not done the lead professional training (KEN-6)
            kind, trained = kinds[i % len(kinds)], policy == "kent" and i > 0
            team.others.append(self._add(name, f"{code}-{kind[:3]}{i}", kind, reg=False,
                                         **_given(training=("lead_professional_training",) if trained else ())))
        for i in range(n):
            until = cal.days[0] + timedelta(rng.randint(20, 700))
            sw = self._add(name, f"{code}-sw{i}", "social_worker", registered_until=until)
            sw.until, renew = until, max(DAY, cal.index(until) - rng.randint(5, 25) * DAY)
            if rng.random() < 0.07:  # leaves, recorded two weeks ahead; a successor starts the week before
                out = rng.randint(30, self.end // DAY - 5)
                sw.leaves = cal.days[out]
                self.emit((out - 10) * DAY + 5, LeaveStaff, id=sw.id, actor=tm, on=sw.leaves)
                team.sws.append(self._add(name, f"{code}-sw{i}b", "social_worker", (out - 5) * DAY + 5))
            if renew < self.end and rng.random() < 0.8 and (sw.leaves is None or renew < cal.index(sw.leaves)):
                sw.until = until + timedelta(365)  # renewed before it lapses; the others lapse
                self.emit(renew, UpdateStaff, id=sw.id, actor=tm, registered_until=sw.until)
            team.sws.append(sw)
        return team

    def lead_for(self, team: _Team, t: int, not_: _Person | None = None) -> _Person:
        """A registered lead of the team, there and registered now and for the next three weeks."""
        day, later = self.cal.day(t), self.cal.day(t + 15 * DAY)
        fit = [p for p in team.sws if p.joins < t and p is not not_ and p.fit(day) and p.fit(later)]
        return self.rng.choice(fit) if fit else team.named["tm"]

    def slip(self, team: _Team, t: int) -> _Person | None:
        """Now and then a social worker whose registration has lapsed, whom a manager tries to allocate (WT-5)."""
        day = self.cal.day(t)
        lapsed = [p for p in team.sws if p.until and p.until < day and (p.leaves is None or day <= p.leaves)]
        return self.rng.choice(lapsed) if lapsed and self.rng.random() < 0.1 else None

    def student_for(self, team: _Team, t: int, until: int) -> _Person | None:
        """A student on placement from *t* to *until* with a slot free all that time, so STO-8 always holds."""
        for p in self.rng.sample(team.students, len(team.students)):
            if p.joins < t and p.leaves and until < self.cal.index(p.leaves) - 3 * DAY:
                for slot in p.slots:
                    if all(b <= t or a >= until for a, b in slot):
                        slot.append((t, until))
                        return p
        return None


class _Case:
    """One referral's life: each stage emits its actions in time order."""

    def __init__(self, year: _Year, n: int, team: _Team, t: int):
        self.y, self.rng, self.team, self.p, self.t = year, year.rng, team, team.policy, t
        self.id = self.shard = f"{team.policy[0].upper()}-{n}"
        self.lead: _Person | None = None
        self.sup: _Person | None = None
        self.worker: _Person | None = None
        self.prev: _Person | None = None
        self.kent1 = self.p == "kent" and year.cal.day(t) <= TRIAL_END
        self.anchor = self.release = self.trial_end = 0  # Torbay's last CCW supervision; a student's, an SWA's end
        self.competent = self.concerned = False  # the student may chair TAC meetings; a Torbay concern was drawn
        self.sw = "lead"  # who makes the child protection moves

    def run(self) -> None:
        try:
            self._emit(OpenCase, policy=self.p, team=self.team.name, actor=self.team.named["tm"].id)
            self.decide()
        except _YearOver:
            pass

    # the primitives ---------------------------------------------------------------------------------------------
    @property
    def unqualified(self) -> bool:
        return self.lead is not None and self.lead.reg is None

    def _emit(self, kind: type, refused: bool = False, **fields: Any) -> None:
        if self.t >= self.y.end:
            raise _YearOver
        self.y.emit(self.t, kind, refused, self, case=self.id, **fields)
        self.t += self.rng.randint(3, 40)

    def wait(self, lo: int, hi: int) -> None:
        """Wait *lo* to *hi* working days (0: later the same day)."""
        days = self.rng.randint(lo, hi)
        self.t = self.t + self.rng.randint(20, 120) if not days else (self.t // DAY + days) * DAY + \
            self.rng.randrange(DAY - 100)

    def who(self, by: str | _Person) -> str:
        person = by if isinstance(by, _Person) else self.team.named.get(by) or getattr(self, by)
        return str(person.id)

    def move(self, event: str, by: str | _Person, reason: str = "", refused: bool = False) -> None:
        self._check(event, by)
        self._emit(Move, refused, event=event, actor=self.who(by), **_given(reason=reason))

    def record(self, fact: str, by: str | _Person, *with_: str, note: str = "") -> None:
        self._check(fact, by)
        self._emit(Record, fact=fact, actor=self.who(by), **_given(with_staff=with_, note=note))

    def allocate(self, lead: _Person, by: str | _Person, sup: Any = KEEP, worker: Any = KEEP, reason: str = "",
                 refused: bool = False) -> None:
        if lead is self.lead:  # the holders change around the lead, who must still be fit to hold the case
            self._check("allocate", by)
            lead = self.lead
        holders = {k: v.id if v else None for k, v in (("supervisor", sup), ("worker", worker)) if v is not KEEP}
        self._emit(Allocate, refused, lead=lead.id, actor=self.who(by), **holders, **_given(reason=reason))
        if not refused:
            self.prev, self.lead = (self.lead, lead) if lead is not self.lead else (self.prev, lead)
            self.sup, self.worker = self.sup if sup is KEEP else sup, self.worker if worker is KEEP else worker

    def _check(self, event: str, by: str | _Person) -> None:
        """A social worker who lapsed or leaves within the week is replaced first; a lapsed one about to make a
        move that needs registration tries it and is refused (WT-3, WT-5, DER-4, KEN-5)."""
        lead, cal = self.lead, self.y.cal
        if event == "reopen":  # a closed case is not reallocated: whoever reopens it allocates it afresh
            return
        if lead is None or lead.reg is None or (lead.fit(cal.day(self.t)) and lead.fit(cal.day(self.t + 5 * DAY))):
            return
        lapsed = not lead.fit(cal.day(self.t)) and (lead.leaves is None or cal.day(self.t) <= lead.leaves)
        if lapsed and by == "lead" and event in NEEDS_REGISTRATION:
            self._emit(Move, True, event=event, actor=lead.id, reason="As planned")
            self.y.routes["refused: a lapsed lead's move"] += 1
        self.y.routes["reallocated: lead lapsed" if lapsed else "reallocated: lead leaving"] += 1
        self.lead = None  # so that the allocation does not check again
        self.allocate(self.y.lead_for(self.team, self.t, lead), "tm", reason="Lapsed" if lapsed else "Leaving")
        self.prev = lead

    def chair(self) -> str:
        """Who chairs CIN meetings: the lead, unless Derbyshire or Kent want a qualified chair (DER-4, KEN-5)."""
        return "sup" if self.unqualified and self.p in ("derbyshire", "kent") else "lead"

    def _loop(self, plan: dict[str, int], end: int) -> None:
        """The activity due first goes next until the stage ends; each returns the working days to its next time,
        or None when it is done."""
        while plan and plan[name := min(plan, key=plan.__getitem__)] <= end:
            self.t = max(self.t, plan[name])
            gap = getattr(self, f"_{name}")()
            if gap is None:
                del plan[name]
            else:
                plan[name] = self.t + gap * DAY
            if self.p == "derbyshire" and (self.unqualified or self.worker):  # DER-6
                plan.setdefault("cycle", self.t + 5 * DAY)
            if self.p == "kent" and self.unqualified:  # KEN-2, KEN-4
                plan.setdefault("trial_end", self.trial_end)
                plan.setdefault("joint", self.t + 10 * DAY)
            if self.p == "torbay" and self.unqualified and not self.concerned:  # TOR-9
                self.concerned = True
                if self.rng.random() < 0.15:
                    plan["concern"] = self.t + self.rng.randint(10, 60) * DAY

    # the stages -------------------------------------------------------------------------------------------------
    def decide(self, again: bool = False) -> None:
        """The referral decision, mostly within one working day (WT-6)."""
        rng, team, r = self.rng, self.team, self.rng.random()
        late = rng.random() < 0.1
        self.wait(2 * late, 4 * late)
        if r < 0.4:
            nfa = r < 0.22
            self.y.routes["referral: no further action" if nfa else "referral: early help"] += 1
            self.move("decide_no_further_action" if nfa else "decide_early_help", "tm",
                      "Threshold not met" if nfa else "Universal services can meet need")
            return self.maybe_reopen(again)
        if self.lead is None and rng.random() < 0.03:
            self.move("decide_assessment", "tm", refused=True)  # nobody allocated yet (WT-1)
        if self.p == "national" and r < 0.9 and rng.random() < 0.12:  # an early help practitioner assesses (WT-4)
            self.record("lead_agreed_with_partners", "tm")
            self.allocate(next(p for p in team.others if "early_help_practitioner" in p.roles), "tm", team.named["ps"])
        else:
            if slip := self.y.slip(team, self.t):
                self.allocate(slip, "tm", None, None, refused=True)
                self.y.routes["refused: allocating a lapsed social worker"] += 1
            self.allocate(self.y.lead_for(team, self.t), "tm", None, None)
        if r > 0.95:
            self.y.routes["referral: straight to strategy"] += 1
            self.move("escalate_to_strategy", "tm", "Disclosure of harm")
            return self.cp()
        self.move("decide_assessment", "tm")
        self.assessment()

    def assessment(self, begun: int | None = None) -> None:
        """The single assessment, mostly complete within 45 working days of the referral (WT-6)."""
        rng, y, start = self.rng, self.y, self.t if begun is None else begun
        if self.p == "stockport" and begun is None and rng.random() < 0.5:
            until = self.t + rng.randint(75, 120) * DAY  # the student's slot is held this long at most
            if student := y.student_for(self.team, self.t, until):
                self.shard, self.release, self.competent = student.id, until, False
                self.allocate(self.lead, "lead", worker=student, reason="Suits the student's PCF level")
        finish = start + (rng.randint(8, 42) if rng.random() < 0.87 else rng.randint(47, 62)) * DAY
        if begun is None:
            y.routes["assessment: late" if finish - start > 45 * DAY else "assessment: in time"] += 1
        while self.t + 12 * DAY < finish:
            self.wait(5, 12)
            self.record("home_visit", "worker" if self.worker and rng.random() < 0.5 else "lead")
        self.t = max(self.t, finish)
        if self.worker:
            self.record("student_assessment", "worker")
            self.wait(0, 2)
        self.record("assessment_completed", "lead")
        r = rng.random()
        if r < 0.55:
            y.routes["assessment: closed" if r < 0.3 else "assessment: stepped down"] += 1
            if r < 0.3:
                self.move("close", "tm", "No further role for social care")
            else:
                self.move("step_down", self.chair(), "Early help can meet need")
            return self.maybe_reopen()
        if r > 0.93:
            return self.escalate()
        self.wait(0, 3)
        approvals = ("assessment_authorised", "plan_agreed") if self.p == "stockport" else \
            ("assessment_approved", "plan_approved") if self.unqualified else ()
        for fact in approvals:  # STO-4; WT-4
            self.record(fact, "lead" if self.p == "stockport" else "sup")
        self.move("start_cin_plan", self.chair())
        self.cin()

    def cin(self, after_cp: bool = False) -> None:
        """A CIN plan: visits, notes, supervision, reviews; perhaps a hand-over; then step-down, closure or CP."""
        rng, y, t = self.rng, self.y, self.t
        y.routes["CIN plan"] += 1
        end, day = t + rng.randint(40, 240) * DAY, lambda lo, hi: t + rng.randint(lo, hi) * DAY
        plan = {"review": day(50, 62) if rng.random() < 0.9 else day(66, 75), "visit": day(8, 20), "note": day(4, 12),
                "supervise": day(15, 25)}
        if not after_cp and rng.random() < {"stockport": 0, "derbyshire": 0.5, "kent": 0.6}.get(self.p, 0.35):
            plan["handover"] = day(5, 30)
        if self.p == "derbyshire" and rng.random() < 0.08:
            plan["revise"] = day(30, 80)
        if self.p == "stockport":
            plan["tac"] = day(10, 20)
        if self.worker:
            plan.update(release=self.release, student=day(3, 5), joint=day(5, 20))
        self._loop(plan, end)
        r = rng.random()
        if r < 0.1:
            return self.escalate()
        y.routes["CIN: closed" if r < 0.55 else "CIN: stepped down"] += 1
        if r < 0.55:
            self.move("close", "tm", "Plan outcomes achieved")
        else:
            self._review_ready()
            self.move("step_down", self.chair(), "Early help can continue the work")
        self.maybe_reopen()

    def escalate(self) -> None:
        """To a strategy discussion: back to a registered social worker first, without a student (WT-5, STO-7)."""
        rng, y = self.rng, self.y
        y.routes["escalated to strategy"] += 1
        if self.unqualified:
            self.record("escalation_raised", "lead", note="Disclosure at school")
            if rng.random() < 0.5:
                self.move("escalate_to_strategy", "lead", "Disclosure", refused=True)
                y.routes["refused: a non-social-worker escalating"] += 1
            back = self.prev if self.p == "torbay" and self.prev and self.prev.fit(y.cal.day(self.t + 15 * DAY)) \
                else y.lead_for(self.team, self.t)  # TOR-9: the previous social worker if they can
            self.allocate(back, "sup" if self.p == "torbay" else "tm", None, None, "Need escalated")
        if self.worker:
            if self.p == "stockport" and rng.random() < 0.5:
                self.move("escalate_to_strategy", "lead", "Disclosure", refused=True)
                y.routes["refused: escalating with the student on"] += 1
            self.allocate(self.lead, "lead" if self.p == "stockport" else "ps", worker=None,
                          reason="Child protection")
        self.move("escalate_to_strategy", "lead", "Reasonable cause to suspect significant harm")
        self.cp()

    def cp(self) -> None:
        """Strategy discussion, s47, ICPC within 15 working days of the discussion (WT-6), CP plan and reviews."""
        rng, y, strategy = self.rng, self.y, self.t
        # a practice educator may hold a CP case, but is not among national's registered social workers who move
        # one (x-registered-sw), so the team manager does
        self.sw = "tm" if self.lead and "practice_educator" in self.lead.roles else "lead"
        self.wait(0, 2)
        if rng.random() < 0.15:
            self.move("decline_s47", "tm", "Threshold for s47 not met")
            return self.assessment(begun=self.t)
        self.move("start_s47", self.sw)
        if rng.random() < 0.2:
            self.wait(5, 12)
            self.move("conclude_s47_to_cin", "tm", "Concerns not substantiated")
            return self.cin(after_cp=True)
        self.wait(2, 5)
        self.record("home_visit", "lead")
        self.t = max(self.t, strategy + (rng.randint(8, 14) if rng.random() < 0.85 else rng.randint(16, 25)) * DAY)
        y.routes["ICPC: late" if self.t - strategy > 15 * DAY else "ICPC: in time"] += 1
        self.move("convene_icpc", self.sw)
        if rng.random() < 0.2:
            self.move("decline_cp_plan", "tm", "Conference decided a CIN plan")
            return self.cin(after_cp=True)
        self.move("start_cp_plan", self.sw)
        y.routes["CP plan"] += 1
        t = self.t
        self._loop({"cp_review": t + rng.randint(50, 62) * DAY, "cp_visit": t, "note": t, "supervise": t},
                   t + rng.randint(80, 300) * DAY)
        if rng.random() < 0.7:
            self.move("end_cp_plan", "tm", "Risk reduced; continue under a CIN plan")
            return self.cin(after_cp=True)
        self.move("close_cp_plan", "tm", "Family moved out of the area")

    def maybe_reopen(self, again: bool = False) -> None:
        if not again and self.shard == self.id and self.rng.random() < 0.05:
            self.wait(20, 150)
            self.move("reopen", "tm", "New referral from the school")
            self.y.routes["re-referred"] += 1
            self.decide(again=True)

    # the activities of a plan: each returns the working days to its next time, or None when it is done ----------
    def _review(self) -> int:
        if self.chair() == "sup" and self.rng.random() < 0.15:
            self.move("hold_cin_review", "lead", refused=True)  # a qualified social worker chairs
        self._review_ready()
        self.move("hold_cin_review", self.chair())
        return self.rng.randint(50, 62) if self.rng.random() < 0.9 else self.rng.randint(66, 75)

    def _review_ready(self) -> None:
        """Torbay: a CCW-led case whose four-weekly supervision is overdue is refused its review (TOR-6)."""
        if self.p == "torbay" and self.unqualified:
            late = (self.y.cal.day(self.t) - self.y.cal.day(self.anchor)).days
            if late > 30:
                self.move("hold_cin_review", "lead", refused=True)
                self.y.routes["refused: Torbay supervision overdue"] += 1
            if late > 25:  # (26 to 30 days: too near the line to be sure, so supervised first)
                self._supervise()

    def _cp_review(self) -> int:
        self.move("hold_cp_review", self.sw)
        return self.rng.randint(110, 125) if self.rng.random() < 0.9 else self.rng.randint(130, 140)

    def _cp_visit(self) -> int:
        self.record("home_visit", "lead")
        return self.rng.randint(8, 10)

    def _visit(self) -> int:
        self.record("home_visit", "worker" if self.worker and self.rng.random() < 0.4 else "lead")
        return self.rng.randint(8, 20)

    def _note(self) -> int:
        self.record("case_note", "lead", note="Update from school")
        if self.p == "torbay" and self.rng.random() < 0.05:  # TOR-10
            self.record("professional_difference", "school", note="The school disagrees with the plan")
        return self.rng.randint(4, 12)

    def _supervise(self) -> int:
        self.record("supervision", self.sup or self.team.named["ps" if self.p == "derbyshire" else "tm"],
                    note="Case reviewed in supervision")
        if self.p == "torbay" and self.unqualified:
            self.anchor = self.t
            return self.rng.randint(12, 17) if self.rng.random() < 0.75 else self.rng.randint(28, 40)
        return self.rng.randint(15, 25)

    def _cycle(self) -> int | None:
        ccw = self.lead if self.unqualified else self.worker
        if ccw is None:
            return None
        self.record("improvement_cycle_attended", "ps", ccw.id)
        return self.rng.randint(4, 6) if self.rng.random() < 0.9 else 10

    def _student(self) -> int | None:
        if self.worker is None:
            return None
        self.record("student_supervision", "lead")
        return self.rng.randint(4, 6)

    def _tac(self) -> int:
        """Stockport's TAC meetings: the team leader chairs until the PS/PE finds the student competent (STO-6)."""
        self.move("hold_tac_meeting", "worker" if self.worker and self.competent else "tl")
        if self.worker and not self.competent and self.rng.random() < 0.7:
            self.record("chair_competence", "lead")
            self.competent = True
        return self.rng.randint(15, 25)

    def _joint(self) -> int | None:
        if self.p == "stockport":  # once, within six weeks of the allocation (STO-5)
            if self.worker:
                self.record("joint_visit", "worker", self.who("lead"))
            return None
        if not self.unqualified:
            return None
        self.record("joint_visit", "lead", self.who("sup"))  # KEN-4
        return self.rng.randint(20, 30)

    def _release(self) -> None:
        if self.worker:
            self.allocate(self.lead, "lead", worker=None, reason="Placement ending")
            self.y.routes["student released before the placement ends"] += 1
            self.competent = False

    def _trial_end(self) -> None:
        self.allocate(self.y.lead_for(self.team, self.t), "tm", None, reason="The SWA trial has ended")
        self.y.routes["Kent: SWA lead back to a social worker"] += 1

    def _concern(self) -> None:
        self.record("escalation_raised", "lead", note="Concern about home conditions")
        self.record("escalation_considered", "tm", note="CCW keeps the case; plan updated")

    def _revise(self) -> None:
        if not self.unqualified and not self.worker:  # DER-5: a social worker revises the assessment
            self.move("revise_assessment", "lead", "New concerns about school attendance")
            self.wait(5, 20)
            self.record("assessment_completed", "lead")
            self.move("start_cin_plan", "lead")
            self.y.routes["Derbyshire: revised assessment"] += 1

    def _handover(self) -> None:
        """The case passes to a practitioner who is not a social worker, the protocol's way."""
        rng, team, y, p, ps = self.rng, self.team, self.y, self.p, self.team.named["ps"]
        if self.unqualified:
            return
        other = rng.choice(team.others[1:] if p == "kent" else team.others + [team.named["school"]] * (p == "national"))
        if p == "derbyshire":
            self.record("co_allocation_agreed", "ps")  # DER-3
            if team.name == "Erewash" and rng.random() < 0.5:  # the pilot: a CCW or FSW holds the case (DER-8)
                self.record("lead_agreed_with_partners", "ps")
                self.allocate(other, "ps", ps, None, "Erewash pilot")
            else:
                self.allocate(self.lead, "ps", ps, other)
            y.routes["hand-over: Derbyshire " + ("pilot lead" if self.unqualified else "co-allocated worker")] += 1
            return
        if p == "kent":
            if not self.kent1 or team.name not in KENT_TRIAL:
                return
            self.record("lead_agreed_with_partners", "tm")
            if y.cal.day(self.t) > TRIAL_END:
                if rng.random() < 0.3:
                    self.allocate(other, "tm", ps, refused=True)  # the trial is over (KEN-2)
                    y.routes["refused: Kent SWA after the trial"] += 1
                return
            if rng.random() < 0.15:
                self.allocate(team.others[0], "tm", ps, refused=True)  # not trained (KEN-6)
            self.allocate(other, "tm", ps, reason="Lead professional trial")
            late = rng.random() < 0.15  # the reallocation is due within 10 working days of the trial's end
            self.trial_end = y.cal.index(TRIAL_END) + (rng.randint(11, 20) if late else rng.randint(1, 9)) * DAY
            y.routes["hand-over: Kent SWA lead"] += 1
            return
        if p == "torbay":  # TOR-1 .. TOR-5, TOR-7
            self.record("ccw_identified", "tm", team.named["sm"].id, note="In supervision; SM notified")
            self.record("sm_endorsement", "sm", note="Need is housing; the CCW knows the family")
            if rng.random() < 0.15:
                self.allocate(other, "tm", team.named["asw"], refused=True)  # the family is not told yet (TOR-3)
            self.record("ccw_scope", "tm", note=rng.choice(("housing_need", "moving_towards_closure")))
            self.record("family_informed", "lead")
            self.record("handover_agreed", "lead", other.id)
            self.record("case_summary_updated", "tm")
        self.record("lead_agreed_with_partners", "tm")
        self.allocate(other, "tm", team.named["asw" if p == "torbay" else "ps"], reason="Lower level of need")
        self.anchor = self.t
        y.routes[f"hand-over: {p} non-social-work lead"] += 1


# driving casework -------------------------------------------------------------------------------------------------
#: what forked processes share: the actions, their lines, which should be refused, each one's shard, the group
_WORK: dict[str, Any] = {}


def _live(url: str, picks: list[int]) -> tuple[Counter[str], list[str]]:
    """Each action in its own unit of work, the clock at its moment: the outcomes, and what was unexpected."""
    cw, counts, odd, now = open_casework(url), Counter[str](), [], [datetime.now(timezone.utc)]
    cw.simulated, cw.clock = True, lambda: now[0]
    for i in picks:
        now[0], message = _WORK["actions"][i].at, _WORK["lines"][i]
        try:
            bulk.apply_one(cw, _WORK["actions"][i])
            got = "allowed"
        except Refused as exc:
            got, message = "refused", str(exc)
        except CaseworkError as exc:
            got, message = "bad", f"{type(exc).__name__}: {exc}"
        counts[got] += 1
        if got == "bad" or (got == "refused") != _WORK["refused"][i]:
            odd.append(f"line {i + 1} {got}: {message}"[:400])
    cw.store.dispose()
    return counts, odd


def _bulk(url: str, picks: list[int]) -> tuple[Counter[str], list[str]]:
    """The import's path: the lines in groups of --group, each action's moment its own."""
    cw = open_casework(url)
    report = bulk.apply(cw, (_WORK["lines"][i] for i in picks), group=_WORK["group"], clock_from_file=True)
    cw.store.dispose()
    counts, odd, refused = Counter(allowed=report.applied), [], set()
    for problem in report.problems:
        i = picks[problem.line - 1]
        counts["refused" if problem.kind == "refused" else "bad"] += 1
        refused.add(i)
        if problem.kind != "refused" or not _WORK["refused"][i]:
            odd.append(f"line {i + 1} {problem.kind}: {problem.message}"[:400])
    return counts, odd + [f"line {i + 1} allowed: {_WORK['lines'][i]}" for i in picks
                          if _WORK["refused"][i] and i not in refused]


def _share(job: tuple[str, str, list[int]]) -> tuple[Counter[str], list[str]]:
    return (_live if job[0] == "live" else _bulk)(job[1], job[2])


def run(mode: str, url: str, processes: int, check: bool) -> dict[str, Any]:
    """One timed run on a new sandbox: the staff first, then each process's share of the cases."""
    cw = open_casework(url)
    service.init_store(cw, sandbox=True)
    for policy in TEAMS:  # untimed: a protocol's first load proves it refines national, then it is cached
        cw.policies.versions_of(policy)
    cw.store.dispose()
    # live, by case (a student's cases together, STO-8); bulk, by team: a group holds the rows of the people its
    # allocations name until it commits, so importers sharing people deadlock (see the report)
    first, shards = _WORK["first"], _WORK["shards"] if mode == "live" else _WORK["teams"]
    key = (lambda s: zlib.crc32(s.encode()) % processes) if mode == "live" else (lambda s: s % processes)
    parts = [[i for i, s in enumerate(shards) if s is not None and key(s) == k and i not in first]
             for k in range(processes)]
    start = time.perf_counter()
    results = [_share((mode, url, [i for i, s in enumerate(shards) if s is None or i in first]))]
    if processes == 1:
        results.append(_share((mode, url, parts[0])))
    else:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            results += pool.map(_share, [(mode, url, part) for part in parts])
    seconds, audit = time.perf_counter() - start, None
    if check:
        report = service.verify_audit(cw := open_casework(url))
        cw.store.dispose()
        audit = f"{report.entries:,} entries, " + ("ok" if report.ok else f"BROKEN: {report.broken[:3]}")
    return {"counts": sum((c for c, _ in results), Counter[str]()), "odd": [o for _, found in results for o in found],
            "seconds": seconds, "audit": audit}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--referrals", type=int, default=15_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 10, 7),
                        help="the year's first day (default: the Monday after Kent's SWA trial began)")
    parser.add_argument("--mode", choices=("live", "bulk", "both"), default="both")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--processes", type=int, nargs="+", default=[1], help="PostgreSQL processes, e.g. 1 2 4")
    parser.add_argument("--group", type=int, default=bulk.DEFAULT_GROUP, help="actions per transaction in bulk")
    parser.add_argument("--postgres", help="an empty database for one run (default: a throwaway server)")
    parser.add_argument("--out", type=Path, help="write the actions here as JSON lines")
    parser.add_argument("--check", action="store_true", help="verify the audit log after each run")
    args = parser.parse_args()
    began = time.perf_counter()
    year = _Year(args.referrals, args.seed, args.start)
    actions = [r[3] for r in year.rows]
    # the first case of each protocol version opens with the staff, in one process: two processes opening the
    # first ones at once race to keep the version in the store, and one gets AlreadyExists (see the report)
    versions = {(r[2].p, r[2].kent1): i for i, r in reversed(list(enumerate(year.rows))) if r[2]}
    _WORK.update(actions=actions, lines=[to_line(a) for a in actions], refused=[r[4] for r in year.rows],
                 shards=[r[2].shard if r[2] else None for r in year.rows], group=args.group,
                 teams=[year.teams.index(r[2].team) if r[2] else None for r in year.rows],
                 first=set(versions.values()))
    made = time.perf_counter() - began
    if args.out:
        args.out.write_text("".join(line + "\n" for line in _WORK["lines"]))
    per = Counter(r[2].p if r[2] else "staff" for r in year.rows)
    print(f"{args.referrals:,} referrals from {args.start}, seed {args.seed}: {len(actions):,} actions "
          f"({sum(_WORK['refused']):,} to be refused) made in {made:.1f} s; "
          + ", ".join(f"{k} {v:,}" for k, v in sorted(per.items())))
    print("Routes: " + "; ".join(f"{k} {v:,}" for k, v in sorted(year.routes.items())) + "\n")
    modes = ("live", "bulk") if args.mode == "both" else (args.mode,)
    runs = [(m, "sqlite", 1) for m in modes if args.db != "postgres"]
    runs += [(m, "postgres", p) for m in modes for p in args.processes if args.db != "sqlite"]
    if args.postgres and sum(db == "postgres" for _, db, _ in runs) > 1:
        parser.error("--postgres names one empty database: ask for one run (one --mode, one --processes)")
    print("| mode | database | processes | actions | allowed | refused | seconds | actions/s |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    notes, broken = [], False
    with tempfile.TemporaryDirectory() as tmp, postgres_databases(
            args.postgres if args.db != "sqlite" else "(none)", *[f"sim_{n}" for n in range(len(runs))]) as urls:
        for n, (mode, db, processes) in enumerate(runs):
            result = run(mode, f"sqlite:///{tmp}/{n}.db" if db == "sqlite" else urls[f"sim_{n}"], processes, args.check)
            c, took, label = result["counts"], result["seconds"], f"{mode}, {db}, {processes} process(es)"
            print(f"| {mode} | {db} | {processes} | {sum(c.values()):,} | {c['allowed']:,} | {c['refused']:,} | "
                  f"{took:.1f} | {sum(c.values()) / took:,.0f} |", flush=True)
            if c["bad"] or result["odd"]:
                notes.append(f"- {label}: {c['bad']} bad input, {len(result['odd'])} judged otherwise than generated, "
                             f"e.g.\n  " + "\n  ".join(result["odd"][:5]))
            if result["audit"]:
                notes.append(f"- {label}: audit verify: {result['audit']}")
                broken |= "BROKEN" in result["audit"]
    print("\n" + "\n".join(notes))
    sys.exit(1 if broken else 0)


if __name__ == "__main__":
    main()
