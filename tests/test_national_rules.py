"""Each national rule (WT-1..WT-5, WT-7) proved through the service API on a real store.

WT-6 (timescales) is covered by tests/test_timescales.py.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from casework.store import audit
from casework.workflow import service
from casework.errors import AllocationRefused, InvalidDefinition, MissingArguments, RecordRefused, TransitionRefused
from casework.workflow.loader import load_file

from .helpers import STAFF, TEAM, add_standard_staff, case_in_assessment, case_in_cin_plan, hand_to_ccw, unmet_of

#: the moves that take a social-worker-led CIN case one step further down the CP path each
_CP_WALK = [("strategy_discussion", "escalate_to_strategy"), ("s47_enquiry", "start_s47"),
            ("icpc", "convene_icpc"), ("cp_plan", "start_cp_plan")]


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def work(sqlite_cw):
    """A workspace on a real SQLite file with the standard staff."""
    add_standard_staff(sqlite_cw)
    return sqlite_cw


def _walk_cp(cw, cid: str, upto: str) -> None:
    """Take a CIN case led by 'sw' down the CP path until it is in *upto*."""
    for state, event in _CP_WALK:
        service.move_case(cw, cid, event, "sw", reason="Non-accidental injury")
        if state == upto:
            return
    raise ValueError(upto)


def _kinds(refused) -> set[str]:
    return {u.kind for u in refused.value.verdict.unmet}


def _rules(refused) -> set[str]:
    return set(refused.value.verdict.rules)


# WT-1 ------------------------------------------------------------------------------------


def test_no_move_out_of_referral_without_a_lead(work):
    """Every move on from a referral into assessment is refused until a lead practitioner is allocated."""
    # WT-1
    service.open_case(work, "C-1", "national", TEAM, "tm")
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(work, "C-1", "decide_assessment", "tm")
    unmet = unmet_of(refused, "lead_allocated", "WT-1")
    assert "C-1 has no allocated lead practitioner" in unmet.sentence
    assert "must allocate a lead practitioner" in unmet.who_could
    assert service.show_case(work, "C-1")["state"] == "referral"
    service.allocate(work, "C-1", "sw", "tm")
    assert service.move_case(work, "C-1", "decide_assessment", "tm").case["state"] == "assessment"


def test_allocation_replaces_the_one_lead(work):
    """Reallocation swaps the single lead: the old lead no longer holds or acts as lead, and history keeps both."""
    # WT-1
    case_in_cin_plan(work)
    result = service.allocate(work, "C-1", "sw2", "tm", reason="Caseload balance")
    shown = service.show_case(work, "C-1")
    assert shown["lead"]["id"] == "sw2" and result.case["lead"]["id"] == "sw2"
    assert [c["lead_id"] for c in service.list_cases(work)] == ["sw2"]
    assert [c["previous_lead_id"] for c in service.list_cases(work)] == ["sw"]
    allocations = [e for e in service.case_history(work, "C-1") if e["action"] == "allocate"]
    assert [(e["payload"]["lead_id"], e["payload"]["previous_lead_id"]) for e in allocations] == [
        ("sw", None), ("sw2", "sw")]
    assert allocations[-1]["payload"]["reason"] == "Caseload balance"
    # the former lead has lost the lead's right to act; the new one has it
    assert not service.explain(work, "C-1", "hold_cin_review", "sw").allowed
    assert service.explain(work, "C-1", "hold_cin_review", "sw2").allowed


def test_a_closed_case_gets_no_lead(work):
    """A lead is allocated only while the case is open; a closed case must be reopened first."""
    # WT-1
    case_in_cin_plan(work)
    service.move_case(work, "C-1", "close", "tm", reason="Needs met")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(work, "C-1", "sw2", "tm")
    assert "state" in _kinds(refused)
    assert service.show_case(work, "C-1")["lead"]["id"] == "sw"


# WT-2 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["community_care_worker", "social_work_assistant", "family_support_worker",
                                  "early_help_practitioner", "partner_practitioner"])
def test_a_practitioner_who_is_not_a_social_worker_may_lead_a_cin_case(work, role):
    """Each non-social-worker role the national protocol lists can be allocated lead of a CIN case."""
    # WT-2
    service.add_staff(work, "np", "Nadia", [role], team=TEAM, actor="tm")
    case_in_cin_plan(work)
    service.record_fact(work, "C-1", "lead_agreed_with_partners", "tm")
    result = service.allocate(work, "C-1", "np", "tm", supervisor="ps")
    assert result.verdict.allowed
    shown = service.show_case(work, "C-1")
    assert (shown["lead"]["id"], shown["lead"]["roles"], shown["supervisor"]["id"]) == ("np", [role], "ps")
    assert service.move_case(work, "C-1", "hold_cin_review", "np").case["state"] == "cin_plan"


def test_a_student_social_worker_may_not_lead_under_the_national_protocol(work):
    """The national protocol does not list students, so allocating one as lead is refused (lead_role)."""
    # WT-2
    case_in_cin_plan(work)
    service.record_fact(work, "C-1", "lead_agreed_with_partners", "tm")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(work, "C-1", "student", "tm", supervisor="ps")
    unmet = unmet_of(refused, "lead_role", "WT-2")
    assert "STUDENT (student social worker, student) may not be lead" in unmet.sentence
    assert "community care worker" in unmet.who_could
    assert service.show_case(work, "C-1")["lead"]["id"] == "sw"


# WT-3 ------------------------------------------------------------------------------------


def test_an_unqualified_lead_without_a_supervisor_is_refused(work):
    """A CCW cannot become lead with no named supervisor; naming a registered one makes it allowed."""
    # WT-3
    case_in_cin_plan(work)
    service.record_fact(work, "C-1", "lead_agreed_with_partners", "tm")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(work, "C-1", "ccw", "tm", supervisor=None)
    unmet = unmet_of(refused, "supervised_if_unqualified", "WT-3")
    assert "has no named supervisor" in unmet.sentence
    assert service.allocate(work, "C-1", "ccw", "tm", supervisor="asw").case["supervisor"]["id"] == "asw"


@pytest.mark.parametrize("supervisor,note", [("tm_unreg", "is not social-work-qualified,"),
                                             ("lapsed", "lapsed on 31 Dec 2024")])
def test_a_supervisor_must_be_currently_registered(work, supervisor, note):
    """An unregistered manager, or a social worker whose registration lapsed, cannot supervise a CCW lead."""
    # WT-3
    case_in_cin_plan(work)
    service.record_fact(work, "C-1", "lead_agreed_with_partners", "tm")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(work, "C-1", "ccw", "tm", supervisor=supervisor)
    assert {"supervisor_role", "supervised_if_unqualified"} <= _kinds(refused)
    assert note in unmet_of(refused, "supervised_if_unqualified", "WT-3").sentence
    assert unmet_of(refused, "supervisor_role", "WT-3")
    assert service.show_case(work, "C-1")["lead"]["id"] == "sw"


def test_moves_stop_once_the_supervisor_registration_lapses(work, clock):
    """A CCW-led CIN review is allowed on the supervisor's last registered day and refused the day after."""
    # WT-3
    clock.now = _utc(2024, 12, 16, 9)
    case_in_cin_plan(work)
    hand_to_ccw(work, supervisor="lapsed")
    clock.now = _utc(2025, 1, 6, 9)
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(work, "C-1", "hold_cin_review", "ccw", at=_utc(2025, 1, 2, 10))
    unmet = unmet_of(refused, "supervised_if_unqualified", "WT-3")
    assert "lapsed on 31 Dec 2024" in unmet.sentence and "supervisor" in unmet.who_could
    # dated on the supervisor's last registered day the review is allowed in itself, but a back-dated
    # action must also be allowed today, so recording it late is refused too, and 'can' says so (#14)
    asked = service.explain(work, "C-1", "hold_cin_review", "ccw", at=_utc(2024, 12, 31, 15))
    with pytest.raises(TransitionRefused) as late:
        service.move_case(work, "C-1", "hold_cin_review", "ccw", at=_utc(2024, 12, 31, 15))
    assert any(u.sentence.startswith("Today:") for u in late.value.verdict.unmet)
    assert not asked.allowed and [u.sentence for u in asked.unmet] == [u.sentence for u in late.value.verdict.unmet]
    clock.now = _utc(2024, 12, 31, 15)
    assert service.explain(work, "C-1", "hold_cin_review", "ccw").allowed
    clock.now = _utc(2025, 1, 6, 9)
    assert not service.explain(work, "C-1", "hold_cin_review", "ccw").allowed


