"""`audit replay`: every recorded action judged again under the rules in force when it was made (issue 13, item 4)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert

from casework.store import audit, records
from casework.store.schema import audit as audit_table
from casework.workflow import service
from casework.workflow.clock import to_text
from casework.workflow.demo import run_demo
from casework.errors import AllocationRefused, CaseNotFound, RecordRefused, TransitionRefused
from casework.workflow.migration import MigrationPlan
from casework.workflow.replay import replay
from casework.workflow.workspace import open_casework

from .test_migration import _renamed
from .helpers import TEAM, add_standard_staff, case_in_assessment, case_in_cin_plan, hand_to_ccw, walk_to_assessment, \
    walk_to_cin_plan


def _people(cw, team: str, people: list[tuple]) -> None:
    """(id, roles, registration, pcf level, training), the first of whom starts the staff list."""
    for n, (sid, roles, reg, pcf, training) in enumerate(people):
        service.add_staff(cw, sid, sid, roles, team=team, registration=reg, pcf_level=pcf, training=training,
                          actor=None if n == 0 else people[0][0])


def _national(cw, clock) -> None:
    """Reallocations to a CCW and back, a refused escalation, back-dated actions, a registration that lapses
    after the moves its holder made, and a leaver."""
    add_standard_staff(cw)
    case_in_cin_plan(cw, "C-1")
    clock.advance(hours=1)
    service.update_staff(cw, "tm_unreg", "sm", registration="SW900009")  # now a qualified manager, who allocates
    hand_to_ccw(cw, "C-1")
    service.allocate(cw, "C-1", "ccw", "tm_unreg", supervisor="sw", reason="Confirmed")
    service.move_case(cw, "C-1", "hold_cin_review", "ccw")
    service.record_fact(cw, "C-1", "escalation_raised", "ccw", note="Bruising seen on a visit")
    with pytest.raises(TransitionRefused):
        service.move_case(cw, "C-1", "escalate_to_strategy", "ccw", reason="Bruising")
    service.allocate(cw, "C-1", "sw", "tm", supervisor=None, reason="Escalated: back to the social worker")
    service.move_case(cw, "C-1", "escalate_to_strategy", "sw", reason="Bruising")
    service.update_staff(cw, "sw2", "tm", registered_until=(clock() + timedelta(days=10)).date())
    case_in_assessment(cw, "C-2", lead="sw2")
    service.move_case(cw, "C-2", "escalate_to_strategy", "sw2", reason="Disclosure at school")
    clock.advance(days=3)
    service.open_case(cw, "C-3", "national", TEAM, "tm", at=clock() - timedelta(days=2))
    service.record_fact(cw, "C-3", "lead_agreed_with_partners", "tm", at=clock() - timedelta(hours=36))
    service.allocate(cw, "C-3", "ccw", "tm", supervisor="sw", at=clock() - timedelta(days=1))
    service.move_case(cw, "C-3", "decide_assessment", "tm", at=clock() - timedelta(hours=20))
    clock.advance(days=10)  # sw2's registration has lapsed; the CCW leaves today
    service.leave_staff(cw, "ccw", "tm")
    with pytest.raises(TransitionRefused):
        service.move_case(cw, "C-2", "start_s47", "sw2")
    service.allocate(cw, "C-2", "sw", "tm", reason="Registration lapsed")
    service.move_case(cw, "C-2", "start_s47", "sw")
    service.update_staff(cw, "sw2", "tm", registration=None, registered_until=None, reason="Left the register")
    clock.advance(days=2)
    service.allocate(cw, "C-3", "sw", "tm", reason="CCW left", at=clock() - timedelta(days=1))


def _stockport(cw, clock) -> None:
    """A student's caseload at its cap (STO-8), a refusal, then room made by taking one case back."""
    team = "Stockport North"
    _people(cw, team, [("tm", ["team_manager"], "SW1", None, ()), ("pe", ["practice_educator"], "SW2", None, ()),
                       ("ps", ["practice_supervisor"], "SW3", None, ()), ("tl", ["team_leader"], "SW5", None, ()),
                       ("stu", ["student_social_worker"], None, 2, ())])
    for n in range(1, 5):
        walk_to_assessment(cw, f"S-{n}", "stockport", team, "tm", "pe")
    for n in range(1, 4):
        service.allocate(cw, f"S-{n}", "pe", "pe", worker="stu")
    with pytest.raises(AllocationRefused):
        service.allocate(cw, "S-4", "pe", "pe", worker="stu")
    service.allocate(cw, "S-1", "pe", "pe", worker=None)
    service.allocate(cw, "S-4", "pe", "pe", worker="stu")
    service.allocate(cw, "S-2", "pe", "ps", reason="Confirmed: at the cap, S-2 is one of the three")
    for fact in ("assessment_completed", "assessment_authorised", "plan_agreed"):
        service.record_fact(cw, "S-4", fact, "pe")
    service.move_case(cw, "S-4", "start_cin_plan", "pe")
    service.move_case(cw, "S-4", "hold_tac_meeting", "tl")
    service.record_fact(cw, "S-4", "chair_competence", "pe")
    service.move_case(cw, "S-4", "hold_tac_meeting", "stu")


