"""Invariants under random sequences of actions by random staff (hypothesis, a real SQLite file per example).

Each example opens a fresh store, adds the standard staff, puts C-1 on a CIN plan led by
'sw' and opens C-2 as a new referral, then plays a random sequence of allocations (to
anyone, including community care workers, assistants, students and a social worker whose
registration has lapsed), facts, moves with random actors and reasons, back-dated
attempts and waits. The driver lets only casework's own errors through: anything else
fails the example.
"""
from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Iterator

import pytest

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from casework.store.schema import audit
from casework.workflow import service
from casework.workflow.clock import day_of
from casework.errors import CaseworkError, Refused
from casework.workflow.loader import Policies
from casework.workflow.workspace import open_casework

from .conftest import START, Clock
from .helpers import STAFF, TEAM, add_standard_staff, case_in_cin_plan
from .test_store_contract import Snapshot, snapshot


pytestmark = pytest.mark.slow

NATIONAL = Policies().get("national")
CASES = ["C-1", "C-2"]
PEOPLE = sorted(STAFF)
EVENTS = sorted(NATIONAL.events)
FACTS = sorted(NATIONAL.facts)
#: the moves onto and along the child protection path, drawn more often so that sequences reach it
CP_MOVES = ["escalate_to_strategy", "start_s47", "convene_icpc", "start_cp_plan", "hold_cp_review"]
#: people who might try a CP move: qualified or not
CP_ACTORS = ["sw", "asw", "tm", "ccw", "swa", "lapsed", "student", "tm_unreg"]
#: leads worth trying on a CP case: none of these may lead child protection (WT-5)
UNQUALIFIED = ["ccw", "swa", "fsw", "student", "lapsed", "tm_unreg"]
MANAGERS = ["tm", "ps", "sm", "tm_unreg", "outsider"]
SUPERVISORS = [service.KEEP, None, "sw", "ps", "asw", "lapsed", "tm_unreg", "ccw"]

case_id = st.sampled_from(CASES)
#: hours to back-date an action by: mostly none, sometimes a little, sometimes too far
backdate = st.sampled_from([None, None, None, None, 3, 30, 24 * 60])


@dataclass(frozen=True)
class Move:
    """A move attempt: *event* on *case* by *actor*, optionally back-dated."""

    case: str
    event: str
    actor: str
    reason: str | None
    hours_ago: int | None = None


@dataclass(frozen=True)
class Allocate:
    """An allocation attempt: *lead* (and *supervisor*, or KEEP) on *case*, by *actor*."""

    case: str
    lead: str
    actor: str
    supervisor: Any


@dataclass(frozen=True)
class Record:
    """A fact recorded on *case* by *actor*, optionally back-dated."""

    case: str
    fact: str
    actor: str
    hours_ago: int | None = None


@dataclass(frozen=True)
class Wait:
    """Time passes: the clock moves on by *days*."""

    days: int


#: people who may lead child protection, and managers who may allocate it
QUALIFIED_LEADS = ["sw", "sw2", "asw"]
ALLOCATORS = ["tm", "ps", "sm"]

single = st.one_of(
    st.builds(Move, case_id, st.sampled_from(CP_MOVES), st.sampled_from(CP_ACTORS), st.just("Injury reported"),
              backdate),
    st.builds(Move, case_id, st.sampled_from(EVENTS), st.sampled_from(PEOPLE), st.sampled_from([None, "", "why"]),
              backdate),
    st.builds(Allocate, case_id, st.sampled_from(UNQUALIFIED), st.sampled_from(MANAGERS),
              st.sampled_from(SUPERVISORS)),
    st.builds(Allocate, case_id, st.sampled_from(QUALIFIED_LEADS + ["lapsed"]), st.sampled_from(ALLOCATORS),
              st.sampled_from(SUPERVISORS)),
    st.builds(Allocate, case_id, st.sampled_from(PEOPLE), st.sampled_from(PEOPLE), st.sampled_from(SUPERVISORS)),
    st.builds(Record, case_id, st.just("lead_agreed_with_partners"), st.sampled_from(["tm", "ps", "sw"])),
    st.builds(Record, case_id, st.sampled_from(FACTS), st.sampled_from(PEOPLE), backdate),
    st.builds(Wait, st.integers(1, 45)),
)


