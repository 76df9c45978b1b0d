"""Kent's Lead Professional trial for social work assistants (seed 001)."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from casework.workflow import service
from casework.errors import MissingArguments, AllocationRefused, RecordRefused, TransitionRefused
from casework.workflow.oversight import due_items

from .helpers import unmet_of, walk_to_cin_plan

TRIAL_TEAM = "Thanet"


@pytest.fixture
def kent(sqlite_cw, clock):
    """Kent staff in Thanet and a CIN case K-1 led by a social worker, in November 2024."""
    clock.now = datetime(2024, 11, 4, 9, tzinfo=timezone.utc)
    cw = sqlite_cw
    for sid, roles, reg, team, training in [
        ("tm", ["team_manager"], "SW1", TRIAL_TEAM, ()),
        ("ps", ["practice_supervisor"], "SW2", TRIAL_TEAM, ()),
        ("sw", ["social_worker"], "SW3", TRIAL_TEAM, ()),
        ("swa", ["social_work_assistant"], None, TRIAL_TEAM, ("lead_professional_training",)),
        ("swa_new", ["social_work_assistant"], None, TRIAL_TEAM, ()),
        ("ccw", ["community_care_worker"], None, TRIAL_TEAM, ()),
    ]:
        service.add_staff(cw, sid, sid, roles, team=team, registration=reg, training=training,
                          actor=None if sid == "tm" else "tm")
    _cin_case(cw, "K-1", TRIAL_TEAM)
    return cw


def _cin_case(cw, cid: str, team: str, manager: str = "tm") -> None:
    walk_to_cin_plan(cw, cid, "kent", team, manager, "sw")
    service.record_fact(cw, cid, "lead_agreed_with_partners", manager)


def test_a_trained_swa_may_lead_a_cin_case_in_a_trial_district(kent):
    """In a trial district, during the trial, a trained SWA under a practice supervisor leads a CIN case."""  # KEN-1
    result = service.allocate(kent, "K-1", "swa", "tm", supervisor="ps")
    assert result.case["lead"]["id"] == "swa" and result.case["supervisor"]["id"] == "ps"


def test_other_non_social_workers_are_not_lead_professionals_in_kent(kent):
    """Kent's trial lists SWAs only: a community care worker may not lead."""  # KEN-1
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(kent, "K-1", "ccw", "tm", supervisor="ps")
    assert unmet_of(refused, "lead_role", "WT-2")


def test_only_in_the_trial_districts(kent):
    """Outside the six trial districts an SWA cannot be lead professional."""  # KEN-2
    service.add_staff(kent, "tm_ash", "tm_ash", ["team_manager"], team="Ashford", registration="SW9", actor="tm")
    _cin_case(kent, "K-2", "Ashford", "tm_ash")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(kent, "K-2", "swa", "tm_ash", supervisor="ps")
    unmet = unmet_of(refused, "in_teams", "KEN-2")
    assert "Ashford" in unmet.sentence and "Thanet" in unmet.sentence


@pytest.mark.parametrize("day,allowed", [(date(2024, 10, 3), False), (date(2024, 10, 4), True),
                                         (date(2025, 4, 3), True), (date(2025, 4, 4), False)])
def test_only_during_the_six_months_from_4_october_2024(kent, clock, day, allowed):
    """The trial window is 4 October 2024 to 3 April 2025 inclusive, for a case opened under the trial version."""  # KEN-2
    clock.now = datetime(2024, 10, 3, 12, tzinfo=timezone.utc)
    _cin_case(kent, "K-9", TRIAL_TEAM)
    clock.now = datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)
    if allowed:
        assert service.allocate(kent, "K-9", "swa", "tm", supervisor="ps").case["lead"]["id"] == "swa"
    else:
        with pytest.raises(AllocationRefused) as refused:
            service.allocate(kent, "K-9", "swa", "tm", supervisor="ps")
        assert unmet_of(refused, "within_dates", "KEN-2")


def test_the_agreed_training_comes_first(kent):
    """An SWA who has not completed the agreed training cannot take the role."""  # KEN-6
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(kent, "K-1", "swa_new", "tm", supervisor="ps")
    unmet = unmet_of(refused, "lead_has_training", "KEN-6")
    assert "lead_professional_training" in unmet.sentence and "--training" in unmet.who_could


def test_a_qualified_practice_supervisor_or_manager_oversees(kent):
    """The SWA needs a named social-work-qualified supervisor or manager; a social worker alone is not one here."""  # KEN-7
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(kent, "K-1", "swa", "tm")
    assert unmet_of(refused, "supervised_if_unqualified", "KEN-7")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(kent, "K-1", "swa", "tm", supervisor="sw")
    unmet = unmet_of(refused, "supervisor_role", "KEN-7")
    assert unmet.rules == ("KEN-7", "WT-3")  # Kent's own rule first, then the national rule it tightens