def _torbay(cw, clock) -> None:
    """The CCW process step by step, the CCW-led case escalating, and its return to the social worker."""
    _people(cw, "Paignton", [(s, [r], reg, None, ()) for s, r, reg in [
        ("tm", "team_manager", "SW1"), ("sm", "service_manager", "SW2"), ("asw", "advanced_social_worker", "SW3"),
        ("sw", "social_worker", "SW4"), ("ccw", "community_care_worker", None)]])
    walk_to_cin_plan(cw, "T-1", "torbay", "Paignton", "tm", "sw")
    for fact, actor, others, note in [("ccw_identified", "tm", ["sm"], "Discussed in supervision"),
                                      ("sm_endorsement", "sm", [], "Housing need; stable"),
                                      ("ccw_scope", "tm", [], "housing_need"), ("family_informed", "sw", [], ""),
                                      ("handover_agreed", "sw", ["ccw"], ""), ("case_summary_updated", "tm", [], ""),
                                      ("lead_agreed_with_partners", "tm", [], "")]:
        service.record_fact(cw, "T-1", fact, actor, with_staff=others, note=note)
    service.allocate(cw, "T-1", "ccw", "tm", supervisor="asw", reason="Torbay CCW process complete")
    service.record_fact(cw, "T-1", "escalation_raised", "ccw", note="Disclosure at school")
    service.allocate(cw, "T-1", "sw", "asw", supervisor=None, reason="Need escalated")
    service.move_case(cw, "T-1", "escalate_to_strategy", "sw", reason="Disclosure")
    service.move_case(cw, "T-1", "start_s47", "sw")


def _kent(cw, clock) -> None:
    """An SWA leads a CIN case during the trial (v1); after it ends the case's migration to v2 is refused until it
    goes back to a social worker, then moves on under v2, beside a case opened under v2."""
    clock.now = datetime(2024, 11, 4, 9, tzinfo=timezone.utc)
    _people(cw, "Thanet", [("tm", ["team_manager"], "SW1", None, ()), ("ps", ["practice_supervisor"], "SW2", None, ()),
                           ("sw", ["social_worker"], "SW3", None, ()),
                           ("swa", ["social_work_assistant"], None, None, ("lead_professional_training",))])
    walk_to_cin_plan(cw, "K-1", "kent", "Thanet", "tm", "sw")
    service.record_fact(cw, "K-1", "lead_agreed_with_partners", "tm")
    service.allocate(cw, "K-1", "swa", "tm", supervisor="ps")
    clock.advance(days=20)
    service.record_fact(cw, "K-1", "supervision", "ps")
    service.record_fact(cw, "K-1", "joint_visit", "swa", with_staff=["sw"])
    service.move_case(cw, "K-1", "hold_cin_review", "ps")
    clock.now = datetime(2025, 4, 23, 9, tzinfo=timezone.utc)  # the trial has ended
    assert not service.migrate_cases(cw, "kent", "3", "tm")[0].allowed
    service.allocate(cw, "K-1", "sw", "tm", supervisor=None, reason="Trial ended")
    assert service.migrate_cases(cw, "kent", "3", "tm")[0].allowed
    service.move_case(cw, "K-1", "hold_cin_review", "sw")
    walk_to_cin_plan(cw, "K-2", "kent", "Thanet", "tm", "sw")


def _derbyshire(cw, clock) -> None:
    """A CCW co-allocated beside the social worker who holds the case, and the CIN meetings they chair."""
    _people(cw, "Erewash", [("tm", ["team_manager"], "SW1", None, ()), ("ps", ["practice_supervisor"], "SW2", None, ()),
                            ("sw", ["social_worker"], "SW3", None, ()),
                            ("ccw", ["community_care_worker"], None, None, ())])
    walk_to_assessment(cw, "D-1", "derbyshire", "Erewash", "tm", "sw")
    service.record_fact(cw, "D-1", "assessment_completed", "sw")
    clock.advance(hours=1)
    service.move_case(cw, "D-1", "start_cin_plan", "sw")
    service.record_fact(cw, "D-1", "co_allocation_agreed", "ps")
    service.allocate(cw, "D-1", "sw", "ps", worker="ccw", supervisor="ps")
    with pytest.raises(RecordRefused):
        service.record_fact(cw, "D-1", "assessment_completed", "ccw")
    service.move_case(cw, "D-1", "hold_cin_review", "sw")


