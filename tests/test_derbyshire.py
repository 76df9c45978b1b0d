"""Derbyshire's Practice Matters: co-allocation of practitioners who are not social work qualified (seed 000)."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from casework.workflow import service
from casework.errors import AllocationRefused, RecordRefused, TransitionRefused
from casework.workflow.oversight import due_items

from .helpers import unmet_of, walk_to_assessment, walk_to_cin_plan


@pytest.fixture
def derby(sqlite_cw, clock):
    """Derbyshire staff in Erewash and Amber Valley; case D-1 in assessment, led by a social worker."""
    clock.now = datetime(2025, 3, 3, 9, tzinfo=timezone.utc)
    cw = sqlite_cw
    for sid, roles, reg, team in [("tm", ["team_manager"], "SW1", "Erewash"),
                                  ("ps", ["practice_supervisor"], "SW2", "Erewash"),
                                  ("sw", ["social_worker"], "SW3", "Erewash"),
                                  ("ccw", ["community_care_worker"], None, "Erewash"),
                                  ("tm_av", ["team_manager"], "SW4", "Amber Valley"),
                                  ("sw_av", ["social_worker"], "SW5", "Amber Valley"),
                                  ("ccw_av", ["community_care_worker"], None, "Amber Valley")]:
        service.add_staff(cw, sid, sid, roles, team=team, registration=reg, actor=None if sid == "tm" else "tm")
    walk_to_assessment(cw, "D-1", "derbyshire", "Erewash", "tm", "sw")
    return cw


def test_co_allocation_keeps_a_named_social_worker_holding_the_case(derby):
    """A CCW is co-allocated as worker alongside the social worker who holds the case."""  # DER-1
    service.record_fact(derby, "D-1", "assessment_completed", "sw")
    service.record_fact(derby, "D-1", "co_allocation_agreed", "ps")
    case = service.allocate(derby, "D-1", "sw", "ps", worker="ccw").case
    assert case["lead"]["id"] == "sw" and case["worker"]["id"] == "ccw"
    service.record_fact(derby, "D-1", "lead_agreed_with_partners", "ps")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(derby, "D-1", "ccw", "ps", worker=None)  # holding it needs a named SW or PS
    assert unmet_of(refused, "supervised_if_unqualified", "DER-1")


def test_non_social_workers_do_not_complete_single_assessments(derby):
    """Only a social worker completes the assessment; others may contribute."""  # DER-2
    service.record_fact(derby, "D-1", "co_allocation_agreed", "ps")
    with pytest.raises(RecordRefused) as refused:
        service.record_fact(derby, "D-1", "assessment_completed", "ccw")
    assert unmet_of(refused, "who", "DER-2")
    service.record_fact(derby, "D-1", "assessment_completed", "sw")
    service.allocate(derby, "D-1", "sw", "ps", worker="ccw")
    service.record_fact(derby, "D-1", "assessment_contribution", "ccw", note="Observed home conditions")


def test_co_allocation_only_at_the_end_of_assessment_and_when_the_ps_or_tm_agrees(derby, clock):
    """Before the assessment is complete, or without the PS/TM's agreement, co-allocation is refused."""  # DER-3
    service.record_fact(derby, "D-1", "co_allocation_agreed", "tm")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(derby, "D-1", "sw", "ps", worker="ccw")
    assert unmet_of(refused, "any_of", "DER-3")
    service.record_fact(derby, "D-1", "assessment_completed", "sw")
    clock.advance(hours=1)
    service.move_case(derby, "D-1", "start_cin_plan", "sw")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(derby, "D-1", "sw", "ps", worker="ccw")
    unmet = unmet_of(refused, "fact_recorded", "DER-3")
    assert "deems co-allocation appropriate" in unmet.sentence and "practice supervisor" in unmet.who_could
    service.record_fact(derby, "D-1", "co_allocation_agreed", "ps")
    assert service.allocate(derby, "D-1", "sw", "ps", worker="ccw").case["worker"]["id"] == "ccw"


def _co_allocated_cin(cw) -> None:
    service.record_fact(cw, "D-1", "assessment_completed", "sw")
    service.move_case(cw, "D-1", "start_cin_plan", "sw")
    service.record_fact(cw, "D-1", "co_allocation_agreed", "ps")
    service.allocate(cw, "D-1", "sw", "ps", worker="ccw", supervisor="ps")


def test_the_ps_or_sw_chairs_cin_meetings(derby):
    """The co-allocated practitioner cannot hold the CIN review; the allocated SW or PS does."""  # DER-4
    _co_allocated_cin(derby)
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(derby, "D-1", "hold_cin_review", "ccw")
    assert unmet_of(refused, "who", "DER-4")
    assert service.move_case(derby, "D-1", "hold_cin_review", "ps").case["state"] == "cin_plan"


def test_a_revised_assessment_in_the_cin_period_is_completed_by_a_social_worker(derby):
    """A revised single assessment is started in the CIN period and completed by the SW, not the CCW."""  # DER-5
    _co_allocated_cin(derby)
    service.move_case(derby, "D-1", "revise_assessment", "sw", reason="New concerns about school attendance")
    with pytest.raises(RecordRefused) as refused:
        service.record_fact(derby, "D-1", "assessment_completed", "ccw")
    assert unmet_of(refused, "who", "DER-5")
    service.record_fact(derby, "D-1", "assessment_completed", "sw")
    assert service.move_case(derby, "D-1", "start_cin_plan", "sw").case["state"] == "cin_plan"


