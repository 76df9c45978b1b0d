"""Stockport's case holding for student social workers (seed 002)."""
from __future__ import annotations

from datetime import date

import pytest

from casework.workflow import service
from casework.errors import AllocationRefused, MissingArguments, RecordRefused, TransitionRefused
from casework.workflow.oversight import due_items

from .helpers import unmet_of, walk_to_assessment

TEAM = "Stockport North"


@pytest.fixture
def sto(sqlite_cw):
    """Stockport staff; case S-1 in assessment held by the practice educator."""
    cw = sqlite_cw
    for sid, roles, reg, pcf in [("tm", ["team_manager"], "SW1", None), ("pe", ["practice_educator"], "SW2", None),
                                 ("ps", ["practice_supervisor"], "SW3", None), ("sw", ["social_worker"], "SW4", None),
                                 ("tl", ["team_leader"], "SW5", None), ("stu", ["student_social_worker"], None, 2),
                                 ("stu_x", ["student_social_worker"], None, 6)]:
        service.add_staff(cw, sid, sid, roles, team=TEAM, registration=reg, pcf_level=pcf,
                          actor=None if sid == "tm" else "tm")
    walk_to_assessment(cw, "S-1", "stockport", TEAM, "tm", "pe")
    return cw


def _to_cin_with_student(cw) -> None:
    service.allocate(cw, "S-1", "pe", "pe", worker="stu")
    service.record_fact(cw, "S-1", "assessment_completed", "pe")
    service.record_fact(cw, "S-1", "assessment_authorised", "pe")
    service.record_fact(cw, "S-1", "plan_agreed", "pe")
    service.move_case(cw, "S-1", "start_cin_plan", "pe")


def test_the_ps_pe_holds_the_case_on_record_and_the_student_works_it(sto):
    """The PS/PE is the lead on record; the student is the worker; a student cannot be the lead."""  # STO-1
    case = service.allocate(sto, "S-1", "pe", "pe", worker="stu").case
    assert case["lead"]["id"] == "pe" and case["worker"]["id"] == "stu"
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(sto, "S-1", "stu", "pe")
    assert unmet_of(refused, "lead_role", "WT-2")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(sto, "S-1", "sw", "tm", worker="stu")
    assert unmet_of(refused, "lead_has_role", "STO-1")


def test_allocation_is_the_ps_pe_judgement_within_the_student_pcf_levels(sto):
    """Only the PS/PE allocates a student's work, and only to a student at PCF levels 1-4."""  # STO-2
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(sto, "S-1", "pe", "tm", worker="stu")
    assert unmet_of(refused, "actor_has_role", "STO-2")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(sto, "S-1", "pe", "pe", worker="stu_x")
    assert unmet_of(refused, "lead_pcf_level", "STO-2")


def test_weekly_supervision_by_the_ps_pe_is_due(sto, clock):
    """A student-worked case is due supervision weekly from the PS/PE."""  # STO-3
    service.allocate(sto, "S-1", "pe", "pe", worker="stu")
    item = next(i for i in due_items(sto, clock.now.date()) if i.name == "student_supervision")
    assert item.due == date(2025, 3, 10) and item.rules == ("STO-3",)
    with pytest.raises(RecordRefused):
        service.record_fact(sto, "S-1", "student_supervision", "sw")
    clock.advance(days=5)
    service.record_fact(sto, "S-1", "student_supervision", "pe")
    item = next(i for i in due_items(sto, clock.now.date()) if i.name == "student_supervision")
    assert item.due == date(2025, 3, 15)


def test_assessments_authorised_and_plans_agreed_by_the_ps_pe(sto):
    """No CIN plan until the PS/PE has authorised the assessment and agreed the plan."""  # STO-4
    service.allocate(sto, "S-1", "pe", "pe", worker="stu")
    service.record_fact(sto, "S-1", "assessment_completed", "pe")
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(sto, "S-1", "start_cin_plan", "pe")
    assert {u.sentence.split("“")[1].split("”")[0] for u in refused.value.verdict.unmet} == {
        "the PS/PE has authorised the assessment", "the PS/PE has agreed the plan"}
    with pytest.raises(RecordRefused):
        service.record_fact(sto, "S-1", "assessment_authorised", "stu")
    service.record_fact(sto, "S-1", "assessment_authorised", "pe")
    service.record_fact(sto, "S-1", "plan_agreed", "pe")
    service.record_fact(sto, "S-1", "recording_agreed", "pe")
    assert service.move_case(sto, "S-1", "start_cin_plan", "pe").case["state"] == "cin_plan"