@pytest.mark.parametrize("history", [_national, _stockport, _torbay, _kent, _derbyshire])
def test_histories_made_through_the_service_replay_with_no_discrepancy(cw, clock, history):
    """Every action the service allowed is allowed again under the version, staff and facts of its moment,
    on SQLite and PostgreSQL: back-dated actions, reallocations, caseload caps, a lapsed registration, a leaver."""
    history(cw, clock)
    report = replay(cw)
    assert report.ok, [d.message() for d in report.discrepancies]
    assert report.judged == sum(1 for e in _entries(cw) if e["action"] in audit.CHANGES)
    assert report.refused == sum(1 for e in _entries(cw) if e["action"] == "refused" and e["case_id"])


def test_a_case_migrated_past_a_renamed_state_replays_under_each_version_in_turn(tmp_path, clock, sqlite_url):
    """A case made under edit_town v1, whose file now holds v2 (a state renamed), migrated with a plan and moved on:
    its earlier actions are judged by v1 from the store, the migration and what follows by v2."""
    cw = _renamed(tmp_path, clock, sqlite_url)
    try:
        service.migrate_cases(cw, "edit_town", "2", "tm", plan=MigrationPlan({"family_meeting": "family_conference"}))
        service.move_case(cw, "E-1", "end_family_conference", "tm")
        report = replay(cw)
        assert report.ok and report.judged == 8, [d.message() for d in report.discrepancies]
    finally:
        cw.store.dispose()


def test_the_demo_replays_clean_whole_and_case_by_case(sqlite_cw):
    """The demo's case, run twice, replays with no discrepancy, and so does each case alone."""
    run_demo(sqlite_cw)
    run_demo(sqlite_cw)
    whole = replay(sqlite_cw)
    assert whole.ok and whole.cases == 2 and whole.refused == 2
    alone = [replay(sqlite_cw, cid) for cid in ("DEMO-1", "DEMO-2")]
    assert all(r.ok and r.cases == 1 for r in alone)
    assert sum(r.judged for r in alone) == whole.judged and alone[0].entries == whole.entries
    with pytest.raises(CaseNotFound):
        replay(sqlite_cw, "DEMO-9")


def _entries(cw) -> list[dict]:
    with cw.store.read() as conn:
        return list(audit.in_written_order(conn))


def _forge(cw, case_id: str, principal: str, **fields) -> int:
    """Append an entry to the case's chain with correct hashes and bump the case's version, as someone with write
    access and a copy of casework could; returns its id."""
    with cw.store.write() as conn:
        head = audit.heads(conn)[f"case:{case_id}"]
        row = records.get_case(conn, case_id)
        now = to_text(cw.clock())
        entry = {"recorded_at": now, "at": now, "principal": principal, "case_id": case_id, "policy": row["policy"],
                 "from_state": row["state"], **fields}
        conn.execute(insert(audit_table), audit.chain_rows(f"case:{case_id}", [entry], *head))
        mended = {"version": row["version"] + 1}
        if fields["action"] == "move" and entry["to_state"] != row["state"]:
            mended.update(state=entry["to_state"], state_entered_at=now)
            records.set_markers(conn, case_id, {f"entered:{entry['to_state']}": now})
        if fields["action"] == "move":
            records.set_markers(conn, case_id, {f"event:{fields['event']}": now})
        records.update_case(conn, case_id, row["version"], mended)
        return conn.execute(audit_table.select().order_by(audit_table.c.id.desc()).limit(1)).first().id


def _principal(cw) -> str:
    """What the store's own trigger accepts: on PostgreSQL the session's login (migration 0004)."""
    if cw.store.is_sqlite:
        return "os-user:forger"
    with cw.store.read() as conn:
        return f"database-login:{records.session_login(conn)}"


def _label(cw, policy: str = "national") -> str:
    definition = cw.policies.get(policy)
    return f"{definition.version}@{definition.digest[:12]}"


def test_an_escalation_by_a_ccw_slipped_into_the_store_is_reported_with_its_rule(cw, clock):
    """A CCW's escalation to child protection appended with correct hashes and the tables mended passes audit
    verify, and replay reports it as not allowed (WT-5); the lawful actions around it stay clean."""  # WT-5
    add_standard_staff(cw)
    case_in_cin_plan(cw, "C-1")
    hand_to_ccw(cw, "C-1")
    clock.advance(hours=1)
    forged = _forge(cw, "C-1", _principal(cw), actor="ccw", action="move", event="escalate_to_strategy",
                    to_state="strategy_discussion", policy_version=_label(cw),
                    payload={"reason": "Bruising", "rules": ["WT-5", "WT-7"]})
    clock.advance(hours=1)
    service.allocate(cw, "C-1", "sw", "tm", supervisor=None, reason="CP needs a social worker")
    service.move_case(cw, "C-1", "start_s47", "sw")
    assert service.verify_audit(cw).ok
    report = replay(cw)
    assert [(d.case_id, d.entry_id, d.action, d.event, d.actor) for d in report.discrepancies] == \
        [("C-1", forged, "move", "escalate_to_strategy", "ccw")]
    (found,) = report.discrepancies
    assert "WT-5" in found.rules and "lead_is_registered_social_worker" in [u.kind for u in found.unmet]
    assert replay(cw, "C-1").discrepancies == report.discrepancies