def test_monthly_supervision_is_due_and_met(kent, clock):
    """An SWA-led case is due formal supervision monthly; a qualified supervisor's record meets it."""  # KEN-3
    service.allocate(kent, "K-1", "swa", "tm", supervisor="ps")
    item = next(i for i in due_items(kent, date(2024, 11, 4)) if i.name == "swa_supervision")
    assert item.due == date(2024, 12, 4) and item.rules == ("KEN-3",)
    with pytest.raises(RecordRefused):
        service.record_fact(kent, "K-1", "supervision", "swa")
    clock.advance(days=20)
    service.record_fact(kent, "K-1", "supervision", "ps")
    item = next(i for i in due_items(kent, date(2024, 11, 24)) if i.name == "swa_supervision")
    assert item.due == date(2024, 12, 24)


def test_joint_visits_are_with_a_qualified_practitioner(kent):
    """A joint visit is recorded only with a social-work-qualified practitioner."""  # KEN-4
    service.allocate(kent, "K-1", "swa", "tm", supervisor="ps")
    with pytest.raises(RecordRefused) as refused:
        service.record_fact(kent, "K-1", "joint_visit", "swa", with_staff=["ccw"])
    unmet = unmet_of(refused, "with", "KEN-4")
    # who could: the qualified people on the staff list, by name, never the CCW named (#14)
    assert "ps (practice supervisor)" in unmet.who_could and "ccw" not in unmet.who_could
    with pytest.raises(MissingArguments):  # nobody named at all: a usage error that writes nothing
        service.record_fact(kent, "K-1", "joint_visit", "swa")
    service.record_fact(kent, "K-1", "joint_visit", "swa", with_staff=["sw"])
    assert service.show_case(kent, "K-1")["facts"][-1]["with"] == ["sw"]


def test_formal_cin_meetings_are_chaired_by_a_qualified_social_worker(kent):
    """The SWA lead cannot hold the CIN review or the final meeting; the qualified supervisor can."""  # KEN-5
    service.allocate(kent, "K-1", "swa", "tm", supervisor="ps")
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(kent, "K-1", "hold_cin_review", "swa")
    assert unmet_of(refused, "who", "KEN-5")
    with pytest.raises(TransitionRefused):
        service.move_case(kent, "K-1", "step_down", "swa", reason="Needs met")
    assert service.move_case(kent, "K-1", "hold_cin_review", "ps").case["state"] == "cin_plan"


def test_when_the_trial_ends_swa_led_cases_are_due_for_reallocation(kent, clock):
    """After 3 April 2025 every SWA-led case shows as due for reallocation within 10 working days."""  # KEN-2
    service.allocate(kent, "K-1", "swa", "tm", supervisor="ps")
    assert "trial_ended" not in [i.name for i in due_items(kent, date(2025, 3, 1)) if i.overdue]
    item = next(i for i in due_items(kent, date(2025, 4, 17)) if i.name == "trial_ended")
    assert item.due == date(2025, 4, 17) and not item.overdue and item.working_days_left == 0
    late = next(i for i in due_items(kent, date(2025, 4, 22)) if i.name == "trial_ended")
    # Good Friday and Easter Monday do not count: the 22nd is one working day late
    assert late.overdue and late.case_id == "K-1" and late.working_days_left == -1
    clock.now = datetime(2025, 4, 23, 9, tzinfo=timezone.utc)
    service.allocate(kent, "K-1", "sw", "tm", supervisor=None)
    assert "trial_ended" not in [i.name for i in due_items(kent, date(2025, 4, 23))]


def test_the_trial_and_what_follows_it_are_two_versions(kent, clock):
    """Cases opened during the trial run under version 1 and keep an SWA lead; from 4 April 2025 new cases open
    under version 2, where no SWA leads, and the trial's open cases show in due as needing migration (KEN-2)."""
    from casework.workflow.policies import policy_versions

    service.allocate(kent, "K-1", "swa", "tm", supervisor="ps")
    assert service.show_case(kent, "K-1")["protocol_version"].startswith("kent v1")
    clock.now = datetime(2025, 4, 10, 9, tzinfo=timezone.utc)
    _cin_case(kent, "K-2", TRIAL_TEAM)
    assert service.show_case(kent, "K-2")["protocol_version"].startswith("kent v3")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(kent, "K-2", "swa", "tm", supervisor="ps")
    assert [u.kind for u in refused.value.verdict.unmet] == ["lead_role"]
    overdue = {(i.case_id, i.name) for i in due_items(kent, overdue_only=True)}
    assert ("K-1", "version_ended") in overdue and not {name for case, name in overdue if case == "K-2"}
    assert ("K-1", "trial_ended") in {(i.case_id, i.name) for i in due_items(kent)}  # v1's own deadline runs on
    assert [(v["version"], v["current"], sum(v["cases"].values())) for v in policy_versions(kent, "kent")] == [
        ("1", False, 1), ("3", True, 1)]
