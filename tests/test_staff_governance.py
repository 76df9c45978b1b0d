"""Staff changes are governed and audited like case moves (issue 12): who may add people, change roles,
registration, team or login, or record a leaver is in the definition's staff: section (WT-7)."""
from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta

import pytest

from casework.store import audit
from casework.workflow import service
from casework.errors import BadInput, InvalidDefinition, StaffChangeRefused, TransitionRefused, AllocationRefused
from casework.workflow.oversight import due_items
from casework.workflow.workspace import open_casework

from .conftest import START
from .helpers import TEAM, add_standard_staff, case_in_cin_plan


def _staff_chain(cw) -> list[dict]:
    with cw.store.read() as conn:
        return audit.entries(conn, "staff")


@pytest.fixture
def staffed(sqlite_cw):
    add_standard_staff(sqlite_cw)
    return sqlite_cw


def test_a_community_care_worker_cannot_build_themselves_a_team(staffed):
    """The insider of the issue: a CCW adding a 'team manager' is refused with the rule and who could (WT-7);
    only the audited attempt is written."""
    before = service.list_staff(staffed)
    with pytest.raises(StaffChangeRefused) as refused:
        service.add_staff(staffed, "fake_tm", "Fake", ["team_manager"], registration="SW123", actor="ccw")
    verdict = refused.value.verdict
    assert refused.value.exit_code == 1 and not verdict.allowed and verdict.rules == ("WT-7",)
    assert [u.kind for u in verdict.unmet] == ["staff_add"]
    assert "team manager, service manager or head of service" in verdict.unmet[0].who_could
    assert "staff id fake_tm" in refused.value.verdict.message()
    assert service.list_staff(staffed) == before
    last = _staff_chain(staffed)[-1]
    assert (last["action"], last["actor"], last["event"]) == ("refused", "ccw", "add")
    assert service.verify_audit(staffed).ok


def test_nobody_changes_their_own_roles_registration_or_login(staffed):
    """Self-promotion is refused even for a manager who may change others (WT-7)."""
    for change in ({"add_roles": ["head_of_service"]}, {"registered_until": date(2030, 1, 1)}, {"login": "tm_login"}):
        with pytest.raises(StaffChangeRefused) as refused:
            service.update_staff(staffed, "tm", "tm", **change)
        assert "staff_self" in [u.kind for u in refused.value.verdict.unmet]
    service.update_staff(staffed, "tm", "sm", add_roles=["head_of_service"])  # someone else may
    assert "head_of_service" in next(p for p in service.list_staff(staffed) if p.id == "tm").roles


def test_the_first_person_starts_the_list_and_must_be_able_to_add_the_others(sqlite_cw):
    """An empty staff list takes one person without --as, who must fit staff.add; after that --as is required."""
    with pytest.raises(StaffChangeRefused) as refused:
        service.add_staff(sqlite_cw, "sw", "Sam", ["social_worker"], registration="SW2")
    assert "staff_first" in [u.kind for u in refused.value.verdict.unmet]
    assert service.list_staff(sqlite_cw) == []
    service.add_staff(sqlite_cw, "tm", "Tess", ["team_manager"], registration="SW1")
    with pytest.raises(BadInput, match="--as"):
        service.add_staff(sqlite_cw, "sw", "Sam", ["social_worker"], registration="SW2")
    first = [e for e in _staff_chain(sqlite_cw) if e["action"] == "staff"]
    assert first[0]["payload"]["first"] is True and first[0]["principal"].startswith("os-user:")


@pytest.mark.parametrize("number, kept", [("SW123456", "SW123456"), ("sw 12", "SW12"), (" SW9 ", "SW9")])
def test_registration_numbers_are_social_work_england_numbers(staffed, number, kept):
    person = service.add_staff(staffed, "new", "N", ["social_worker"], registration=number, actor="tm")
    assert person.registration == kept


@pytest.mark.parametrize("number", [" ", "12345", "SW", "SWX1", "XX123", "SW1234567890", "SW-1"])
def test_a_made_up_registration_number_is_bad_input(staffed, number):
    """Any non-empty string used to count, even a space (issue 12): now exit 2 and nothing written."""
    before = _staff_chain(staffed)
    with pytest.raises(BadInput, match="Social Work England registration number"):
        service.add_staff(staffed, "new", "N", ["social_worker"], registration=number, actor="tm")
    assert _staff_chain(staffed) == before