def test_an_allocation_past_a_students_caseload_cap_slipped_into_the_store_is_reported(sqlite_cw, clock):
    """A student at PCF level 2 holding three open cases given a fourth by a forged allocation: replay counts the
    caseload over every case as it stood then, and reports STO-8."""  # STO-8
    _stockport(sqlite_cw, clock)
    walk_to_assessment(sqlite_cw, "S-5", "stockport", "Stockport North", "tm", "pe")
    forged = _forge(sqlite_cw, "S-5", _principal(sqlite_cw), actor="pe", action="allocate", event="allocate",
                    to_state="assessment", policy_version=_label(sqlite_cw, "stockport"),
                    payload={"lead_id": "pe", "supervisor_id": None, "worker_id": "stu", "previous_lead_id": "pe",
                             "reason": None})
    (found,) = replay(sqlite_cw).discrepancies
    assert found.entry_id == forged and found.rules == ("STO-8",)
    assert "already holds 3 open cases" in found.unmet[0].sentence


def test_entries_that_cannot_be_judged_are_reported_with_the_reason(sqlite_cw, clock):
    """An actor nobody added, a version the store never kept and a state the version does not have are
    discrepancies that say why; replay carries on past each."""
    cw = sqlite_cw
    add_standard_staff(cw)
    case_in_assessment(cw, "C-1")
    case_in_assessment(cw, "C-2")
    principal, label = _principal(cw), _label(cw)
    ghost = _forge(cw, "C-1", principal, actor="ghost", action="fact", event="case_note", to_state="assessment",
                   policy_version=label, payload={"with": [], "note": "made up"})
    nowhere = _forge(cw, "C-2", principal, actor="tm", action="move", event="decline_s47", to_state="nowhere",
                     policy_version=label, payload={"reason": "made up"})
    after = _forge(cw, "C-2", principal, actor="sw", action="fact", event="case_note", to_state="nowhere",
                   policy_version=label, payload={"with": [], "note": "after"})
    with cw.store.write() as conn:  # a case opened under a version nobody kept
        now = to_text(clock())
        conn.execute(insert(audit_table), audit.chain_rows("case:C-3", [{
            "recorded_at": now, "at": now, "actor": "tm", "principal": principal, "action": "open", "case_id": "C-3",
            "to_state": "referral", "policy": "national", "policy_version": "1@ffffffffffff",
            "payload": {"team": TEAM, "digest": "f" * 64}}]))
    found = {d.entry_id: d for d in replay(cw).discrepancies}
    assert "'ghost', who was not on the staff list" in found[ghost].unmet[0].sentence
    assert {u.kind for u in found[nowhere].unmet} >= {"state", "recorded"}  # decline_s47 leaves strategy_discussion
    assert "state 'nowhere'" in found[after].unmet[0].sentence and found[after].unmet[0].kind == "cannot_judge"
    (opened,) = [d for d in found.values() if d.case_id == "C-3"]
    assert opened.unmet[0].kind == "cannot_judge" and "ffffffffffff" in opened.unmet[0].sentence
    assert len(found) == 4


def test_the_cli_reports_discrepancies_with_exit_1(cli_run, tmp_path):
    """`casework audit replay [CASE] [--json]` exits 0 on a clean store, 1 with each discrepancy printed, 2 for an
    unknown case."""
    cli_run("demo")
    clean = cli_run("audit", "replay")
    assert "every one was allowed" in clean.stdout
    shown = json.loads(cli_run("audit", "replay", "DEMO-1", "--json").stdout)
    assert shown["ok"] and shown["cases"] == 1 and shown["discrepancies"] == []
    cw = open_casework(str(tmp_path / "cli.db"))
    try:
        _forge(cw, "DEMO-1", "os-user:forger", actor="ana", action="move", event="decline_s47",
               to_state="assessment", policy_version=_label(cw), payload={"reason": "made up"})
    finally:
        cw.store.dispose()
    refused = cli_run("audit", "replay", ok=False)
    assert refused.exit_code == 1 and "1 discrepancy" in refused.stdout
    assert "DISCREPANCY Case DEMO-1" in refused.stderr and "decline_s47" in refused.stderr
    as_json = cli_run("audit", "replay", "--json", ok=False)
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["discrepancies"][0]["actor"] == "ana"
    assert cli_run("audit", "replay", "NOPE", ok=False).exit_code == 2