# WT-4 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["sw2", "ccw", "tm_unreg"])
def test_only_a_registered_manager_allocates(work, actor):
    """A social worker, a CCW or an unregistered team manager trying to allocate is refused with kind 'who'."""
    # WT-4
    service.open_case(work, "C-1", "national", TEAM, "tm")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(work, "C-1", "sw", actor)
    unmet = unmet_of(refused, "who", "WT-4")
    assert "registered team manager" in unmet.who_could
    assert service.show_case(work, "C-1")["lead"] is None
    assert service.allocate(work, "C-1", "sw", "tm").case["lead"]["id"] == "sw"


def test_the_lead_must_be_agreed_with_partners_before_an_unqualified_lead_is_allocated(work):
    """Allocating a CCW needs 'lead_agreed_with_partners' recorded in the current state."""
    # WT-4
    case_in_cin_plan(work)
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(work, "C-1", "ccw", "tm", supervisor="sw")
    assert "agreed with partners who the lead practitioner is" in unmet_of(refused, "fact_recorded", "WT-4").sentence
    service.record_fact(work, "C-1", "lead_agreed_with_partners", "tm")
    assert service.allocate(work, "C-1", "ccw", "tm", supervisor="sw").case["lead"]["id"] == "ccw"


def test_an_unqualified_lead_plan_needs_the_supervisor_approvals(work):
    """start_cin_plan with a CCW lead is refused until the supervisor records assessment and plan approval."""
    # WT-4
    case_in_assessment(work)
    service.record_fact(work, "C-1", "lead_agreed_with_partners", "tm")
    service.allocate(work, "C-1", "ccw", "tm", supervisor="sw")
    service.record_fact(work, "C-1", "assessment_completed", "ccw")
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(work, "C-1", "start_cin_plan", "ccw")
    wt4 = [u for u in refused.value.verdict.unmet if "WT-4" in u.rules]
    assert [u.kind for u in wt4] == ["any_of", "any_of"]
    # "who could" names the people who may record the approval now: the supervisor and the team's managers,
    # never the CCW who asked (#14)
    assert ("can record “the social-work-qualified supervisor has approved the lead practitioner's assessment” "
            "(casework case record C-1 assessment_approved --as STAFF ...)") in wt4[0].who_could
    assert "can record “the social-work-qualified supervisor has reviewed and approved the plan”" in wt4[1].who_could
    assert "'plan_approved'" not in wt4[1].who_could  # the title in the sentence, the identifier in the command
    assert all("SW (social worker, sw)" in u.who_could and "ccw" not in u.who_could.split("Or:")[-1] for u in wt4)

    service.record_fact(work, "C-1", "assessment_approved", "sw")
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(work, "C-1", "start_cin_plan", "ccw")
    assert ["plan_approved" in u.who_could for u in refused.value.verdict.unmet] == [True]

    service.record_fact(work, "C-1", "plan_approved", "sw")
    assert service.move_case(work, "C-1", "start_cin_plan", "ccw").case["state"] == "cin_plan"


