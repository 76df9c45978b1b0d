"""The national baseline (Working Together 2023) enforced by machines/national.yaml."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from casework.store import audit
from casework.workflow import service
from casework.workflow.errors import AllocationRefused, InvalidDefinition, TransitionRefused
from casework.workflow.loader import load_file

from .helpers import add_standard_staff, case_in_assessment, case_in_cin_plan, hand_to_ccw, unmet_of


@pytest.fixture
def cw(sqlite_cw):
    add_standard_staff(sqlite_cw)
    return sqlite_cw


def test_a_case_needs_its_lead_before_it_moves_on(cw):
    """No decision to assess until the case has its lead practitioner."""  # WT-1
    service.open_case(cw, "C-1", "national", "Erewash", "tm")
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(cw, "C-1", "decide_assessment", "tm")
    who = unmet_of(refused, "lead_allocated", "WT-1").who_could  # the people who may allocate, by name (#14)
    assert "tm (team manager)" in who and who.endswith("must allocate a lead practitioner.")


def test_one_lead_at_a_time_reallocation_replaces_it(cw):
    """Reallocating replaces the lead: the case always shows exactly one, and the history keeps both."""  # WT-1
    case_in_cin_plan(cw)
    service.allocate(cw, "C-1", "sw2", "tm", reason="Caseload balance")
    shown = service.show_case(cw, "C-1")
    assert shown["lead"]["id"] == "sw2"
    leads = [e["payload"]["lead_id"] for e in service.case_history(cw, "C-1") if e["action"] == "allocate"]
    assert leads == ["sw", "sw2"]


@pytest.mark.parametrize("who", ["ccw", "swa", "fsw"])
def test_non_social_workers_may_lead_a_cin_case(cw, who):
    """A CCW, SWA or family support worker may lead a section 17 case under a qualified supervisor."""  # WT-2
    case_in_cin_plan(cw)
    service.record_fact(cw, "C-1", "lead_agreed_with_partners", "tm")
    assert service.allocate(cw, "C-1", who, "tm", supervisor="sw").case["lead"]["id"] == who


def test_roles_the_protocol_does_not_list_may_not_lead(cw):
    """A student social worker is not a lead practitioner under the national baseline."""  # WT-2
    case_in_cin_plan(cw)
    service.record_fact(cw, "C-1", "lead_agreed_with_partners", "tm")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(cw, "C-1", "student", "tm", supervisor="sw")
    assert "student social worker" in unmet_of(refused, "lead_role", "WT-2").sentence


@pytest.mark.parametrize("supervisor,why", [(None, "has no named supervisor"), ("tm_unreg", "supervise"),
                                            ("lapsed", "supervise")])
def test_an_unqualified_lead_needs_a_named_qualified_supervisor(cw, clock, supervisor, why):
    """No supervisor, an unregistered one or one whose registration lapsed: refused."""  # WT-3
    clock.now = datetime(2025, 3, 3, 9, tzinfo=timezone.utc)
    case_in_cin_plan(cw)
    service.record_fact(cw, "C-1", "lead_agreed_with_partners", "tm")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(cw, "C-1", "ccw", "tm", supervisor=supervisor)
    rules = {r for u in refused.value.verdict.unmet for r in u.rules}
    assert "WT-3" in rules and why in refused.value.verdict.message()


def test_moves_stop_when_the_supervisor_registration_lapses(cw, clock):
    """A CCW-led case cannot hold its CIN review once the supervisor's registration has lapsed."""  # WT-3
    clock.now = datetime(2024, 12, 2, 9, tzinfo=timezone.utc)
    case_in_cin_plan(cw)
    hand_to_ccw(cw, supervisor="lapsed")
    service.move_case(cw, "C-1", "hold_cin_review", "ccw")
    clock.now = datetime(2025, 1, 6, 9, tzinfo=timezone.utc)
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(cw, "C-1", "hold_cin_review", "ccw")
    assert "lapsed on 2024-12-31" in unmet_of(refused, "supervised_if_unqualified", "WT-3").sentence


def test_only_a_qualified_manager_allocates(cw):
    """A social worker cannot allocate; a registered team manager can."""  # WT-4
    service.open_case(cw, "C-1", "national", "Erewash", "tm")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(cw, "C-1", "sw", "sw2")
    assert unmet_of(refused, "who", "WT-4")
    with pytest.raises(AllocationRefused):
        service.allocate(cw, "C-1", "sw", "tm_unreg")
    assert service.allocate(cw, "C-1", "sw", "tm").case["lead"]["id"] == "sw"


def test_the_supervisor_agrees_the_lead_with_partners_first(cw):
    """A non-social-worker lead needs the supervisor's recorded agreement with partners."""  # WT-4
    case_in_cin_plan(cw)
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(cw, "C-1", "ccw", "tm", supervisor="sw")
    assert "lead_agreed_with_partners" in unmet_of(refused, "fact_recorded", "WT-4").sentence