def test_a_lapsed_registration_is_recorded_and_flagged_then_renewed(staffed, clock):
    """Ending sw's registration on the CP path flags the case in due (WT-5); renewing clears it."""
    case_in_cin_plan(staffed, "C-1")
    service.move_case(staffed, "C-1", "escalate_to_strategy", "sw", reason="Injury seen at nursery")
    service.update_staff(staffed, "sw", "tm", registered_until=START.date(), reason="Renewal not received")
    clock.advance(days=2)
    assert [i.name for i in due_items(staffed, overdue_only=True) if i.case_id == "C-1"] == ["cp_lead_not_registered"]
    with pytest.raises(TransitionRefused):
        service.move_case(staffed, "C-1", "start_s47", "sw")
    service.update_staff(staffed, "sw", "tm", registered_until=date(2026, 12, 31), reason="Renewed")
    assert not [i for i in due_items(staffed, overdue_only=True) if i.name == "cp_lead_not_registered"]
    changes = [e for e in _staff_chain(staffed) if e["event"] == "registration"]
    assert [e["payload"]["registered_until"] for e in changes] == [START.date().isoformat(), "2026-12-31"]
    assert service.verify_audit(staffed).ok


def test_a_leaver_cannot_act_or_be_allocated_and_their_cases_show_as_needing_reallocation(staffed, clock):
    """sw leaves: their open case shows in due and case show from the next day (WT-1); their moves and an
    allocation to them are refused with why; the leaving is on the staff chain."""
    case_in_cin_plan(staffed, "C-1")
    service.leave_staff(staffed, "sw", "tm", on=START.date(), reason="Resigned")
    assert not [i for i in due_items(staffed) if i.name.startswith("holder_left")]
    clock.advance(days=1)
    [item] = [i for i in due_items(staffed, overdue_only=True) if i.name.startswith("holder_left")]
    assert (item.case_id, item.name, item.rules, item.due) == ("C-1", "holder_left:lead", ("WT-1",),
                                                                START.date() + timedelta(days=1))
    assert any(d["deadline"] == "holder_left:lead" for d in service.show_case(staffed, "C-1")["due"])
    with pytest.raises(TransitionRefused, match="left on"):
        service.move_case(staffed, "C-1", "hold_cin_review", "sw")
    service.allocate(staffed, "C-1", "sw2", "tm")
    with pytest.raises(AllocationRefused, match="left on"):
        service.allocate(staffed, "C-1", "sw", "tm")
    assert not [i for i in due_items(staffed) if i.name.startswith("holder_left")]
    [left] = [e for e in _staff_chain(staffed) if e["event"] == "leave"]
    assert left["payload"]["left_on"] == START.date().isoformat() and left["payload"]["reason"] == "Resigned"
    assert service.verify_audit(staffed).ok


def test_a_leaving_date_far_from_today_is_bad_input(staffed):
    for day in (START.date() - timedelta(days=400), START.date() + timedelta(days=400)):
        with pytest.raises(BadInput, match="leaving date"):
            service.leave_staff(staffed, "sw", "tm", on=day)


def test_a_forged_leaving_date_or_login_shows_in_verify(staffed):
    """Staff columns added for governance are re-derived from the staff chain like the others."""
    path = staffed.store.path
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE staff SET login = 'mallory' WHERE id = 'tm'")
        conn.execute("UPDATE staff SET left_on = '2025-01-01' WHERE id = 'sw'")
    report = service.verify_audit(staffed)
    reasons = " ".join(b.reason for b in report.broken)
    assert not report.ok and "mallory" in reasons and "2025-01-01" in reasons


def test_the_cli_governs_staff_changes(cli_run):
    """staff add/update/leave through the real CLI: exit 0, 1 (refused) and 2 (bad input)."""
    cli_run("staff", "add", "tm", "--name", "T", "--role", "team_manager", "--registered", "SW1", "--team", TEAM)
    cli_run("staff", "add", "ccw", "--name", "C", "--role", "community_care_worker", "--team", TEAM, "--as", "tm")
    refused = cli_run("staff", "add", "x", "--name", "X", "--role", "team_manager", "--registered", "SW2",
                      "--as", "ccw", ok=False)
    assert refused.exit_code == 1 and "WT-7" in refused.stderr
    assert cli_run("staff", "add", "x", "--name", "X", "--role", "social_worker", ok=False).exit_code == 2
    moved = json.loads(cli_run("staff", "update", "ccw", "--team", "North", "--as", "tm", "--json").stdout)
    assert moved["team"] == "North"
    own = cli_run("staff", "update", "tm", "--add-role", "service_manager", "--as", "tm", ok=False)
    assert own.exit_code == 1 and "their own roles" in own.stderr
    left = cli_run("staff", "leave", "ccw", "--as", "tm", "--reason", "End of contract")
    assert "left on" in left.stdout
    listed = json.loads(cli_run("staff", "list", "--json").stdout)
    assert [p["left_on"] is not None for p in listed] == [True, False]


