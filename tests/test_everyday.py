"""A team manager's and a practitioner's day: declared teams, transfers, coded closures, `mine`, `staff show`,
caseload filters, and plain words, through the real CLI and API on a real SQLite file."""
from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from casework.cli.main import cli
from casework.errors import BadInput, CaseNotFound, TransferRefused, UnknownName
from casework.workflow import service
from casework.workflow.rebuilding import rebuild_projections
from casework.workflow.replay import replay

from .helpers import add_standard_staff, case_in_assessment, case_in_cin_plan, hand_to_ccw
from .test_store_contract import snapshot


@pytest.fixture
def day(sqlite_cw):
    """Standard staff on a store that declares two teams; C-1 on a CIN plan led by sw, C-2 in assessment."""
    add_standard_staff(sqlite_cw)
    service.declare_team(sqlite_cw, "Erewash", "tm")
    service.declare_team(sqlite_cw, "Amber Valley", "tm")
    case_in_cin_plan(sqlite_cw, "C-1")
    case_in_assessment(sqlite_cw, "C-2")
    return sqlite_cw


def _cli(cw, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", cw.store.url, *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


# --- teams -----------------------------------------------------------------------------------------------------

def test_a_mistyped_team_is_refused_with_the_declared_team_suggested_and_nothing_is_made(day):
    """'Erewash ' or 'erewash' is not a new team once teams are declared: exit 2, the declared name suggested, no
    case opened (the team manager's "Northshire north" that silently made a team)."""
    before = snapshot(day)
    for typed in ("erewash", "EREWASH ", "Ere\u200bwash"):
        with pytest.raises(BadInput) as unknown:
            service.open_case(day, "C-9", "national", typed, "tm")
        assert unknown.value.exit_code == 2
        assert isinstance(unknown.value, UnknownName) == ("\u200b" not in typed)
        assert "Erewash" in str(unknown.value) or "U+200B" in str(unknown.value)
    code, _, err = _cli(day, "case", "open", "C-9", "--policy", "national", "--team", "Northshire north", "--as", "tm")
    assert code == 2 and "Unknown team 'Northshire north'" in err and "C-1" not in err
    assert snapshot(day) == before


def test_staff_join_only_declared_teams_and_only_managers_declare_them(day):
    """A staff member's team must be declared; a social worker cannot declare a team (WT-7), and the attempt is
    audited on the staff chain; `team list` counts each team's cases."""
    with pytest.raises(UnknownName):
        service.add_staff(day, "new", "New", ["social_worker"], team="Erewsh", actor="tm")
    code, _, err = _cli(day, "team", "add", "Bolsover", "--as", "sw")
    assert code == 1 and "may not declare the team Bolsover" in err and "WT-7" in err
    code, _, err = _cli(day, "team", "add", "erewash", "--as", "tm")
    assert code == 3 and "'Erewash' is declared already" in err
    code, out, _ = _cli(day, "team", "list", "--json")
    assert json.loads(out) == [{"name": "Amber Valley", "cases": 0, "declared": True, "named_by": []},
                               {"name": "Erewash", "cases": 2, "declared": True, "named_by": []}]


def test_a_team_spelt_otherwise_than_a_protocol_names_it_is_declared_with_a_note_and_can_be_put_right(sqlite_cw):
    """Derbyshire's pilot runs in the team 'Erewash' (DER-8): declaring 'erewash' is allowed (another protocol may
    spell it so) but says that those rules apply only to a team spelt 'Erewash'; `team list` then says the store
    declares it otherwise, and declaring the protocol's spelling is the way out, not "declared already"."""
    add_standard_staff(sqlite_cw)
    code, out, _ = _cli(sqlite_cw, "team", "add", "erewash", "--as", "tm")
    assert code == 0 and ("Note: the rules of derbyshire (DER-8) name the team 'Erewash', and apply only to cases "
                          "of a team spelt so.") in out
    service.open_case(sqlite_cw, "D-1", "derbyshire", "erewash", "tm")
    code, out, _ = _cli(sqlite_cw, "team", "list")
    assert "Not declared: Erewash, named by the rules of derbyshire (DER-8) (this store declares it as 'erewash', " \
           "which those rules do not match)" in out
    assert _cli(sqlite_cw, "team", "add", "EREWASH", "--as", "tm")[0] == 3  # a look-alike of both: declared already
    code, out, _ = _cli(sqlite_cw, "team", "add", "Erewash", "--as", "tm")
    assert code == 0 and "Note" not in out
    assert [t.name for t in service.list_teams(sqlite_cw)] == ["Erewash", "erewash"]


def test_a_protocols_team_names_are_kept_as_a_store_keeps_team_names():
    """'High  Peak' in a protocol is the team 'High Peak' (NFKC, single spaces), as declared teams are; a name
    holding an invisible character is refused at load, with the reason."""
    from pydantic import ValidationError

    from casework.workflow.requirements.scope import InTeams
    from casework.workflow.schema import validate

    assert validate(InTeams, {"teams": ["High  Peak", "Ｅｒｅｗａｓｈ"]}).teams == ("High Peak", "Erewash")
    with pytest.raises(ValidationError, match="U\\+200B"):
        validate(InTeams, {"teams": ["Ere\u200bwash"]})


def test_team_list_says_which_rules_name_a_team_and_which_named_teams_are_not_declared(sqlite_cw):
    """Once the store runs Derbyshire cases, `team list` says the pilot's rules name 'Erewash'; a store that
    declared 'Erewash North' instead is told that no case can be in the pilot's team."""
    add_standard_staff(sqlite_cw)
    service.declare_team(sqlite_cw, "Erewash North", "tm")
    service.open_case(sqlite_cw, "D-1", "derbyshire", "Erewash North", "tm")
    code, out, _ = _cli(sqlite_cw, "team", "list")
    assert code == 0 and "Not declared: Erewash, named by the rules of derbyshire (DER-8)" in out
    assert "No case can be in it until it is declared" in out
    service.declare_team(sqlite_cw, "Erewash", "tm")
    [erewash, north] = service.list_teams(sqlite_cw)
    assert (north.name, north.cases, north.named_by) == ("Erewash North", 1, ())
    assert (erewash.name, erewash.declared, erewash.named_by) == ("Erewash", True, ("derbyshire (DER-8)",))
    assert "Not declared" not in _cli(sqlite_cw, "team", "list")[1]


def test_a_team_row_written_behind_casework_is_found_by_audit_verify_and_rebuild_removes_it(day):
    """Teams are guarded like the staff list: a 'team:' settings row no audit entry made is reported, and a
    rebuild puts the table back as the chain says."""
    with sqlite3.connect(day.store.url.removeprefix("sqlite:///")) as db:
        db.execute("INSERT INTO settings (key, value) VALUES ('team:Shadow team', 'declared')")
    report = service.verify_audit(day)
    assert not report.ok and any("team:Shadow team" in b.reason and b.chain == "staff" for b in report.broken)
    rebuild_projections(day)
    assert service.verify_audit(day).ok and "Shadow team" not in [t.name for t in service.list_teams(day)]


def test_a_store_that_declares_no_team_takes_teams_as_written(sqlite_cw):
    """Stores from before teams were declared keep working: any team is taken until the first is declared."""
    add_standard_staff(sqlite_cw)
    service.open_case(sqlite_cw, "C-1", "national", "Anywhere", "tm")
    assert service.show_case(sqlite_cw, "C-1")["team"] == "Anywhere" and service.list_teams(sqlite_cw) == []


# --- transfer --------------------------------------------------------------------------------------------------

def test_a_team_manager_transfers_a_case_which_replays_and_verifies(day):
    """`case transfer` moves the case to a declared team, keeps its holders, needs a reason, and the audit
    entry replays as allowed; `case list --team` then finds it under its new team."""
    code, _, err = _cli(day, "case", "transfer", "C-1", "--team", "Amber Valley", "--as", "tm")
    assert code == 2 and "--reason" in err
    code, out, _ = _cli(day, "case", "transfer", "C-1", "--team", "Amber Valley", "--as", "tm", "--reason", "Moved")
    assert code == 0 and "team Amber Valley" in out
    shown = service.show_case(day, "C-1")
    assert shown["team"] == "Amber Valley" and shown["lead"]["id"] == "sw"
    assert [r["id"] for r in service.list_cases(day, team="Amber Valley")] == ["C-1"]
    assert service.verify_audit(day).ok and replay(day).ok
    history = service.case_history(day, "C-1", words=True)
    assert history[-1]["words"]["what"] == "transferred the case from Erewash to Amber Valley"


def test_a_transfer_by_someone_who_may_not_allocate_is_refused_and_changes_nothing_but_its_record(day):
    """A social worker may not move a case between teams (WT-4): exit 1, the refusal audited, the case as it was."""
    before = service.show_case(day, "C-1")
    with pytest.raises(TransferRefused) as refused:
        service.transfer_case(day, "C-1", "Amber Valley", "sw", reason="Moving")
    assert "may not transfer the case to Amber Valley" in str(refused.value)
    assert service.show_case(day, "C-1") == before
    assert service.case_history(day, "C-1")[-1]["action"] == "refused"
    with pytest.raises(UnknownName):
        service.transfer_case(day, "C-1", "Amber Vale", "tm", reason="Moving")


# --- closure ---------------------------------------------------------------------------------------------------

def test_a_case_is_closed_for_a_census_reason_through_the_move_that_reason_leads_to(day):
    """RC8 closes a case in assessment (the 'close' move, its reason requirement met by the reason's words) and
    the audit entry keeps the code; RC9 steps a CIN case down to early help; an unknown code is exit 2."""
    code, _, err = _cli(day, "case", "close", "C-2", "RC10", "--as", "tm")
    assert code == 2 and "Unknown closure reason 'RC10'" in err and "RC8 Case closed after assessment" in err
    code, out, _ = _cli(day, "case", "close", "C-2", "RC8", "--as", "tm", "--note", "No concerns after checks")
    assert code == 0 and "Closed; the case has ended" in out
    entry = service.case_history(day, "C-2")[-1]
    assert (entry["event"], entry["to_state"], entry["payload"]["closure_reason"]) == ("close", "closed", "RC8")
    assert entry["payload"]["reason"] == "RC8 Case closed after assessment, no further action: No concerns after checks"
    result = service.close_case(day, "C-1", "RC9", "tm")
    assert result.verdict.event == "step_down" and result.case["state"] == "stepped_down"
    code, _, err = _cli(day, "case", "close", "C-2", "RC7", "--as", "tm")
    assert code == 2 and "has ended already" in err
    assert service.verify_audit(day).ok and replay(day).ok


def test_closing_is_judged_like_the_move_it_makes(day):
    """A community care worker leading a CIN case may not close it (the 'close' move's who, WT-7): exit 1."""
    hand_to_ccw(day, "C-1")
    code, _, err = _cli(day, "case", "close", "C-1", "RC7", "--as", "ccw")
    assert code == 1 and "may not close the case on case C-1" in err


# --- a practitioner's own cases --------------------------------------------------------------------------------

def test_mine_lists_my_open_cases_with_what_is_due_and_the_moves_the_engine_allows(day):
    """`casework mine --as sw` shows both of sw's cases, the next item due on each, and exactly the moves the
    engine's own verdicts allow sw now (closed cases are left out)."""
    code, out, _ = _cli(day, "mine", "--as", "sw", "--json")
    held = {h["id"]: h for h in json.loads(out)}
    assert code == 0 and set(held) == {"C-1", "C-2"} and held["C-1"]["places"] == ["lead"]
    allowed = {v.event for v in service.available(day, "C-1", "sw") if v.allowed or not v.refused}
    assert {m["event"] for m in held["C-1"]["may"]} == allowed and "hold_cin_review" in allowed
    assert held["C-2"]["due"][0]["deadline"] == "assessment_complete"
    code, out, _ = _cli(day, "mine", "--as", "sw")
    assert "C-2  Single assessment" in out and "Single assessment complete" in out
    assert "casework case move C-1 hold_cin_review --as sw" in out
    service.close_case(day, "C-2", "RC8", "tm")
    assert [h.id for h in service.my_cases(day, "sw")] == ["C-1"]


def test_case_list_filters_by_holder_and_staff_show_lists_what_a_person_holds(day):
    """`case list --lead/--supervisor` reads a person's caseload; `staff show` gives their registration in words
    and the cases they hold; a mistyped person is exit 2 naming the nearest id."""
    hand_to_ccw(day, "C-1", supervisor="sw")
    assert [r["id"] for r in service.list_cases(day, lead="ccw")] == ["C-1"]
    assert [r["id"] for r in service.list_cases(day, supervisor="sw")] == ["C-1"]
    assert [r["id"] for r in service.list_cases(day, lead="sw")] == ["C-2"]
    assert service.list_cases(day, lead="sw", state="cin_plan") == []
    code, out, _ = _cli(day, "staff", "show", "sw")
    assert code == 0 and "Social Work England SW900004; social-work-qualified today" in out
    assert "Lead of       C-2" in out and "Supervisor of C-1" in out
    code, out, _ = _cli(day, "staff", "show", "lapsed")
    assert "not social-work-qualified today" in out
    code, _, err = _cli(day, "case", "list", "--lead", "sww")
    assert code == 2 and "'sw'" in err


# --- plain words -----------------------------------------------------------------------------------------------

def test_text_output_speaks_in_titles_and_names_while_json_keeps_identifiers(day):
    """`case show`, `history`, `due` and a refusal use titles, names and full sentences; the rule IDs stay in the
    refusal; --json keeps the identifiers."""
    hand_to_ccw(day, "C-1")
    code, _, err = _cli(day, "case", "move", "C-1", "escalate_to_strategy", "--as", "ccw", "--reason", "Bruising")
    assert code == 1 and "CCW (community care worker) may not escalate to a strategy discussion on case C-1 " \
                         "(Child in Need plan)" in err and "WT-5" in err and "Cannot '" not in err
    code, out, _ = _cli(day, "case", "show", "C-1")
    assert out.startswith("Case C-1: Child in Need plan (child in need), since")
    assert "Lead        CCW, community care worker (ccw)" in out and "working day" in out
    code, out, _ = _cli(day, "case", "history", "C-1")
    assert "TM: moved the case from Referral to Single assessment: Decide to assess" in out
    assert "CCW: was refused: escalate to a strategy discussion, in Child in Need plan (WT-5)" in out
    code, out, _ = _cli(day, "due")
    assert "Single assessment complete (WT-6)" in out and "assessment_complete" not in out
    code, out, _ = _cli(day, "case", "history", "C-1", "--json")
    entries = json.loads(out)
    assert all("words" not in e for e in entries) and "decide_assessment" in [e["event"] for e in entries]


def test_an_unknown_case_names_no_other_case(day):
    """No 'Did you mean' for a case id: the nearest one is another child's record (a disclosure risk)."""
    with pytest.raises(CaseNotFound) as unknown:
        service.show_case(day, "C-3")
    assert unknown.value.suggestions == () and "C-1" not in str(unknown.value)


# --- protocols, read by the people who implement them ------------------------------------------------------------

def test_policy_show_and_diff_take_a_file_and_show_every_part_of_a_protocol(tmp_path, sqlite_cw):
    """`policy diff national FILE` works without --machines (as `policy check FILE` does); `policy show` lists
    facts, allocation, deadlines and closure reasons as well as moves; a local file adds closure reasons to
    national's."""
    local = tmp_path / "northshire.yaml"
    local.write_text("name: northshire\nextends: national\nversion: 1\nclosure_reasons:\n"
                     "  NS1: {title: Moved to another authority by agreement}\nevents:\n  close:\n"
                     "    who: [{roles: [team_manager], qualified: true, team: case}]\n")
    code, out, _ = _cli(sqlite_cw, "policy", "diff", "national", str(local))
    assert code == 0 and "Move: Close the case  [close]" in out
    code, out, _ = _cli(sqlite_cw, "policy", "show", str(local))
    for part in ("  facts:", "  allocation:", "who allocates:", "  deadlines:", "icpc_held",
                 "RC8    Case closed after assessment, no further action -> closed",
                 "NS1    Moved to another authority by agreement -> closed"):
        assert part in out, part
    code, out, _ = _cli(sqlite_cw, "policy", "show", "national", "--json")
    assert json.loads(out)["closure_reasons"]["RC9"] == {"title": "Case closed after assessment, referred to early "
                                                                  "help", "to": "stepped_down"}


def test_a_closure_reason_must_lead_to_a_state_where_cases_end(tmp_path, sqlite_cw):
    """A closure reason going to an open state is refused at load, naming the file, the place and the fix."""
    bad = tmp_path / "badclose.yaml"
    bad.write_text("name: badclose\nextends: national\nversion: 1\nclosure_reasons:\n"
                   "  BC1: {title: Kept open, to: cin_plan}\n")
    code, out, err = _cli(sqlite_cw, "policy", "check", str(bad))
    assert code == 2 and "closure_reasons.BC1.to" in out + err and "stepped_down, closed" in out + err


def test_a_reader_that_stops_early_is_not_reported_as_a_bug(tmp_path):
    """`casework policy show torbay | head -1`: a closed pipe ends the command quietly (no 'bug in casework')."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    read, write = os.pipe()
    os.close(read)  # nobody will read: the first write fails with EPIPE, whatever the timing
    casework = Path(sys.executable).with_name("casework")
    done = subprocess.run([str(casework), "--db", str(tmp_path / "x.db"), "policy", "show", "torbay"], stdout=write,
                          stderr=subprocess.PIPE, text=True, check=False)
    os.close(write)
    assert done.returncode == 1 and "bug" not in done.stderr and "Traceback" not in done.stderr


def test_a_team_declared_in_a_forged_entry_is_not_its_actors(day):
    """A team declaration appended to the staff chain in a social worker's name, with its settings row, hashes
    cleanly but is reported: the staff protocol would have refused that person (WT-7)."""
    from casework.store import audit, records

    with day.store.write() as conn:
        records.lock_chain(conn, "staff")
        now = "2025-03-03T09:00:00.000000+00:00"
        records.set_setting(conn, "team:Bolsover", "declared")
        audit.append(conn, "staff", recorded_at=now, at=now, actor="sw", principal="os-user:mallory",
                     action="team", event="declare_team", policy="national", policy_version="2@forged",
                     payload={"team": "Bolsover", "reason": None})
    report = service.verify_audit(day)
    assert not report.ok
    assert any("not its actor's" in b.reason and "staff protocol refuses it" in b.reason for b in report.broken)


@pytest.mark.parametrize("name", ["Ere\u200bwash", "Evil\x1b[31mRed", "abc\u202edcba", "Bell\x07", "   ", "",
                                  "L" * 60])
def test_a_team_name_with_invisible_or_control_characters_is_refused_everywhere(sqlite_cw, name):
    """Zero-width, bidirectional and control characters, blank and over-long names are bad input (exit 2), for a
    declaration and for a case's team on a store that declares none; nothing is written."""
    add_standard_staff(sqlite_cw)
    before = snapshot(sqlite_cw)
    with pytest.raises(BadInput):
        service.declare_team(sqlite_cw, name, "tm")
    with pytest.raises(BadInput):
        service.open_case(sqlite_cw, "C-1", "national", name, "tm")
    assert snapshot(sqlite_cw) == before


def test_a_look_alike_of_a_declared_team_is_the_same_team(day):
    """NFKC: fullwidth letters and runs of spaces name the declared team itself, so no second 'Erewash' is made."""
    service.open_case(day, "C-9", "national", "\uff25rewash  ", "tm")
    assert service.show_case(day, "C-9")["team"] == "Erewash"
    with pytest.raises(Exception) as again:
        service.declare_team(day, "\uff25\uff32\uff25\uff37\uff21\uff33\uff28", "tm")
    assert again.value.exit_code == 3


def test_a_transfer_cannot_predate_the_cases_history(day, clock):
    """A back-dated transfer before the case's last recorded action is bad input (its history stays in order)."""
    from datetime import timedelta

    with pytest.raises(BadInput) as early:
        service.transfer_case(day, "C-1", "Amber Valley", "tm", reason="Moved", at=clock.now - timedelta(days=1))
    assert "cannot predate" in str(early.value) or "before case C-1" in str(early.value)


def test_an_argument_that_is_not_utf8_is_bad_input_not_a_crash(tmp_path):
    """Bytes that are not UTF-8 on the command line (a mis-encoded name) are exit 2, never 'a bug in casework'."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    casework = os.fsencode(Path(sys.executable).with_name("casework"))
    done = subprocess.run([casework, b"--db", os.fsencode(tmp_path / "x.db"), b"case", b"show", b"X\xff"],
                          capture_output=True, check=False)
    assert done.returncode == 2 and b"not valid UTF-8" in done.stderr and b"bug" not in done.stderr


def test_listing_a_mistyped_team_is_refused_not_shown_empty(day):
    """`case list --team south` and `due --team south` refuse the name with the declared one suggested (the team
    manager's empty table for "Northshire north")."""
    for command in (("case", "list", "--team", "amber valley"), ("due", "--team", "amber valley")):
        code, _, err = _cli(day, *command)
        assert code == 2 and "Did you mean 'Amber Valley'?" in err


def test_listing_a_mistyped_state_is_refused_and_a_title_is_understood(day):
    """`case list --state assesment` is exit 2 with the nearest state named, not "No cases match"; a state's title,
    in any case, lists its cases as its name does."""
    code, out, err = _cli(day, "case", "list", "--state", "assesment")
    assert code == 2 and out == "" and "Unknown state 'assesment'" in err and "Did you mean 'assessment'?" in err
    by_name = _cli(day, "case", "list", "--state", "assessment", "--json")
    assert by_name[0] == 0 and [c["id"] for c in json.loads(by_name[1])] == ["C-2"]
    assert _cli(day, "case", "list", "--state", "single ASSESSMENT", "--json") == by_name


def test_case_list_finds_a_holder_by_name_as_by_id(day):
    """`case list --lead "SW"` (a person's name, any case) lists what `--lead sw` lists; a name no one has, or one
    two people share, is an unknown staff member (exit 2)."""
    by_id = _cli(day, "case", "list", "--lead", "sw", "--json")
    assert by_id[0] == 0 and json.loads(by_id[1]) and _cli(day, "case", "list", "--lead", "Sw", "--json") == by_id
    service.add_staff(day, "sw9", "SW", ["social_worker"], team="Erewash", registration="SW999", actor="tm")
    assert _cli(day, "case", "list", "--lead", "sw", "--json") == by_id  # the id comes first
    code, _, err = _cli(day, "case", "list", "--supervisor", "Sw")  # two people are named so
    assert code == 2 and "Unknown staff member 'Sw'" in err


def test_case_show_names_everyone_on_a_record_by_name(day):
    """Whoever took part in a visit is named as the history names them, holder of the case or not."""
    service.record_fact(day, "C-1", "home_visit", "sw", with_staff=["tm"], note="Seen with mum")
    code, out, _ = _cli(day, "case", "show", "C-1")
    assert code == 0 and "a home visit to the child and family, by SW, with TM: Seen with mum" in out


def test_mine_offers_case_close_for_a_move_that_ends_the_case(day):
    """Where a protocol codes its closures, `mine` points to `case close CASE REASON`, not the bare move."""
    code, out, _ = _cli(day, "mine", "--as", "tm", "--json")
    held = json.loads(out)
    assert held == []  # tm holds no case: mine is about the cases a person holds
    service.allocate(day, "C-2", "sw", "tm", supervisor="tm")
    code, out, _ = _cli(day, "mine", "--as", "tm")
    assert "casework case close C-2 REASON --as tm (REASON: RC1" in out and "case move C-2 close" not in out


def test_supervision_records_are_shown_apart_from_other_records(day):
    """`case show` lists a supervision session under 'Supervision', other facts under 'Recorded'; the JSON marks
    each fact's kind (WT-3: the supervisor's oversight is visible on the case)."""
    service.record_fact(day, "C-1", "supervision", "tm", note="Reviewed the plan")
    service.record_fact(day, "C-1", "home_visit", "sw")
    shown = service.show_case(day, "C-1")
    assert {f["name"]: f["supervision"] for f in shown["facts"]}["supervision"] is True
    code, out, _ = _cli(day, "case", "show", "C-1")
    supervision = next(line for line in out.splitlines() if line.startswith("  Supervision"))
    assert "a supervision session on the case, by TM: Reviewed the plan" in supervision
    assert any(line.startswith("  Recorded") for line in out.splitlines())


def test_a_refused_transfer_or_closure_writes_only_its_audited_attempt(day):
    """Every table but the audit log is byte-for-byte as it was after a refused transfer and a refused closure;
    the log grows by exactly the two attempts."""
    from .test_store_contract import _without_audit

    hand_to_ccw(day, "C-1")
    before = snapshot(day)
    with pytest.raises(TransferRefused):
        service.transfer_case(day, "C-1", "Amber Valley", "ccw", reason="Moving")
    with pytest.raises(Exception) as refused:
        service.close_case(day, "C-1", "RC7", "ccw")
    assert refused.value.exit_code == 1
    after = snapshot(day)
    assert _without_audit(after) == _without_audit(before)
    assert len(after["audit"]) == len(before["audit"]) + 2