def test_the_student_records_the_assessment_and_the_ps_pe_authorises_its_latest_version(sto):
    """The student who works the case records their assessment; the PS/PE authorises it, and a revised recording
    needs authorising again before the CIN plan starts."""  # STO-1 STO-4
    service.allocate(sto, "S-1", "pe", "pe", worker="stu")
    with pytest.raises(RecordRefused) as refused:  # nothing to authorise yet
        service.record_fact(sto, "S-1", "assessment_authorised", "pe")
    unmet = unmet_of(refused, "any_of", "STO-4")
    assert ("stu (student social worker) can record “the student has recorded their assessment for the PS/PE to "
            "authorise” (casework case record S-1 student_assessment") in unmet.who_could
    with pytest.raises(RecordRefused):  # only the student who works the case
        service.record_fact(sto, "S-1", "student_assessment", "stu_x")
    service.record_fact(sto, "S-1", "student_assessment", "stu")
    service.record_fact(sto, "S-1", "assessment_authorised", "pe")
    service.record_fact(sto, "S-1", "assessment_completed", "pe")
    service.record_fact(sto, "S-1", "plan_agreed", "pe")
    service.record_fact(sto, "S-1", "student_assessment", "stu", note="Revised after the school's report")
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(sto, "S-1", "start_cin_plan", "pe")
    unmet = unmet_of(refused, "none_of", "STO-4")
    assert unmet.sentence.startswith("The PS/PE authorises the student's latest recording of the assessment")
    assert ("pe (practice educator) can record “the PS/PE has authorised the assessment” "
            "(casework case record S-1 assessment_authorised") in unmet.who_could
    service.record_fact(sto, "S-1", "assessment_authorised", "pe")
    assert service.move_case(sto, "S-1", "start_cin_plan", "pe").case["state"] == "cin_plan"


def test_a_joint_visit_within_six_weeks_of_allocation(sto, clock):
    """A joint visit is due within 6 weeks of allocation, with a qualified colleague, and then met."""  # STO-5
    service.allocate(sto, "S-1", "pe", "pe", worker="stu")
    item = next(i for i in due_items(sto, clock.now.date()) if i.name == "first_joint_visit")
    assert item.due == date(2025, 4, 14)
    assert next(i for i in due_items(sto, date(2025, 4, 15)) if i.name == "first_joint_visit").overdue
    with pytest.raises(MissingArguments):  # nobody named as taking part: a usage error, nothing written
        service.record_fact(sto, "S-1", "joint_visit", "stu")
    with pytest.raises(RecordRefused):
        service.record_fact(sto, "S-1", "joint_visit", "stu", with_staff=["stu_x"])
    service.record_fact(sto, "S-1", "joint_visit", "stu", with_staff=["pe"])
    assert "first_joint_visit" not in [i.name for i in due_items(sto, date(2025, 4, 15))]


def test_tac_meetings_chaired_by_ps_pe_until_the_student_is_assessed_competent(sto):
    """The student cannot chair a TAC meeting until, after the first one, the PS/PE records competence."""  # STO-6
    _to_cin_with_student(sto)
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(sto, "S-1", "hold_tac_meeting", "stu")
    assert unmet_of(refused, "any_of", "STO-6")
    # "after the initial TAC meeting": the competence cannot be recorded before one, so the student can
    # never chair the first
    with pytest.raises(RecordRefused) as refused:
        service.record_fact(sto, "S-1", "chair_competence", "pe")
    unmet = unmet_of(refused, "event_happened", "STO-6")
    assert "tl (team leader)" in unmet.who_could and "stu" not in unmet.who_could
    service.move_case(sto, "S-1", "hold_tac_meeting", "tl")
    service.record_fact(sto, "S-1", "chair_competence", "pe")
    assert service.move_case(sto, "S-1", "hold_tac_meeting", "stu").case["state"] == "cin_plan"
    # "future TAC meetings": the competence keeps counting after the student has chaired one (found by review)
    assert service.move_case(sto, "S-1", "hold_tac_meeting", "stu").case["state"] == "cin_plan"