@st.composite
def cp_walk(draw) -> list[Move]:
    """Consecutive CP moves on one case (escalate, s47, ICPC, plan, review), each by a random, often qualified, actor."""
    cid = draw(st.sampled_from(["C-1", "C-1", "C-2"]))
    first = draw(st.sampled_from([0, 0, 0, 1, 2, 3, 4]))
    last = draw(st.integers(first + 1, len(CP_MOVES)))
    actors = st.sampled_from(["sw", "tm", "sw", "tm", "sw", "tm", *CP_ACTORS])
    return [Move(cid, event, draw(actors), "Injury reported") for event in CP_MOVES[first:last]]


#: the lead's own escalation of C-1 to a strategy discussion, which the protocol allows
ESCALATE = Move("C-1", "escalate_to_strategy", "sw", "Injury reported")


def _sequence(escalate_first: bool, runs: list[list[Any]]) -> list[Any]:
    return ([ESCALATE] if escalate_first else []) + [action for run in runs for action in run][:30]


#: runs of actions (a CP walk is one run); half the examples start with C-1 already escalated,
#: so that random allocations, moves and waits are tried on a child protection case
sequences = st.builds(_sequence, st.booleans(),
                      st.lists(st.one_of(single.map(lambda action: [action]), cp_walk()), min_size=4, max_size=16))

#: a hand-written walk that is sure to reach and leave child protection, tried first by every property
TO_CP_AND_BACK = [
    Move("C-1", "escalate_to_strategy", "sw", "Injury reported"),
    Allocate("C-1", "ccw", "tm", "sw"),
    Move("C-1", "start_s47", "sw", None),
    Allocate("C-1", "lapsed", "tm", service.KEEP),
    Move("C-1", "convene_icpc", "ccw", None),
    Move("C-1", "convene_icpc", "tm", None),
    Wait(10),
    Move("C-1", "start_cp_plan", "sw", None),
    Allocate("C-1", "student", "tm", "ps"),
    Move("C-1", "end_cp_plan", "tm", "Risk reduced"),
    Record("C-1", "lead_agreed_with_partners", "tm"),
    Allocate("C-1", "ccw", "tm", "sw"),
    Move("C-1", "escalate_to_strategy", "ccw", "Injury reported"),
    Move("C-1", "escalate_to_strategy", "tm", "Injury reported"),
]

PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: what the examples met, so that a test can show the properties are not vacuous
seen: Counter[str] = Counter()


@dataclass(frozen=True)
class Step:
    """One action played against the store: what came of it, and the whole store before and after."""

    action: Any
    outcome: str  # 'done', 'refused' (audited attempt), 'rejected' (other casework error), 'waited'
    error: CaseworkError | None
    before: Snapshot
    after: Snapshot


def _apply(cw, clock: Clock, action: Any) -> None:
    at = clock() - timedelta(hours=action.hours_ago) if getattr(action, "hours_ago", None) else None
    if isinstance(action, Move):
        service.move_case(cw, action.case, action.event, action.actor, reason=action.reason, at=at)
    elif isinstance(action, Allocate):
        service.allocate(cw, action.case, action.lead, action.actor, supervisor=action.supervisor)
    else:
        service.record_fact(cw, action.case, action.fact, action.actor, at=at)


def _play(cw, clock: Clock, steps: list[Any]) -> Iterator[Step]:
    """Play *steps* one by one; only casework errors are caught, anything else fails the example."""
    for action in steps:
        before = snapshot(cw)
        outcome, error = "done", None
        if isinstance(action, Wait):
            clock.advance(days=action.days)
            outcome = "waited"
        else:
            try:
                _apply(cw, clock, action)
            except Refused as exc:
                outcome, error = "refused", exc
            except CaseworkError as exc:
                outcome, error = "rejected", exc
        seen[outcome] += 1
        if error is not None:
            seen[type(error).__name__] += 1
        yield Step(action, outcome, error, before, snapshot(cw))