@pytest.mark.parametrize("actor", ["ccw", "outsider"])
def test_approvals_are_recorded_only_by_the_supervisor_or_a_manager_of_the_team(work, actor):
    """The CCW lead, or a manager of another team, cannot record the approval of the CCW's assessment."""
    # WT-4
    case_in_assessment(work)
    service.record_fact(work, "C-1", "lead_agreed_with_partners", "tm")
    service.allocate(work, "C-1", "ccw", "tm", supervisor="sw")
    with pytest.raises(RecordRefused) as refused:
        service.record_fact(work, "C-1", "assessment_approved", actor)
    assert unmet_of(refused, "who", "WT-4")
    assert [f["name"] for f in service.show_case(work, "C-1")["facts"]] == ["lead_agreed_with_partners"]


def test_a_social_worker_lead_needs_no_supervisor_approval(work):
    """With a registered social worker as lead the approvals are not needed to start the CIN plan."""
    # WT-4
    case_in_assessment(work)
    service.record_fact(work, "C-1", "assessment_completed", "sw")
    assert service.explain(work, "C-1", "start_cin_plan", "sw").allowed


# WT-5 ------------------------------------------------------------------------------------


def test_a_ccw_lead_cannot_escalate_to_a_strategy_discussion(work):
    """Escalation with a CCW lead is refused (WT-5) saying to reallocate; after reallocation to a SW it is allowed."""
    # WT-5
    case_in_cin_plan(work)
    hand_to_ccw(work)
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(work, "C-1", "escalate_to_strategy", "ccw", reason="Bruising seen")
    unmet = unmet_of(refused, "lead_is_registered_social_worker", "WT-5")
    assert "CCW (community care worker, ccw) is not a registered social worker" in unmet.sentence
    assert "reallocate the case to a registered social worker" in unmet.who_could
    assert refused.value.verdict.rules == ("WT-5",)
    assert "WT-5" in str(refused.value)
    service.allocate(work, "C-1", "sw", "tm", supervisor=None, reason="Need escalated")
    moved = service.move_case(work, "C-1", "escalate_to_strategy", "sw", reason="Bruising seen")
    assert moved.case["state"] == "strategy_discussion" and moved.case["path"] == "cp"