def test_a_student_competence_to_chair_is_that_student_and_lapses_with_a_new_worker(sto, clock):
    """The competence belongs to the student who works the case: another student allocated later chairs only once
    the PS/PE assesses them."""  # STO-6
    _to_cin_with_student(sto)
    service.move_case(sto, "S-1", "hold_tac_meeting", "tl")
    service.record_fact(sto, "S-1", "chair_competence", "pe")
    service.add_staff(sto, "stu2", "stu2", ["student_social_worker"], team=TEAM, pcf_level=3, actor="tm")
    clock.advance(days=1)
    service.allocate(sto, "S-1", "pe", "pe", worker="stu2")
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(sto, "S-1", "hold_tac_meeting", "stu2")
    assert "since the current worker took the case" in unmet_of(refused, "any_of", "STO-6").sentence
    service.record_fact(sto, "S-1", "chair_competence", "pe")
    assert service.move_case(sto, "S-1", "hold_tac_meeting", "stu2").case["state"] == "cin_plan"


def test_students_are_never_keyworker_on_child_protection(sto):
    """A case with a student worker cannot enter child protection; tasks under supervision are recordable."""  # STO-7
    _to_cin_with_student(sto)
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(sto, "S-1", "escalate_to_strategy", "pe", reason="Disclosure")
    unmet = unmet_of(refused, "none_of", "STO-7")
    # the definition's own sentence, what holds now, and who could change it, by name (#14)
    assert unmet.sentence.startswith("A student is never the worker on a child protection case")
    assert "stu (student social worker)" in unmet.sentence and "pe (practice educator)," in unmet.who_could
    service.allocate(sto, "S-1", "pe", "pe", worker=None)
    service.move_case(sto, "S-1", "escalate_to_strategy", "pe", reason="Disclosure")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(sto, "S-1", "pe", "pe", worker="stu")
    assert unmet_of(refused, "worker_path", "WT-5")
    with pytest.raises(MissingArguments):
        service.record_fact(sto, "S-1", "supervised_task", "stu", note="Took notes at the strategy meeting")
    # "under the direct supervision of the Keyworker and Practice Supervisor/Educator": a social worker of
    # another team is neither
    service.allocate(sto, "S-1", "sw", "ps")
    with pytest.raises(RecordRefused) as refused:
        service.record_fact(sto, "S-1", "supervised_task", "stu", with_staff=["tl"], note="Took notes")
    found = [u for u in refused.value.verdict.unmet if u.kind == "with"]
    assert len(found) == 2 and all("STO-7" in u.rules for u in found)
    assert "sw (social worker)" in found[0].who_could
    with pytest.raises(RecordRefused):  # the keyworker alone is not enough
        service.record_fact(sto, "S-1", "supervised_task", "stu", with_staff=["sw"], note="Took notes")
    service.record_fact(sto, "S-1", "supervised_task", "stu", with_staff=["sw", "pe"],
                        note="Took notes at the strategy meeting")


def test_caseload_fits_the_student_level(sto):
    """A PCF level 2 student holds at most 3 open cases; a fourth allocation is refused."""  # STO-8
    for n in range(2, 5):
        walk_to_assessment(sto, f"S-{n}", "stockport", TEAM, "tm", "pe")
    for n in range(1, 4):
        service.allocate(sto, f"S-{n}", "pe", "pe", worker="stu")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(sto, "S-4", "pe", "pe", worker="stu")
    unmet = unmet_of(refused, "caseload_within", "STO-8")
    assert "already holds 3 open cases" in unmet.sentence
    service.allocate(sto, "S-1", "pe", "pe", worker=None)
    assert service.allocate(sto, "S-4", "pe", "pe", worker="stu").case["worker"]["id"] == "stu"