class _Store:
    """A fresh workspace on a new SQLite file with the standard staff: C-1 on a CIN plan, C-2 a new referral."""

    start = START

    def __enter__(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.clock = Clock(self.start)
        self.cw = open_casework(f"sqlite:///{self._tmp.name}/casework.db", clock=self.clock)
        service.init_store(self.cw)
        add_standard_staff(self.cw)
        self.build()
        return self

    def build(self) -> None:
        case_in_cin_plan(self.cw, "C-1")
        service.open_case(self.cw, "C-2", "national", TEAM, "tm")

    def __exit__(self, *exc_info) -> None:
        self.cw.store.dispose()
        self._tmp.cleanup()


@PROPERTY
@given(sequences)
@example(TO_CP_AND_BACK)
def test_random_actions_never_leave_an_unqualified_lead_on_the_cp_path(steps):
    """After every step, a case on the CP path is led by someone qualified that day; only casework errors; chain ok."""
    # WT-5: child protection stays with registered social workers.
    # WT-7: every attempt is recorded in a hash chain that still verifies.
    with _Store() as s:
        staff = {person.id: person for person in service.list_staff(s.cw)}
        on_cp_path = False
        for _ in _play(s.cw, s.clock, steps):
            for cid in CASES:
                case = service.show_case(s.cw, cid)
                if NATIONAL.states[case["state"]].path != "cp":
                    continue
                on_cp_path = True
                assert case["path"] == "cp"
                assert case["lead"] is not None, case
                lead = staff[case["lead"]["id"]]
                assert lead.qualified_on(day_of(s.clock())), (cid, case["state"], lead)
            assert service.verify_audit(s.cw).ok
        seen["examples"] += 1
        seen["examples on the cp path"] += on_cp_path


@PROPERTY
@given(sequences)
@example(TO_CP_AND_BACK)
def test_a_refused_action_changes_nothing_but_its_own_audit_row(steps):
    """A refusal leaves every table byte-for-byte as it was except one new 'refused' audit row; other errors none."""
    # WT-7: the refused attempt itself is on the record, and nothing else moves.
    with _Store() as s:
        for step in _play(s.cw, s.clock, steps):
            if step.outcome == "refused":
                assert {k: v for k, v in step.after.items() if k != "audit"} == \
                    {k: v for k, v in step.before.items() if k != "audit"}
                assert step.after["audit"][:-1] == step.before["audit"]
                assert len(step.after["audit"]) == len(step.before["audit"]) + 1
                entry = service.case_history(s.cw, step.action.case)[-1]
                assert entry["action"] == "refused"
            elif step.outcome in ("rejected", "waited"):
                assert step.after == step.before, step.error


@PROPERTY
@given(sequences)
@example(TO_CP_AND_BACK)
def test_every_attempt_that_reaches_the_store_is_audited_once(steps):
    """Audit entries added equal successes plus refusals, in order and on the right case's chain: none is lost."""
    # WT-7: the audit log is complete; the hash chain holds at the end.
    with _Store() as s:
        start = len(snapshot(s.cw)["audit"])
        expected: list[tuple[str, str]] = []
        for step in _play(s.cw, s.clock, steps):
            if step.outcome == "done":
                kind = {Move: "move", Allocate: "allocate", Record: "fact"}[type(step.action)]
                expected.append((f"case:{step.action.case}", kind))
            elif step.outcome == "refused":
                expected.append((f"case:{step.action.case}", "refused"))
        rows = snapshot(s.cw)["audit"]
        added = [dict(zip(audit.columns.keys(), row, strict=False)) for row in rows[start:]]
        assert [(r["chain"], r["action"]) for r in added] == expected
        assert len(rows) == start + len(expected)
        report = service.verify_audit(s.cw)
        assert report.ok and report.entries == len(rows)


# --- back-dating within the window ------------------------------------------------------------------

#: a social worker whose registration lapsed ten days before START: qualified on days inside the
#: back-dating window, never on the day any action below is taken
RECENT = ("recent", date(2025, 2, 21))
BACKDATING = st.integers(1, 29 * 24)


class _LapsedLeadStore(_Store):
    """From 20 days before START: C-1 escalated to a strategy discussion (lead sw); C-2 on a CIN plan led by
    'recent' (registered then). The clock then stands at START, when 'recent' is registered no longer."""

    start = START - timedelta(days=20)

    def build(self) -> None:
        service.add_staff(self.cw, RECENT[0], "RECENT", ["social_worker"], team=TEAM, registration="SW900009",
                          registered_until=RECENT[1], actor="tm")
        case_in_cin_plan(self.cw, "C-1")
        service.move_case(self.cw, "C-1", "escalate_to_strategy", "sw", reason="Injury reported")
        service.open_case(self.cw, "C-2", "national", TEAM, "tm")
        service.allocate(self.cw, "C-2", RECENT[0], "tm")
        service.move_case(self.cw, "C-2", "decide_assessment", "tm")
        service.record_fact(self.cw, "C-2", "assessment_completed", RECENT[0])
        service.move_case(self.cw, "C-2", "start_cin_plan", RECENT[0])
        self.clock.now = START


#: allocate C-1 (in a strategy discussion) to a lead, or escalate C-2 (led by 'recent') to one
BACKDATED_ACTION = st.one_of(st.tuples(st.just("allocate"), st.sampled_from([*PEOPLE, RECENT[0]])),
                             st.just(("escalate", None)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BACKDATED_ACTION, BACKDATING)
@example(("allocate", RECENT[0]), 15 * 24)
@example(("escalate", None), 15 * 24)
def test_a_back_dated_action_never_leaves_child_protection_with_a_lead_unqualified_today(action, hours_ago):
    """Back-dating inside the window cannot hand a CP case, today, to someone whose registration has lapsed."""
    # WT-5: child protection stays with registered social workers, whatever date the entry carries.
    with _LapsedLeadStore() as s:
        (kind, lead), at = action, s.clock() - timedelta(hours=hours_ago)
        try:
            if kind == "allocate":
                service.allocate(s.cw, "C-1", lead, "tm", at=at)
            else:
                service.move_case(s.cw, "C-2", "escalate_to_strategy", "tm", reason="Injury reported", at=at)
        except CaseworkError:
            pass
        staff = {person.id: person for person in service.list_staff(s.cw)}
        today = day_of(s.clock())
        for cid in CASES:
            case = service.show_case(s.cw, cid)
            if case["path"] == "cp":
                assert staff[case["lead"]["id"]].qualified_on(today), (
                    f"{cid} is in {case['state']} led by {case['lead']['id']}, not registered on {today}")
        assert service.verify_audit(s.cw).ok


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["allocate", "record", "move"]), BACKDATING)
@example("allocate", 5 * 24)
@example("record", 5 * 24)
def test_no_action_on_a_case_is_dated_before_the_case_was_opened(kind, hours_ago):
    """An allocation, fact or move back-dated to before the referral was received is refused as bad input."""
    # WT-7: the record says what happened when; nothing happens to a case before it exists.
    with _Store() as s:
        s.clock.advance(days=2)
        service.open_case(s.cw, "C-3", "national", TEAM, "tm")
        opened = service.show_case(s.cw, "C-3")["opened_at"]
        at = s.clock() - timedelta(hours=hours_ago)
        try:
            if kind == "allocate":
                service.allocate(s.cw, "C-3", "sw", "tm", at=at)
            elif kind == "record":
                service.record_fact(s.cw, "C-3", "case_note", "tm", at=at)
            else:
                service.move_case(s.cw, "C-3", "decide_no_further_action", "tm", reason="No concerns", at=at)
        except CaseworkError:
            pass
        dated = [(e["action"], e["at"]) for e in service.case_history(s.cw, "C-3") if e["action"] != "refused"]
        assert all(when >= opened for _, when in dated), (opened, dated)


def test_the_random_sequences_really_reach_child_protection_and_refusals():
    """The properties are not vacuous: examples reached the CP path, were refused, and were rejected as bad input."""
    if not seen["examples"]:  # run on its own: play the properties first
        test_random_actions_never_leave_an_unqualified_lead_on_the_cp_path()
        test_a_refused_action_changes_nothing_but_its_own_audit_row()
    # more than the hand-written walk: random examples reach child protection too
    assert seen["examples on the cp path"] >= 3, seen
    assert seen["refused"] > 0 and seen["rejected"] > 0 and seen["done"] > 0, seen
    assert seen["TransitionRefused"] and seen["AllocationRefused"] and seen["RecordRefused"], seen