@pytest.mark.parametrize("state", [s for s, _ in _CP_WALK])
def test_no_reallocation_to_a_ccw_on_the_cp_path(work, state):
    """In any child protection state, reallocating the lead to a CCW is refused with kind lead_path (WT-5)."""
    # WT-5
    case_in_cin_plan(work)
    _walk_cp(work, "C-1", state)
    service.record_fact(work, "C-1", "lead_agreed_with_partners", "tm")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(work, "C-1", "ccw", "tm", supervisor="ps")
    unmet = unmet_of(refused, "lead_path", "WT-5")
    assert "child protection" in unmet.sentence and "registered social worker" in unmet.who_could
    shown = service.show_case(work, "C-1")
    assert (shown["state"], shown["lead"]["id"], shown["supervisor"]) == (state, "sw", None)


def test_lead_registration_is_checked_on_the_date_of_the_move(work, clock):
    """A lapsed social worker as lead can start an s47 dated on 31 December 2024, not on 1 January 2025."""
    # WT-5
    clock.now = _utc(2024, 12, 16, 9)
    service.open_case(work, "C-1", "national", TEAM, "tm")
    service.allocate(work, "C-1", "lapsed", "tm")
    service.move_case(work, "C-1", "escalate_to_strategy", "lapsed", reason="Disclosure at school")
    # the last minute of 31 December and the first of 1 January (GMT, so UTC is England's day)
    clock.now = _utc(2024, 12, 31, 23, 59)
    assert service.explain(work, "C-1", "start_s47", "tm").allowed
    clock.now = _utc(2025, 1, 1, 0, 0)
    assert not service.explain(work, "C-1", "start_s47", "tm").allowed
    clock.now = _utc(2025, 1, 6, 9)
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(work, "C-1", "start_s47", "tm", at=_utc(2025, 1, 2, 9))
    unmet = unmet_of(refused, "lead_is_registered_social_worker", "WT-5")
    assert "lapsed on 31 Dec 2024" in unmet.sentence and "on 2 Jan 2025" in unmet.sentence
    assert service.show_case(work, "C-1")["state"] == "strategy_discussion"
    # back-dated to the last registered day it is refused all the same: the case would be on the
    # child protection path today with a lead who is not registered today
    with pytest.raises(TransitionRefused) as late:
        service.move_case(work, "C-1", "start_s47", "tm", at=_utc(2024, 12, 31, 15))
    assert any(u.sentence.startswith("Today:") and "WT-5" in u.rules for u in late.value.verdict.unmet)
    clock.now = _utc(2024, 12, 31, 16)
    assert service.move_case(work, "C-1", "start_s47", "tm").case["state"] == "s47_enquiry"


def _local(tmp_path, name: str, body: str):
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\nextends: national\nversion: 1\n{body}")
    return path


_CP_EVENT = """\
events:
  fast_track:
    title: Fast track to a strategy discussion
    from: cin_plan
    to: strategy_discussion
    who: [{roles: [team_manager], qualified: true}]
    requires:
      - reason_given
"""

_CP_LEAD = """\
allocation:
  leads:
    - roles: [social_worker]
      paths: [cin, cp]
      requires: [lead_is_registered_social_worker]
    - roles: [community_care_worker]
      paths: [cp]
      requires: [supervised_if_unqualified]
"""


@pytest.mark.parametrize("body,where", [(_CP_EVENT, "events.fast_track.requires"),
                                        (_CP_LEAD, "allocation.leads[1].paths")])
def test_a_local_protocol_cannot_open_the_cp_path_to_non_social_workers(tmp_path, body, where):
    """The loader refuses a new CP move without the registered-SW check, and a CCW lead policy on the cp path."""
    # WT-5
    path = _local(tmp_path, "loose", body)
    with pytest.raises(InvalidDefinition) as bad:
        load_file(path)
    assert bad.value.stage == "check"
    [problem] = bad.value.problems
    assert problem.file == str(path) and problem.path == where and "WT-5" in problem.problem
    text = str(bad.value)
    assert str(path) in text and where in text and "WT-5" in text and "lead_is_registered_social_worker" in text