def test_the_supervisor_approves_an_unqualified_lead_assessment_and_plan(cw):
    """With a CCW as lead, the CIN plan needs the supervisor's approval of assessment and plan."""  # WT-4
    case_in_assessment(cw)
    service.record_fact(cw, "C-1", "lead_agreed_with_partners", "tm")
    service.allocate(cw, "C-1", "ccw", "tm", supervisor="sw")
    service.record_fact(cw, "C-1", "assessment_completed", "ccw")
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(cw, "C-1", "start_cin_plan", "ccw")
    unmet = [u for u in refused.value.verdict.unmet if "WT-4" in u.rules]
    assert len(unmet) == 2 and all("supervisor" in u.who_could for u in unmet)
    service.record_fact(cw, "C-1", "assessment_approved", "sw")
    service.record_fact(cw, "C-1", "plan_approved", "sw")
    assert service.move_case(cw, "C-1", "start_cin_plan", "ccw").case["state"] == "cin_plan"


def test_a_ccw_lead_cannot_take_the_case_into_child_protection(cw):
    """Escalation with a CCW as lead is refused, naming WT-5 and the reallocation needed."""  # WT-5
    case_in_cin_plan(cw)
    hand_to_ccw(cw)
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(cw, "C-1", "escalate_to_strategy", "ccw", reason="Injury")
    assert "reallocate the case to a registered social worker" in \
        unmet_of(refused, "lead_is_registered_social_worker", "WT-5").who_could


def test_no_reallocation_to_a_non_social_worker_on_the_cp_path(cw):
    """While the case is in an s47 enquiry it cannot be reallocated to a CCW."""  # WT-5
    case_in_cin_plan(cw)
    service.move_case(cw, "C-1", "escalate_to_strategy", "sw", reason="Injury")
    service.move_case(cw, "C-1", "start_s47", "sw")
    service.record_fact(cw, "C-1", "lead_agreed_with_partners", "tm")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(cw, "C-1", "ccw", "tm", supervisor="sw")
    assert unmet_of(refused, "lead_path", "WT-5")


def test_registration_is_checked_on_the_day_of_the_move(cw, clock):
    """A social worker whose registration lapsed on 31 December can start an s47 before, not after."""  # WT-5
    clock.now = datetime(2024, 12, 2, 9, tzinfo=timezone.utc)
    service.open_case(cw, "C-1", "national", "Erewash", "tm")
    service.allocate(cw, "C-1", "lapsed", "tm")
    service.move_case(cw, "C-1", "escalate_to_strategy", "lapsed", reason="Injury")
    clock.now = datetime(2025, 1, 2, 9, tzinfo=timezone.utc)
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(cw, "C-1", "start_s47", "tm", at=datetime(2025, 1, 1, 9, tzinfo=timezone.utc))
    assert "lapsed on 2024-12-31" in unmet_of(refused, "lead_is_registered_social_worker", "WT-5").sentence
    with pytest.raises(TransitionRefused) as late:  # allowed on its day, but not today: refused
        service.move_case(cw, "C-1", "start_s47", "tm", at=datetime(2024, 12, 31, 15, tzinfo=timezone.utc))
    assert any(u.sentence.startswith("Today:") for u in late.value.verdict.unmet)


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


def test_every_action_and_attempt_is_attributed_and_chained(cw):
    """Opens, allocations, facts, moves and refused attempts are audited with actor and time; the chain verifies."""  # WT-7
    case_in_cin_plan(cw)
    with pytest.raises(TransitionRefused):
        service.move_case(cw, "C-1", "close", "sw", reason="Needs met")
    history = service.case_history(cw, "C-1")
    assert [(e["action"], e["actor"]) for e in history] == [
        ("open", "tm"), ("allocate", "tm"), ("move", "tm"), ("fact", "sw"), ("move", "sw"), ("refused", "sw")]
    assert all(e["at"] and e["recorded_at"] and e["policy"] == "national" and e["policy_version"].startswith("1@")
               for e in history)
    assert history[-1]["payload"]["verdict"]["unmet"][0]["kind"] == "who"
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(history, history[1:]))
    report = service.verify_audit(cw)
    with cw.store.read() as conn:  # the store's own entries: its settings and the protocol versions it keeps
        settings = len(audit.entries(conn, "settings")) + len(audit.entries(conn, "definitions"))
    assert report.ok and report.entries == len(history) + len(service.list_staff(cw)) + settings


def test_a_refused_move_changes_nothing_but_its_audited_attempt(cw):
    """State, version, facts and allocation are untouched by a refusal; one 'refused' entry is added."""  # WT-7
    case_in_cin_plan(cw)
    hand_to_ccw(cw)
    before, history = service.show_case(cw, "C-1"), service.case_history(cw, "C-1")
    with pytest.raises(TransitionRefused):
        service.move_case(cw, "C-1", "escalate_to_strategy", "ccw", reason="Injury")
    assert service.show_case(cw, "C-1") == before
    after = service.case_history(cw, "C-1")
    assert after[:-1] == history and after[-1]["action"] == "refused"
