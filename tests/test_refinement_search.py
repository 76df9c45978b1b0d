"""The refinement search finds loosenings on its own, without the loader's construction (issue 11).

Each loosened definition here is built directly from national's validated model, so it
never passes through the floor's checks: the search must find it by judging situations
with the real engine, and word a counterexample a practice lead can check.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

import pytest

from casework.workflow.deadlines import Duration
from casework.workflow.definition import Definition
from casework.workflow.loader import Policies
from casework.workflow.refinement import prove
from casework.workflow.requirements import ActorClause

N = Policies().get("national")


def _loose(**changes: Any) -> Definition:
    return replace(N, **{"name": "loose", "digest": "5eed" * 16, **changes})


def _event(name: str, **changes: Any) -> dict[str, Any]:
    return {"events": {**N.events, name: replace(N.events[name], **changes)}}


def _allocation(**changes: Any) -> dict[str, Any]:
    return {"allocation": replace(N.allocation, **changes)}


def _lead_policy(index: int, **changes: Any) -> dict[str, Any]:
    leads = list(N.allocation.leads)
    leads[index] = replace(leads[index], **changes)
    return _allocation(leads=tuple(leads))


def _fact(name: str, **changes: Any) -> dict[str, Any]:
    return {"facts": {**N.facts, name: replace(N.facts[name], **changes)}}


def _deadline(name: str, **changes: Any) -> dict[str, Any]:
    return {"deadlines": {**N.deadlines, name: replace(N.deadlines[name], **changes)}}


def _state(name: str, **changes: Any) -> dict[str, Any]:
    return {"states": {**N.states, name: replace(N.states[name], **changes)}}


#: (rule protected, what the loosening is, how to build it, where the counterexample points)
LOOSENINGS: list[tuple[str, str, Callable[[], Definition], tuple[Any, ...]]] = [
    ("WT-5", "anyone may start an s47 enquiry", lambda: _loose(**_event("start_s47", who=(ActorClause(),))),
     ("events", "start_s47", "who")),
    ("WT-5", "escalation without a registered lead",
     lambda: _loose(**_event("escalate_to_strategy", requires=N.events["escalate_to_strategy"].requires[1:])),
     ("events", "escalate_to_strategy")),
    ("WT-5", "a CP move from a CIN state", lambda: _loose(**_event("convene_icpc", sources=("s47_enquiry", "cin_plan"))),
     ("events", "convene_icpc", "from")),
    ("WT-5", "a registered-social-worker lead policy that checks no registration",
     lambda: _loose(**_lead_policy(0, requires=())), ("allocation", "leads")),
    ("WT-5", "a community care worker on the CP path",
     lambda: _loose(**_lead_policy(1, paths=("cin", "cp"))), ("allocation", "leads")),
    ("WT-3", "an unqualified lead with no supervisor", lambda: _loose(**_lead_policy(1, requires=N.allocation.leads[1]
                                                                                     .requires[1:])),
     ("allocation", "leads")),
    ("WT-3", "anyone may supervise", lambda: _loose(**_allocation(supervisors=(ActorClause(),))),
     ("allocation", "supervisors")),
    ("WT-4", "no agreement with partners before an unqualified lead",
     lambda: _loose(**_lead_policy(1, requires=N.allocation.leads[1].requires[:1])), ("allocation", "leads")),
    ("WT-4", "anyone may allocate", lambda: _loose(**_allocation(who=(ActorClause(),))), ("allocation", "who")),
    ("WT-4", "an unqualified supervisor may approve the assessment",
     lambda: _loose(**_fact("assessment_approved", who=(ActorClause(relation="supervisor"),))),
     ("facts", "assessment_approved", "who")),
    ("WT-4", "a CIN plan without the supervisor's approvals",
     lambda: _loose(**_event("start_cin_plan", requires=N.events["start_cin_plan"].requires[:3])),
     ("events", "start_cin_plan")),
    ("WT-6", "an ICPC within 1,000 working days",
     lambda: _loose(**_deadline("icpc_held", within=Duration(working_days=1000))), ("deadlines", "icpc_held")),
    ("WT-6", "an ICPC within 30 calendar days", lambda: _loose(**_deadline("icpc_held", within=Duration(days=30))),
     ("deadlines", "icpc_held")),
    ("WT-6", "CP reviews a year apart", lambda: _loose(**_deadline("cp_review", repeat=Duration(months=12))),
     ("deadlines", "cp_review")),
    ("WT-6", "an assessment deadline that stops running in assessment",
     lambda: _loose(**_deadline("assessment_complete", while_in=("referral",))), ("deadlines", "assessment_complete")),
    ("WT-6", "a CP review met by a case note",
     lambda: _loose(**_deadline("cp_review", met_by=(replace(N.deadlines["cp_review"].met_by[0],
         event=None, fact="case_note"),))), ("deadlines", "cp_review")),
    ("WT-5", "cases opening in a strategy discussion",
     lambda: _loose(**{"states": {**_state("referral", initial=False)["states"],
                                  "strategy_discussion": replace(N.states["strategy_discussion"],
                                      initial=True)}}), ("states", "strategy_discussion")),
    ("WT-7", "closing with no reason", lambda: _loose(**_event("close", requires=())), ("events", "close")),
    ("WT-6", "a move from a CIN plan straight into an s47 enquiry, leaving no ICPC due",
     lambda: _loose(events={**N.events, "fast_track": replace(N.events["start_s47"],
         sources=("cin_plan",), origin="loose")}), ("events", "fast_track")),
    ("WT-7", "back-dating by 100 years", lambda: _loose(backdate_days=36500), ("backdate_days",)),
]


@pytest.mark.parametrize("rule,what,build,where", LOOSENINGS, ids=[f"{r} {w}" for r, w, _, _ in LOOSENINGS])
def test_the_search_finds_each_loosening_with_a_readable_counterexample(rule, what, build, where):
    """For each loosening of WT-3..WT-7 the search, on its own, reports a situation where national refuses."""
    proof = prove(N, build(), use_cache=False)
    assert proof.counterexamples, what
    found = next((c for c in proof.counterexamples if c.path[:len(where)] == where), None)
    assert found is not None, [c.path for c in proof.counterexamples]
    text = found.problem()
    assert "loose allows what national refuses" in text and "national refuses:" in text
    assert found.fix


def test_a_counterexample_describes_the_people_and_the_case():
    """The situation names the person acting (role, registration, team, relation) and the case's state and day."""
    [found] = prove(N, _loose(**_event("start_s47", who=(ActorClause(),))), use_cache=False).counterexamples
    text = found.problem()
    assert "case C-1 of team" in text and "in state 'strategy_discussion'" in text
    assert "acting: P" in text and ("not registered" in text or "registration lapsed" in text)
    assert "is not among those who may do this" in text


def test_a_worker_alone_is_not_an_allocation_national_judges():
    """Co-allocating a worker (a local addition) is never compared with national: national has no workers."""
    derbyshire = Policies().load("derbyshire")
    assert derbyshire.definition.allocation.workers and not N.allocation.workers
    assert derbyshire.proof.ok and derbyshire.proof.situations > 1000


@pytest.mark.parametrize("name", ["derbyshire", "kent", "stockport", "torbay"])
def test_an_independent_search_of_each_shipped_protocol_finds_nothing(name):
    """A second search with another seed agrees with the first: every shipped protocol refines national (WT-2..WT-6)."""
    proof = prove(N, Policies().get(name), effort=0.6, use_cache=False, seed=20261202)
    assert proof.ok, [c.problem() for c in proof.counterexamples]
    assert proof.actions >= 30 and proof.situations > 1000 and proof.identical < proof.actions