def test_a_local_cp_move_with_the_social_worker_check_loads(tmp_path):
    """The same new CP move is accepted once it requires a registered social worker as lead."""
    # WT-5
    body = _CP_EVENT + "      - lead_is_registered_social_worker: {rules: [WT-5]}\n"
    definition = load_file(_local(tmp_path, "tight", body))
    assert [r.kind for r in definition.events["fast_track"].requires] == [
        "reason_given", "lead_is_registered_social_worker"]


def test_a_local_protocol_cannot_relabel_a_cp_state_as_cin(tmp_path):
    """Relabelling the national s47 enquiry as a CIN state (so a CCW could lead it) is refused at load."""
    # WT-5
    path = _local(tmp_path, "relabel", "states:\n  s47_enquiry:\n    path: cin\n")
    with pytest.raises(InvalidDefinition) as bad:
        load_file(path)
    text = str(bad.value)
    assert str(path) in text and "states.s47_enquiry" in text and "WT-5" in text


# WT-7 ------------------------------------------------------------------------------------


def test_every_action_and_refused_attempt_is_in_the_case_history(cw, clock):
    """Open, allocations, facts, moves and refused attempts each appear with actor, action and time; the chain verifies."""
    # WT-7
    add_standard_staff(cw)
    start = clock.now
    steps = [
        lambda: service.open_case(cw, "C-1", "national", TEAM, "tm"),
        lambda: service.allocate(cw, "C-1", "sw", "tm"),
        lambda: service.allocate(cw, "C-1", "sw2", "sw"),                          # refused: who
        lambda: service.move_case(cw, "C-1", "decide_assessment", "tm"),
        lambda: service.record_fact(cw, "C-1", "assessment_completed", "sw2"),     # refused: not the lead
        lambda: service.record_fact(cw, "C-1", "assessment_completed", "sw", note="Seen at home"),
        lambda: service.move_case(cw, "C-1", "escalate_to_strategy", "sw2", reason="Worried"),  # refused: who
        lambda: service.move_case(cw, "C-1", "start_cin_plan", "sw"),
    ]
    for i, step in enumerate(steps):
        clock.now = start + timedelta(hours=i)
        try:
            step()
        except (TransitionRefused, AllocationRefused, RecordRefused):
            pass
    history = service.case_history(cw, "C-1")
    assert [(e["action"], e["actor"], e["event"]) for e in history] == [
        ("open", "tm", None),
        ("allocate", "tm", "allocate"),
        ("refused", "sw", "allocate"),
        ("move", "tm", "decide_assessment"),
        ("refused", "sw2", "assessment_completed"),
        ("fact", "sw", "assessment_completed"),
        ("refused", "sw2", "escalate_to_strategy"),
        ("move", "sw", "start_cin_plan"),
    ]
    for i, entry in enumerate(history):
        assert datetime.fromisoformat(entry["at"]) == start + timedelta(hours=i)
        assert datetime.fromisoformat(entry["recorded_at"]) == start + timedelta(hours=i)
        assert entry["case_id"] == "C-1" and entry["policy"] == "national"
    assert history[5]["payload"]["note"] == "Seen at home"
    assert [e["seq"] for e in history] == list(range(1, len(history) + 1))
    with cw.store.read() as conn:  # the store's own entries: its settings and the protocol versions it keeps
        settings = len(audit.entries(conn, "settings")) + len(audit.entries(conn, "definitions"))
    report = service.verify_audit(cw)
    assert report.ok and report.entries == len(history) + len(STAFF) + settings and settings >= 1


def test_a_backdated_fact_keeps_both_times(work, clock):
    """A fact recorded late carries when it happened and when it was recorded, and is marked back-dated."""
    # WT-7
    case_in_cin_plan(work)
    clock.advance(days=2)
    service.record_fact(work, "C-1", "home_visit", "sw", at=clock.now - timedelta(days=1))
    entry = service.case_history(work, "C-1")[-1]
    assert (entry["action"], entry["actor"], entry["event"]) == ("fact", "sw", "home_visit")
    assert datetime.fromisoformat(entry["at"]) == clock.now - timedelta(days=1)
    assert datetime.fromisoformat(entry["recorded_at"]) == clock.now
    assert entry["payload"]["backdated"] is True