def test_a_local_protocol_may_narrow_staff_rules_and_the_store_applies_them(tmp_path, clock):
    """A local staff: section that only lets heads of service add people governs a store whose staff protocol
    it is; one that lets a CCW add people is refused at load with the place and the fix (WT-7)."""
    folder = tmp_path / "machines"
    folder.mkdir()
    (folder / "strict_town.yaml").write_text(
        "name: strict_town\nextends: national\nversion: 1\nstaff:\n  add:\n"
        "    who: [{roles: [head_of_service], qualified: true}]\n"
        "    says: Only a head of service adds people here.\n")
    (folder / "loose_town.yaml").write_text(
        "name: loose_town\nextends: national\nversion: 1\nstaff:\n  add:\n"
        "    who: [{roles: [community_care_worker]}]\n    says: Anyone adds people.\n")
    cw = open_casework(f"sqlite:///{tmp_path / 'strict.db'}", machines=[folder], clock=clock)
    service.init_store(cw, staff_protocol="strict_town")
    service.add_staff(cw, "hos", "H", ["head_of_service"], registration="SW1")
    service.add_staff(cw, "tm", "T", ["team_manager"], registration="SW2", actor="hos")
    with pytest.raises(StaffChangeRefused, match="Only a head of service adds people here"):
        service.add_staff(cw, "sw", "S", ["social_worker"], registration="SW3", actor="tm")
    with pytest.raises(InvalidDefinition) as loose:
        cw.policies.get("loose_town")
    text = str(loose.value)
    assert "loose_town.yaml" in text and "staff.add.who" in text and "Fix:" in text
    with pytest.raises(InvalidDefinition):
        service.init_store(cw, staff_protocol="loose_town")
    cw.store.dispose()


def test_nobody_moves_their_own_team_or_leaving_day_and_a_leaver_is_not_revived(staffed, clock):
    """The reviewer's attacks: a manager moving themselves to another team (gaining its managers' powers) or
    postponing their own leaving day is refused; once someone has left, their record is closed (WT-7)."""
    for change in (lambda: service.update_staff(staffed, "tm", "tm", team="Amber Valley"),
                   lambda: service.leave_staff(staffed, "tm", "tm", on=START.date() + timedelta(days=30))):
        with pytest.raises(StaffChangeRefused) as refused:
            change()
        assert "staff_self" in [u.kind for u in refused.value.verdict.unmet]
    service.leave_staff(staffed, "sw", "tm", on=START.date())
    clock.advance(days=2)
    with pytest.raises(BadInput, match="record is closed"):
        service.leave_staff(staffed, "sw", "sm", on=START.date() + timedelta(days=300))
    with pytest.raises(BadInput, match="record is closed"):
        service.update_staff(staffed, "sw", "sm", team="Amber Valley")


def test_the_staff_protocol_is_the_version_init_kept_not_a_file_the_caller_brings(tmp_path, clock):
    """The reviewer's attack: a team manager runs casework with a directory of their own whose strict_town.yaml
    lets anyone add staff. The store judges by the strict_town version init kept, and still refuses them."""
    strict, lax = tmp_path / "strict", tmp_path / "lax"
    strict.mkdir()
    lax.mkdir()
    (strict / "strict_town.yaml").write_text(
        "name: strict_town\nextends: national\nversion: 1\nstaff:\n  add:\n"
        "    who: [{roles: [head_of_service], qualified: true}]\n    says: Only a head of service adds people here.\n")
    (lax / "strict_town.yaml").write_text("name: strict_town\nextends: national\nversion: 1\n")
    url = f"sqlite:///{tmp_path / 'pinned.db'}"
    cw = open_casework(url, machines=[strict], clock=clock)
    service.init_store(cw, staff_protocol="strict_town")
    service.add_staff(cw, "hos", "H", ["head_of_service"], registration="SW1")
    service.add_staff(cw, "tm", "T", ["team_manager"], registration="SW2", actor="hos")
    own = open_casework(url, machines=[lax], clock=clock)
    with pytest.raises(StaffChangeRefused, match="Only a head of service adds people here"):
        service.add_staff(own, "x", "X", ["social_worker"], registration="SW3", actor="tm")
    assert service.verify_audit(own).ok
    for workspace in (cw, own):
        workspace.store.dispose()