def test_weekly_improvement_cycle_and_monthly_ps_supervision_are_due(derby, clock):
    """A co-allocated case is due the weekly improvement cycle and monthly PS supervision."""  # DER-6 DER-7
    _co_allocated_cin(derby)
    items = {i.name: i for i in due_items(derby, date(2025, 3, 3))}
    assert items["improvement_cycle"].due == date(2025, 3, 10) and items["improvement_cycle"].rules == ("DER-6",)
    assert items["ps_supervision"].due == date(2025, 4, 3) and items["ps_supervision"].rules == ("DER-7",)
    with pytest.raises(RecordRefused):
        service.record_fact(derby, "D-1", "supervision", "sw")
    clock.advance(days=6)
    service.record_fact(derby, "D-1", "improvement_cycle_attended", "ps", with_staff=["ccw"])
    service.record_fact(derby, "D-1", "supervision", "ps", note="All co-allocated cases reviewed")
    items = {i.name: i for i in due_items(derby, date(2025, 3, 9))}
    assert items["improvement_cycle"].due == date(2025, 3, 16) and items["ps_supervision"].due == date(2025, 4, 9)


def test_the_erewash_pilot_lets_alternatively_qualified_staff_hold_cases(derby, clock):
    """In Erewash from the pilot date a CCW may hold a case under a named SW or PS; elsewhere not."""  # DER-8
    _co_allocated_cin(derby)
    service.record_fact(derby, "D-1", "lead_agreed_with_partners", "ps")
    case = service.allocate(derby, "D-1", "ccw", "ps", supervisor="sw", worker=None).case
    assert case["lead"]["id"] == "ccw" and case["supervisor"]["id"] == "sw"
    walk_to_cin_plan(derby, "D-2", "derbyshire", "Amber Valley", "tm_av", "sw_av")
    service.record_fact(derby, "D-2", "co_allocation_agreed", "tm_av")
    service.record_fact(derby, "D-2", "lead_agreed_with_partners", "tm_av")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(derby, "D-2", "ccw_av", "tm_av", supervisor="sw_av")
    assert unmet_of(refused, "in_teams", "DER-8")


def test_the_pilot_does_not_apply_before_its_start_date(derby, clock):
    """Before the pilot's start date even Erewash cannot let a CCW hold a case."""  # DER-8
    clock.now = datetime(2024, 3, 4, 9, tzinfo=timezone.utc)
    walk_to_assessment(derby, "D-3", "derbyshire", "Erewash", "tm", "sw")
    service.record_fact(derby, "D-3", "assessment_completed", "sw")
    service.record_fact(derby, "D-3", "co_allocation_agreed", "ps")
    service.record_fact(derby, "D-3", "lead_agreed_with_partners", "ps")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(derby, "D-3", "ccw", "ps", supervisor="sw")
    assert unmet_of(refused, "within_dates", "DER-8")


def test_a_refused_supervisor_cites_derbyshires_rule_before_the_national_one(derby):
    """Only a qualified social worker or practice supervisor supervises in Derbyshire (DER-1); a refusal says so,
    then names WT-3, which DER-1 tightens."""
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(derby, "D-1", "sw", "ps", supervisor="tm")
    [unmet] = [u for u in refused.value.verdict.unmet if u.kind == "supervisor_role"]
    assert unmet.rules == ("DER-1", "WT-3")


def test_the_cin_plan_is_started_by_the_allocated_ps_or_sw_and_a_refusal_says_so(derby):
    """Starting the CIN plan is the allocated SW's or supervising PS's: a refusal cites DER-4 and names them."""  # DER-4
    service.record_fact(derby, "D-1", "assessment_completed", "sw")
    service.record_fact(derby, "D-1", "co_allocation_agreed", "ps")
    service.allocate(derby, "D-1", "sw", "ps", worker="ccw")
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(derby, "D-1", "start_cin_plan", "ccw")
    unmet = unmet_of(refused, "who", "DER-4")
    assert "sw (social worker)" in unmet.who_could and "ccw" not in unmet.who_could
    assert service.explain(derby, "D-1", "start_cin_plan", "ccw").unmet == refused.value.verdict.unmet


def test_a_pilot_lead_whose_case_returns_to_assessment_is_due_for_reallocation(derby, clock):
    """A revised assessment is a social worker's: once one starts under a pilot CCW lead, `due` lists the case
    for reallocation or review from that day until it is reallocated."""  # DER-5 DER-2 DER-8
    _co_allocated_cin(derby)
    service.record_fact(derby, "D-1", "lead_agreed_with_partners", "ps")
    service.allocate(derby, "D-1", "ccw", "ps", supervisor="sw", worker=None)
    assert not [i for i in due_items(derby, date(2025, 3, 3)) if i.name.startswith("holder_condition")]
    clock.advance(days=2)
    service.move_case(derby, "D-1", "revise_assessment", "sw", reason="New concerns about school attendance")
    clock.advance(days=7)
    [item] = [i for i in due_items(derby, clock.now.date()) if i.name == "holder_condition:lead"]
    assert item.overdue and item.due == date(2025, 3, 5) and item.rules[:1] == ("DER-5",)
    assert "ccw (community care worker)" in item.title
    service.allocate(derby, "D-1", "sw", "ps", supervisor=None)
    assert not [i for i in due_items(derby, clock.now.date()) if i.name.startswith("holder_condition")]
