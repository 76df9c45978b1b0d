"""Planned migration of live cases to a new protocol version (issue 13): dry run, apply, refusals that leave the
case untouched, a plan for renamed states; history is never rewritten."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from casework.cli.main import cli
from casework.workflow import service
from casework.errors import TransitionRefused
from casework.workflow.migration import MigrationPlan
from casework.workflow.oversight import due_items
from casework.workflow.workspace import open_casework

from .helpers import TEAM, add_standard_staff, walk_to_cin_plan, workspace_with_protocol
from .test_versions import _V1, _V2

THANET = "Thanet"


@pytest.fixture
def kent(cw, clock):
    """On both backends: two Kent trial cases on a CIN plan, K-1 led by a social worker, K-2 by a trained SWA;
    then the clock stands after the trial."""
    clock.now = datetime(2025, 3, 3, 9, tzinfo=timezone.utc)
    for sid, roles, reg, training in [("tm", ["team_manager"], "SW1", ()), ("ps", ["practice_supervisor"], "SW2", ()),
                                      ("sw", ["social_worker"], "SW3", ()),
                                      ("swa", ["social_work_assistant"], None, ("lead_professional_training",))]:
        service.add_staff(cw, sid, sid, roles, team=THANET, registration=reg, training=training,
                          actor=None if sid == "tm" else "tm")
    for cid in ("K-1", "K-2"):
        walk_to_cin_plan(cw, cid, "kent", THANET, "tm", "sw")
    service.record_fact(cw, "K-2", "lead_agreed_with_partners", "tm")
    service.allocate(cw, "K-2", "swa", "tm", supervisor="ps")
    clock.now = datetime(2025, 4, 10, 9, tzinfo=timezone.utc)
    return cw


def _state(cw) -> dict:
    return {c["id"]: (c["state"], c["version"], c["policy_digest"]) for c in service.list_cases(cw)}


def test_a_dry_run_says_what_would_change_and_writes_nothing(kent):
    """K-1 would move to v2; K-2 would be refused, its SWA lead not allowed under v2 (reallocate first)."""
    before, history = _state(kent), service.case_history(kent, "K-2")
    found = {m.case_id: m for m in service.migrate_cases(kent, "kent", "3", "tm", dry_run=True)}
    assert found["K-1"].allowed and found["K-1"].to_version.startswith("kent v3")
    assert not found["K-2"].allowed
    assert [u.kind for u in found["K-2"].verdict.unmet] == ["lead_role"]
    assert "Reallocate the case first" in found["K-2"].verdict.unmet[0].who_could
    assert "swa_supervision" in found["K-2"].stopped  # v2 has no SWA supervision cadence
    assert _state(kent) == before and service.case_history(kent, "K-2") == history


def test_applying_moves_the_lawful_cases_and_refuses_the_rest_untouched(kent):
    """One audited migrate entry per moved case; the refused case keeps its version with only its attempt recorded;
    after reallocation it moves too, and due no longer lists either as version_ended."""
    v1 = _state(kent)["K-2"][2]
    found = {m.case_id: m for m in service.migrate_cases(kent, "kent", "3", "tm")}
    assert found["K-1"].allowed and not found["K-2"].allowed
    after = _state(kent)
    assert after["K-2"][0] == "cin_plan" and after["K-2"][2] == v1 and after["K-1"][2] != v1
    moved = service.case_history(kent, "K-1")[-1]
    assert (moved["action"], moved["payload"]["from"], moved["payload"]["to"]) == ("migrate", v1, after["K-1"][2])
    assert service.case_history(kent, "K-2")[-1]["action"] == "refused"
    assert service.show_case(kent, "K-1")["protocol_version"].startswith("kent v3")
    assert service.verify_audit(kent).ok
    service.allocate(kent, "K-2", "sw", "tm")
    [again] = service.migrate_cases(kent, "kent", "3", "tm")
    assert again.case_id == "K-2" and again.allowed
    assert not [i for i in due_items(kent) if i.name == "version_ended"]
    assert service.verify_audit(kent).ok


def test_only_those_who_may_allocate_may_migrate(kent):
    """A social worker cannot move cases to another version."""
    found = service.migrate_cases(kent, "kent", "3", "sw", dry_run=True)
    assert all("who" in [u.kind for u in m.verdict.unmet] for m in found)


def _renamed(tmp_path, clock, store_url):
    """E-1 under edit_town v1 in family_meeting; the file then holds v2, which renamed it family_conference."""
    cw = workspace_with_protocol(tmp_path, store_url, clock, "edit_town", _V1)
    folder = tmp_path / "machines"
    walk_to_cin_plan(cw, "E-1", "edit_town", TEAM, "tm", "sw")
    service.move_case(cw, "E-1", "hold_family_meeting", "tm")
    (folder / "edit_town.yaml").write_text(_V2)
    cw.store.dispose()
    return open_casework(store_url, machines=[folder], clock=clock)


@pytest.fixture
def renamed(tmp_path, clock, store_url):
    cw = _renamed(tmp_path, clock, store_url)
    yield cw, tmp_path
    cw.store.dispose()


def test_a_renamed_state_needs_a_plan(renamed):
    """Without a plan the case is refused ('no counterpart'); with one it moves to family_conference, its markers
    follow and the tables still answer to the log."""
    cw, _ = renamed
    [refused] = service.migrate_cases(cw, "edit_town", "2", "tm")
    assert [u.kind for u in refused.verdict.unmet] == ["migration_state"]
    assert service.show_case(cw, "E-1")["state"] == "family_meeting"
    [moved] = service.migrate_cases(cw, "edit_town", "2", "tm", plan=MigrationPlan({"family_meeting": "family_conference"}))
    assert moved.allowed and (moved.from_state, moved.to_state) == ("family_meeting", "family_conference")
    shown = service.show_case(cw, "E-1")
    assert shown["state"] == "family_conference" and shown["protocol_version"].startswith("edit_town v2")
    assert [v.event for v in service.available(cw, "E-1", "tm")] == ["end_family_conference"]
    assert service.verify_audit(cw).ok


def test_the_cli_migrates_with_a_plan_file_and_reports_as_json(tmp_path, clock, sqlite_url):
    """`policy migrate --dry-run --json` then the real run, through click's runner on a SQLite store."""
    cw = _renamed(tmp_path, clock, sqlite_url)
    plan = tmp_path / "plan.yaml"
    plan.write_text("states:\n  family_meeting: family_conference\n")
    base = ["--db", str(cw.store.path), "--machines", str(tmp_path / "machines"), "policy", "migrate", "edit_town",
            "--to", "2", "--as", "tm"]
    dry = CliRunner().invoke(cli, [*base, "--plan", str(plan), "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    [case] = json.loads(dry.output)["cases"]
    assert case["to_state"] == "family_conference" and case["allowed"]
    assert service.show_case(cw, "E-1")["state"] == "family_meeting"
    refused = CliRunner().invoke(cli, base)
    assert refused.exit_code == 1 and "no counterpart" in refused.output
    done = CliRunner().invoke(cli, [*base, "--plan", str(plan)])
    assert done.exit_code == 0 and "moved" in done.output, done.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("cases: {a: b}\n")
    assert CliRunner().invoke(cli, [*base, "--plan", str(bad)]).exit_code == 2
    cw.store.dispose()


_FACTS_V1 = """name: heard_town
extends: national
version: 1
facts:
  family_consulted:
    title: the family was consulted on the plan
    who: [{relation: lead}]
events:
  hold_cin_review:
    requires:
      - fact_recorded: {fact: family_consulted, since: state}
"""
#: version 2 calls the fact family_heard and requires it under that name
_FACTS_V2 = _FACTS_V1.replace("version: 1", "version: 2").replace("family_consulted", "family_heard")


def test_a_plan_maps_renamed_facts_so_the_new_version_sees_what_was_recorded(tmp_path, clock, store_url):
    """A fact recorded under v1's name counts under v2's once the plan maps it: the review v2 guards on it is
    allowed; without the mapping it would be refused. The log keeps the old name; verify and replay agree."""
    from casework.workflow.replay import replay

    cw = workspace_with_protocol(tmp_path, store_url, clock, "heard_town", _FACTS_V1)
    folder = tmp_path / "machines"
    for cid in ("H-1", "H-2"):
        walk_to_cin_plan(cw, cid, "heard_town", TEAM, "tm", "sw")
        service.record_fact(cw, cid, "family_consulted", "sw")
    (folder / "heard_town.yaml").write_text(_FACTS_V2)
    later = open_casework(store_url, machines=[folder], clock=clock)
    [unmapped] = service.migrate_cases(later, "heard_town", "2", "tm", case_ids=["H-2"])
    assert unmapped.allowed  # migrating is lawful either way; what the new version sees differs
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(later, "H-2", "hold_cin_review", "sw")
    assert "fact_recorded" in [u.kind for u in refused.value.verdict.unmet]
    [moved] = service.migrate_cases(later, "heard_town", "2", "tm",
                                    plan=MigrationPlan(facts={"family_consulted": "family_heard"}))
    assert moved.allowed
    assert [f["name"] for f in service.show_case(later, "H-1")["facts"]] == ["assessment_completed", "family_heard"]
    assert service.move_case(later, "H-1", "hold_cin_review", "sw").verdict.allowed
    assert any(e["event"] == "family_consulted" for e in service.case_history(later, "H-1"))  # history as it was
    assert service.verify_audit(later).ok
    assert not replay(later).discrepancies
    for workspace in (later, cw):
        workspace.store.dispose()


@pytest.mark.parametrize("to", ["closed", "stepped_down", "cin_plan", "referral"])
def test_a_plan_cannot_move_a_case_off_the_child_protection_path_or_close_it(tmp_path, clock, sqlite_url, to):
    """The reviewer's attack: mapping strategy_discussion onto another state would skip national's moves and their
    conditions (WT-5, WT-7). A state the new version still has keeps its name; the case is refused and untouched."""
    folder = tmp_path / "machines"
    folder.mkdir()
    (folder / "plain_town.yaml").write_text("name: plain_town\nextends: national\nversion: 1\n")
    cw = open_casework(sqlite_url, machines=[folder], clock=clock)
    service.init_store(cw)
    add_standard_staff(cw)
    walk_to_cin_plan(cw, "P-1", "plain_town", TEAM, "tm", "sw")
    service.move_case(cw, "P-1", "escalate_to_strategy", "sw", reason="Injury seen at school")
    (folder / "plain_town.yaml").write_text("name: plain_town\nextends: national\nversion: 2\n")
    later = open_casework(sqlite_url, machines=[folder], clock=clock)
    [refused] = service.migrate_cases(later, "plain_town", "2", "tm", plan=MigrationPlan({"strategy_discussion": to}))
    assert not refused.allowed and [u.kind for u in refused.verdict.unmet] == ["migration_state"]
    assert service.show_case(later, "P-1")["state"] == "strategy_discussion"
    [kept] = service.migrate_cases(later, "plain_town", "2", "tm")
    assert kept.allowed and service.show_case(later, "P-1")["state"] == "strategy_discussion"
    later.store.dispose()
    cw.store.dispose()