def test_a_refused_attempt_keeps_its_verdict_with_rule_ids(work):
    """The audit entry of a refused escalation holds the whole verdict, with each unmet kind and its rule IDs."""
    # WT-7
    case_in_cin_plan(work)
    hand_to_ccw(work)
    with pytest.raises(TransitionRefused):
        service.move_case(work, "C-1", "escalate_to_strategy", "ccw", reason="Bruising seen")
    entry = service.case_history(work, "C-1")[-1]
    assert (entry["action"], entry["actor"], entry["event"]) == ("refused", "ccw", "escalate_to_strategy")
    assert (entry["from_state"], entry["to_state"]) == ("cin_plan", "strategy_discussion")
    verdict = entry["payload"]["verdict"]
    assert verdict["allowed"] is False and verdict["actor"] == "ccw" and verdict["case_id"] == "C-1"
    assert {u["kind"]: u["rules"] for u in verdict["unmet"]} == {"lead_is_registered_social_worker": ["WT-5"]}
    assert all(u["sentence"] and u["who_could"] for u in verdict["unmet"])
    assert service.verify_audit(work).ok


def test_a_missing_reason_is_a_usage_error_that_writes_nothing(cw):
    """A move that needs a reason, made without one, writes nothing (not even a refused entry): exit 2 (#14)."""
    # WT-7
    add_standard_staff(cw)
    case_in_cin_plan(cw)
    hand_to_ccw(cw)
    history = service.case_history(cw, "C-1")
    with pytest.raises(MissingArguments) as missing:
        service.move_case(cw, "C-1", "escalate_to_strategy", "ccw")
    assert [u.argument for u in missing.value.verdict.missing] == ["--reason"]
    assert missing.value.exit_code == 2 and "would still be refused" in str(missing.value)
    assert "WT-5" in str(missing.value)  # what else is unmet is said now, not after a second attempt
    assert service.case_history(cw, "C-1") == history
    asked = service.explain(cw, "C-1", "escalate_to_strategy", "ccw")
    assert [u.kind for u in asked.unmet] == [u.kind for u in missing.value.verdict.unmet]


def test_a_refused_move_changes_nothing_but_adds_one_refused_entry(cw):
    """State, version, facts and allocation are unchanged by a refusal; exactly one 'refused' entry is appended."""
    # WT-7
    add_standard_staff(cw)
    case_in_cin_plan(cw)
    hand_to_ccw(cw)
    shown, listed, history = service.show_case(cw, "C-1"), service.list_cases(cw), service.case_history(cw, "C-1")
    with pytest.raises(TransitionRefused):
        service.move_case(cw, "C-1", "escalate_to_strategy", "ccw", reason="Bruising seen")
    assert service.show_case(cw, "C-1") == shown
    assert service.list_cases(cw) == listed
    after = service.case_history(cw, "C-1")
    assert after[:-1] == history
    assert [(e["action"], e["event"]) for e in after[len(history):]] == [("refused", "escalate_to_strategy")]
    assert service.verify_audit(cw).ok


@pytest.mark.parametrize("body,where", [
    ("events:\n  fast_track:\n    from: cin_plan\n    to: s47_enquiry\n    who: [{roles: [team_manager]}]\n",
     "events.fast_track.requires"),
    ("allocation:\n  leads:\n    - roles: [community_care_worker]\n      paths: [cin, cp]\n"
     "      requires: [supervised_if_unqualified]\n", "allocation.leads[0].paths"),
])
def test_a_local_protocol_cannot_loosen_the_child_protection_safeguard(tmp_path, body, where):
    """The loader refuses a new CP move, or a CP lead policy, without the registered social worker check."""  # WT-5
    path = tmp_path / "loose.yaml"
    path.write_text("name: loose\nextends: national\nversion: 1\n" + body)
    with pytest.raises(InvalidDefinition) as bad:
        load_file(path)
    text = str(bad.value)
    assert "loose.yaml:" in text and where in text and "WT-5" in text and "Fix:" in text


def test_every_entry_of_the_store_is_counted_by_verify(work):
    """verify checks every chain: the case's, the staff list's, the settings' and the protocol versions'."""  # WT-7
    case_in_cin_plan(work)
    history = service.case_history(work, "C-1")
    report = service.verify_audit(work)
    with work.store.read() as conn:  # the store's own entries: its settings and the protocol versions it keeps
        settings = len(audit.entries(conn, "settings")) + len(audit.entries(conn, "definitions"))
    assert report.ok and report.entries == len(history) + len(service.list_staff(work)) + settings
