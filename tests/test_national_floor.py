"""The national floor (issue 11): no protocol file can let anyone do what Working Together forbids.

Each loosening a hostile or careless practice lead tried is a regression test here: the
file is refused by `casework policy check` (exit 2, the local file and line, a fix), and
where the loader keeps the national safeguard by construction instead, the engine still
refuses what national refuses.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from casework.cli.main import cli
from casework.workflow import service
from casework.errors import AllocationRefused, InvalidDefinition
from casework.workflow.loader import Policies, load_file, shipped_directory
from casework.workflow.workspace import open_casework

from .helpers import STAFF, add_standard_staff, case_in_cin_plan

NATIONAL = shipped_directory() / "national.yaml"


def _local(folder: Path, name: str, body: str, header: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text((header if header is not None else f"name: {name}\nextends: national\nversion: 1\n") + body)
    return path


def _line(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def _check(tmp_path: Path, *files: Path, env: dict[str, str] | None = None):
    """`casework policy check FILES` through the real CLI."""
    return CliRunner().invoke(cli, ["--db", str(tmp_path / "check.db"), "policy", "check", *map(str, files)],
                              env=env, catch_exceptions=False)


def _refused(tmp_path: Path, path: Path, *needles: str) -> str:
    result = _check(tmp_path, path)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, result.output
    return result.output


_LOOSE_NATIONAL = NATIONAL.read_text().replace(
    "  start_s47:\n    title: Start a section 47 enquiry\n    from: strategy_discussion\n    to: s47_enquiry\n"
    "    who: [*registered_sw, *managers]", "  start_s47:\n    title: Start a section 47 enquiry\n"
                                        "    from: strategy_discussion\n    to: s47_enquiry\n    who: [{}]")


# 1. one national baseline, always the shipped one --------------------------------------------


def test_a_national_yaml_in_a_machines_directory_is_refused_naming_both_files(tmp_path, cli_run):
    """A loosened national.yaml on --machines cannot stand in for the shipped baseline (WT-5)."""
    assert _LOOSE_NATIONAL != NATIONAL.read_text()
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "national.yaml").write_text(_LOOSE_NATIONAL)
    cli_run("staff", "add", "tm", "--name", "T", "--role", "team_manager", "--registered", "SW1")
    result = cli_run("--machines", str(folder), "case", "open", "N-1", "--policy", "national", "--team", "A",
                     "--as", "tm", ok=False)
    assert result.exit_code == 2, result.output
    assert str(folder / "national.yaml") in result.output and str(NATIONAL) in result.output
    assert "shipped with casework" in result.output and "Fix:" in result.output
    assert cli_run("case", "list", "--json").stdout.strip() == "[]"


def test_casework_machines_cannot_replace_national_either(tmp_path):
    """CASEWORK_MACHINES is refused the same way (WT-5)."""
    folder = tmp_path / "env"
    folder.mkdir()
    (folder / "national.yaml").write_text(_LOOSE_NATIONAL)
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "x.db"), "policy", "show", "national"],
                                env={"CASEWORK_MACHINES": str(folder)})
    assert result.exit_code == 2 and str(folder / "national.yaml") in result.output


def test_a_national_yaml_beside_a_checked_file_is_refused(tmp_path):
    """A copy of national beside a local file is not the local file's base (WT-5)."""
    folder = tmp_path / "la"
    local = _local(folder, "mytown", "title: My town\n")
    (folder / "national.yaml").write_text(_LOOSE_NATIONAL)
    _refused(tmp_path, local, str(folder / "national.yaml"), "shipped with casework")


def test_a_file_named_after_a_shipped_local_protocol_is_refused(tmp_path):
    """A torbay.yaml of one's own cannot replace the shipped Torbay protocol either."""
    folder = tmp_path / "la"
    _local(folder, "torbay", "title: Not Torbay\n")
    with pytest.raises(InvalidDefinition) as bad:
        Policies([folder]).get("torbay")
    assert "shipped with casework" in str(bad.value) and "torbay_local" in str(bad.value)


def test_a_protocol_without_extends_is_refused(tmp_path):
    """Every definition but the shipped baseline extends national, directly or through a chain (WT-2, WT-5)."""
    path = _local(tmp_path, "alone", NATIONAL.read_text().replace("name: national", "name: alone"), header="")
    _refused(tmp_path, path, f"{path}:", "every protocol extends the national baseline", "Fix: add 'extends: national'")


def test_extends_takes_a_protocol_name_never_a_path(tmp_path):
    """'extends: /abs/path/national' is refused: a base is found by name only."""
    path = _local(tmp_path, "pathy", "", header=f"name: pathy\nextends: {tmp_path / 'national'}\nversion: 1\n")
    _refused(tmp_path, path, f"{path}:2: at extends", "never a file path")


def test_a_chain_through_a_loosened_middle_file_is_refused(tmp_path):
    """A leaf extending a middle protocol that loosens national is refused at the middle file (WT-5)."""
    folder = tmp_path / "la"
    middle = _local(folder, "middle", "events:\n  convene_icpc:\n    who: [{roles: [community_care_worker]}]\n")
    leaf = _local(folder, "leaf", "title: Leaf\n", header="name: leaf\nextends: middle\nversion: 1\n")
    output = _refused(tmp_path, leaf, f"{middle}:{_line(middle, 'who:')}", "events.convene_icpc.who[0]", "WT-5")
    assert "community care worker" in output


def test_a_chain_of_local_files_is_a_protocol_when_each_refines_its_base(tmp_path):
    """A local authority's own directory: a leaf may extend a local protocol, which extends a shipped one."""
    folder = tmp_path / "la"
    _local(folder, "torbay_east", "title: Torbay East\n", header="name: torbay_east\nextends: torbay\nversion: 1\n")
    leaf = _local(folder, "torbay_east_pilot", "events:\n  step_down:\n    who: [{relation: supervisor, qualified: true}]\n",
                  header="name: torbay_east_pilot\nextends: torbay_east\nversion: 1\n")
    result = _check(tmp_path, leaf)
    assert result.exit_code == 0, result.output
    assert "refines national" in result.output
    assert Policies([folder]).get("torbay_east_pilot").lineage == ("national", "torbay", "torbay_east",
                                                                   "torbay_east_pilot")


# 2. refinement, by construction ----------------------------------------------------------------


_FSW_LEADS = """\
allocation:
  leads:
    - roles: [social_worker]
      paths: [cin, cp]
      requires: [lead_is_registered_social_worker]
    - roles: [family_support_worker]
      paths: [cin]
      requires: [supervised_if_unqualified]
"""


@pytest.fixture
def floor_cw(tmp_path, clock):
    """A workspace whose machines directory holds the local files a test writes."""
    folder = tmp_path / "machines"
    folder.mkdir()
    cw = open_casework(f"sqlite:///{tmp_path / 'floor.db'}", machines=[folder], clock=clock)
    service.init_store(cw)
    add_standard_staff(cw)
    yield cw, folder
    cw.store.dispose()


def test_replacing_the_lead_policies_keeps_national_agreement_with_partners(floor_cw):
    """A local lead list without 'lead_agreed_with_partners' still needs it: an FSW is refused until it is recorded
    (WT-4)."""
    cw, folder = floor_cw
    _local(folder, "fsw_town", _FSW_LEADS)
    fsw_policy = cw.policies.get("fsw_town").allocation.leads[1]
    assert [r.kind for r in fsw_policy.requires] == ["supervised_if_unqualified", "fact_recorded"]
    assert fsw_policy.requires[1].origin == "national" and fsw_policy.requires[0].rules == ("WT-3",)
    case_in_cin_plan(cw, policy="fsw_town")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(cw, "C-1", "fsw", "tm", supervisor="sw")
    assert any(u.kind == "fact_recorded" and "agreed with partners" in u.sentence and "WT-4" in u.rules
               for u in refused.value.verdict.unmet)
    service.record_fact(cw, "C-1", "lead_agreed_with_partners", "tm")
    assert service.allocate(cw, "C-1", "fsw", "tm", supervisor="sw").case["lead"]["id"] == "fsw"


def test_a_social_worker_lead_policy_without_a_registration_check_still_checks_it(floor_cw):
    """WT-3 turns on registration on the day: an unregistered 'social_worker' cannot lead unsupervised (WT-3, WT-5)."""
    cw, folder = floor_cw
    _local(folder, "role_town", "allocation:\n  leads:\n    - roles: [social_worker]\n      paths: [cin]\n")
    [policy] = cw.policies.get("role_town").allocation.leads
    assert [r.kind for r in policy.requires] == ["lead_is_registered_social_worker"]
    service.add_staff(cw, "unreg", "U", ["social_worker"], team=STAFF["sw"][3], actor="tm")
    service.open_case(cw, "C-1", "role_town", STAFF["sw"][3], "tm")
    with pytest.raises(AllocationRefused) as refused:
        service.allocate(cw, "C-1", "unreg", "tm")
    assert any(u.kind == "lead_is_registered_social_worker" for u in refused.value.verdict.unmet)
    with pytest.raises(AllocationRefused):
        service.allocate(cw, "C-1", "lapsed", "tm")


def test_a_policy_admitting_a_role_national_does_not_is_refused(tmp_path):
    """A student may not lead a CIN case under national, so a local protocol cannot let one (WT-2)."""
    path = _local(tmp_path, "students", "allocation:\n  leads:\n    - roles: [student_social_worker]\n"
                                        "      paths: [cin]\n      requires: [supervised_if_unqualified]\n")
    _refused(tmp_path, path, "allocation.leads[0].roles", "student social worker", "WT-2")


def test_redefining_a_national_fact_cannot_drop_its_qualified_supervisor(tmp_path):
    """'assessment_approved' by any supervisor (not only a qualified one) is refused (WT-4)."""
    path = _local(tmp_path, "approve", "facts:\n  assessment_approved:\n    title: approved\n"
                                       "    who: [{relation: supervisor}]\n")
    _refused(tmp_path, path, f"{path}:{_line(path, 'who:')}", "facts.assessment_approved.who[0]",
             "who is not registered", "WT-4", "Fix: narrow it", "qualified: true")


def test_a_fact_keeps_its_note_and_joint_working_conditions(tmp_path):
    """A local copy of a fact cannot switch off a required note or choice list it inherited."""
    folder = tmp_path / "la"
    _local(folder, "strict", "facts:\n  visit:\n    title: a joint visit\n    who: [{relation: allocated}]\n"
                             "    with_qualified: true\n    note_required: true\n")
    loose = _local(folder, "loose_visit", "facts:\n  visit:\n    with_qualified: false\n    note_required: false\n",
                   header="name: loose_visit\nextends: strict\nversion: 1\n")
    _refused(tmp_path, loose, "facts.visit.with_qualified", "facts.visit.note_required")


def test_an_event_into_child_protection_cannot_be_opened_to_anyone(tmp_path):
    """'who: [{}]' on start_s47 would let a community care worker make a CP move (WT-5)."""
    path = _local(tmp_path, "anyone", "events:\n  start_s47:\n    who: [{}]\n")
    output = _refused(tmp_path, path, f"{path}:{_line(path, 'who:')}", "events.start_s47.who[0]", "WT-5")
    assert "'anyone' is wider than 'national'" in output


def test_a_base_event_keeps_its_target_and_its_states(tmp_path):
    """A local file cannot send 'close' elsewhere or make 'start_s47' from a CIN state (WT-5)."""
    path = _local(tmp_path, "moved", "events:\n  close:\n    to: stepped_down\n"
                                     "  start_s47:\n    from: [strategy_discussion, cin_plan]\n")
    _refused(tmp_path, path, "events.close.to", "events.start_s47.from[1]")


def test_a_local_initial_state_on_the_cp_path_is_refused(tmp_path):
    """No case can open straight into a strategy discussion (WT-5)."""
    path = _local(tmp_path, "fast", "states:\n  referral:\n    initial: false\n  strategy_discussion:\n"
                                    "    initial: true\n")
    _refused(tmp_path, path, "states.strategy_discussion.initial", "every case opens in 'referral'")
    path = _local(tmp_path, "fast2", "states:\n  triage:\n    path: cp\n    initial: true\n  referral:\n"
                                     "    initial: false\nevents:\n  triaged:\n    from: triage\n    to: referral\n"
                                     "    who: [{roles: [team_manager], qualified: true}]\n"
                                     "    requires: [lead_is_registered_social_worker]\n")
    _refused(tmp_path, path, "states.triage.initial", "never on the child protection path (WT-5)")


def test_a_local_move_cannot_take_a_case_out_of_child_protection(tmp_path):
    """Only national's own moves end child protection (WT-5)."""
    path = _local(tmp_path, "exit", "events:\n  quiet_end:\n    from: cp_plan\n    to: stepped_down\n"
                                    "    who: [{roles: [team_manager], qualified: true}]\n")
    _refused(tmp_path, path, "events.quiet_end.to", "takes a case out of child protection", "WT-5")


@pytest.mark.parametrize("body,needles", [
    ("backdate_days: 60\n", ["backdate_days", "at most 30", "WT-7"]),
    ("backdate_days: 36500\n", ["backdate_days", "less than or equal to 366"]),
    ("deadlines:\n  icpc_held:\n    within: {working_days: 1000}\n", ["never lengthen it to 1000 working days", "WT-6"]),
    ("deadlines:\n  icpc_held:\n    within: {working_days: 5000}\n", ["deadlines.icpc_held.within", "less than or equal"]),
    ("deadlines:\n  icpc_held:\n    within: {working_days: 20}\n",
     ["deadlines.icpc_held.within.working_days", "never lengthen it to 20 working days", "WT-6"]),
    ("deadlines:\n  cp_review:\n    repeat: {months: 12}\n", ["deadlines.cp_review.repeat.months", "WT-6"]),
    ("deadlines:\n  icpc_held:\n    while_in: [icpc]\n", ["deadlines.icpc_held.while_in", "WT-6"]),
    ("deadlines:\n  icpc_held:\n    held_by: [social_worker]\n", ["deadlines.icpc_held.held_by", "WT-6"]),
    ("deadlines:\n  cp_review:\n    met_by: [{fact: case_note}]\n", ["deadlines.cp_review.met_by", "WT-6"]),
])
def test_timescales_and_the_back_dating_window_may_be_shortened_never_lengthened(tmp_path, body, needles):
    """A local protocol cannot stretch WT-6's timescales, stop them running, or widen back-dating (WT-6, WT-7)."""
    _refused(tmp_path, _local(tmp_path, "slow", body), *needles)


def test_shortened_timescales_are_accepted(tmp_path):
    """Tightening is what a local protocol may do: an ICPC within 10 working days, CP reviews every 4 months (WT-6)."""
    path = _local(tmp_path, "brisk", "backdate_days: 7\ndeadlines:\n  icpc_held:\n    within: {working_days: 10}\n"
                                     "  cp_review:\n    repeat: {months: 4}\n")
    result = _check(tmp_path, path)
    assert result.exit_code == 0, result.output
    assert load_file(path).deadlines["icpc_held"].within.amount == 10


def test_local_closures_never_lengthen_a_national_deadline(tmp_path):
    """A local Christmas closure counts for the protocol's own deadlines only, not WT-6's (WT-6)."""
    path = _local(tmp_path, "shut", "closures: [2025-01-07, 2025-01-08, 2025-01-09]\n"
                                    "deadlines:\n  own_check:\n    title: A local check\n    while_in: [s47_enquiry]\n"
                                    "    start: {entered: strategy_discussion}\n    within: {working_days: 15}\n")
    local, national = load_file(path), Policies().get("national")
    from datetime import date
    day = date(2025, 1, 6)
    assert national.calendar_of(local.deadlines["icpc_held"]).add_working_days(day, 15) == date(2025, 1, 27)
    assert local.calendar_of(local.deadlines["icpc_held"]).add_working_days(day, 15) == date(2025, 1, 27)
    assert local.calendar_of(local.deadlines["own_check"]).add_working_days(day, 15) == date(2025, 1, 30)


# 2b. refinement, by search: what construction leaves to the search is found with a counterexample -----


def test_a_timescale_lengthened_in_other_units_is_found_by_the_search(tmp_path):
    """An ICPC 'within 30 days' is later than 15 working days on some start days: a counterexample (WT-6)."""
    path = _local(tmp_path, "units", "deadlines:\n  icpc_held:\n    within: {days: 30}\n")
    output = _refused(tmp_path, path, f"{path}:", "deadlines.icpc_held", "allows what national refuses",
                      "the timescale 'icpc_held'", "national: 'icpc_held' is due on", "WT-6")
    assert "local: due on" in output


def test_a_new_move_that_skips_the_strategy_discussion_is_refused(tmp_path):
    """A move from a CIN plan straight into an s47 enquiry skips national's way into child protection (WT-5, WT-6)."""
    path = _local(tmp_path, "skip", "events:\n  fast_track:\n    from: cin_plan\n    to: s47_enquiry\n"
                                    "    who: [{roles: [team_manager], qualified: true}]\n"
                                    "    requires: [lead_is_registered_social_worker, reason_given]\n")
    _refused(tmp_path, path, f"{path}:{_line(path, 'from: cin_plan')}", "events.fast_track.from[0]",
             "'national' has no move from 'cin_plan' to 's47_enquiry'", "WT-5, WT-6")


@pytest.mark.parametrize("body,where", [
    ("events:\n  fast_plan:\n    from: referral\n    to: cin_plan\n    who: [{}]\n", "events.fast_plan.from[0]"),
    ("events:\n  revive:\n    from: closed\n    to: cin_plan\n    who: [{}]\n", "events.revive.from[0]"),
    ("states:\n  limbo: {title: Limbo}\nevents:\n  enter_limbo: {from: referral, to: limbo, who: [{}]}\n"
     "  leave_limbo: {from: limbo, to: cin_plan, who: [{}]}\n", "events.leave_limbo"),
    ("states:\n  archived: {title: Archived, path: none, open: false}\nevents:\n"
     "  archive: {from: cin_plan, to: archived, who: [{}]}\n", "events.archive.to"),
])
def test_a_way_forward_national_does_not_have_is_refused(tmp_path, body, where):
    """Skipping the assessment, reopening straight into a plan, a detour through a state of one's own, or closing
    into one: each is a way past national's guarded moves (WT-4, WT-7)."""
    _refused(tmp_path, _local(tmp_path, "shortcut", body), where)


def test_a_step_back_national_does_not_have_is_allowed(tmp_path):
    """Going back from a CIN plan to a revised assessment (Derbyshire's DER-5) leaves the way forward guarded."""
    path = _local(tmp_path, "revise", "events:\n  revise:\n    from: cin_plan\n    to: assessment\n"
                                      "    who: [{relation: lead, qualified: true}]\n    requires: [reason_given]\n")
    result = _check(tmp_path, path)
    assert result.exit_code == 0 and "refines national" in result.output, result.output


def test_a_new_move_doing_what_close_does_without_its_conditions_is_found(tmp_path):
    """A local 'quick_close' from a CIN plan with no reason does what national's close refuses (WT-7)."""
    path = _local(tmp_path, "quick", "events:\n  quick_close:\n    from: cin_plan\n    to: closed\n"
                                     "    who: [{relation: lead}]\n")
    output = _refused(tmp_path, path, "events.quick_close", "which does what national's 'close' does",
                      "national refuses:")
    assert "acting:" in output and "case C-1" in output


def test_no_command_runs_a_case_under_a_definition_the_search_refutes(tmp_path, cli_run):
    """A protocol the search refutes cannot even open a case: exit 2, nothing written (WT-6)."""
    folder = tmp_path / "la"
    _local(folder, "units", "deadlines:\n  icpc_held:\n    within: {days: 30}\n")
    cli_run("staff", "add", "tm", "--name", "T", "--role", "team_manager", "--registered", "SW1")
    result = cli_run("--machines", str(folder), "case", "open", "U-1", "--policy", "units", "--team", "A", "--as",
                     "tm", ok=False)
    assert result.exit_code == 2 and "allows what national refuses" in result.output
    assert cli_run("case", "list", "--json").stdout.strip() == "[]"


# 3. the loader names the local file ------------------------------------------------------------


def test_a_finding_about_a_national_item_is_reported_in_the_local_file_that_caused_it(tmp_path):
    """Narrowing start_s47 to no states strands the CP states: reported in the local file, naming national's line."""
    path = _local(tmp_path, "narrow", "events:\n  start_s47:\n    from: []\n")
    output = _refused(tmp_path, path, f"{path}:", "states.s47_enquiry", "declared in national.yaml:",
                      "the changes in this file cause it")
    assert f"{NATIONAL}:" not in output


# 4. every shipped protocol passes, with its proof -------------------------------------------------


def test_policy_check_proves_every_shipped_protocol(tmp_path):
    """`casework policy check machines/*.yaml`: ok for each, with the actions compared and situations explored."""
    files = sorted(shipped_directory().glob("*.yaml"))
    result = _check(tmp_path, *files)
    assert result.exit_code == 0, result.output
    for file in files:
        line = next(line for line in result.output.splitlines() if line.startswith(f"ok  {file}:"))
        assert ("the national baseline" in line) if file.stem == "national" else \
            ("refines national:" in line and "national actions compared" in line and "situations explored" in line)
    proofs = json.loads(CliRunner().invoke(cli, ["--db", str(tmp_path / "c.db"), "policy", "check", "--json",
                                                 *map(str, files)]).stdout)
    for entry in proofs:
        assert entry["ok"] and (entry["proof"]["baseline"] or entry["proof"]["actions"] >= 30)


def test_a_passed_proof_is_reused_by_digest_and_redone_for_a_changed_file(tmp_path, monkeypatch):
    """Only the first use of a file pays for the search; an edit makes a new digest and a new search."""
    monkeypatch.setenv("CASEWORK_CACHE_DIR", str(tmp_path / "cache"))
    from casework.workflow.refinement import proof as proofs
    monkeypatch.setattr(proofs, "_MEMO", {})
    path = _local(tmp_path / "la", "cached", "events:\n  close:\n    who: [{relation: supervisor, qualified: true}]\n")
    first = Policies().load_file(path).proof
    again = Policies().load_file(path).proof
    assert not first.cached and again.cached and again.situations == first.situations > 0
    assert len(list((tmp_path / "cache" / "proofs").glob("*.json"))) == 1
    path.write_text(path.read_text() + "title: Edited\n")
    edited = Policies().load_file(path).proof
    assert not edited.cached and edited.digest != first.digest


# 5. an accepted definition never fails at run time; a failure never passes for a refusal ---------


def test_the_longest_timescales_a_definition_may_give_still_compute(tmp_path, cli_run):
    """Deadlines at their bounds (1,300 working days, 60 months) and the last day casework keeps: due still works."""
    folder = tmp_path / "la"
    _local(folder, "long", "deadlines:\n  long_wait:\n    title: A long wait\n    while_in: [referral, assessment]\n"
                           "    start: {entered: referral}\n    within: {working_days: 1300}\n"
                           "  long_cycle:\n    title: A long cycle\n    while_in: [referral]\n"
                           "    start: {date: 2100-12-31}\n    within: {months: 60}\n    repeat: {months: 60}\n")
    run = lambda *args, ok=True: cli_run("--machines", str(folder), *args, ok=ok)  # noqa: E731
    run("staff", "add", "tm", "--name", "T", "--role", "team_manager", "--registered", "SW1")
    run("case", "open", "L-1", "--policy", "long", "--team", "A", "--as", "tm")
    due = json.loads(run("due", "--as-of", "2100-12-31", "--json").stdout)
    assert {d["deadline"] for d in due} >= {"long_wait", "long_cycle"}
    assert json.loads(run("case", "show", "L-1", "--json").stdout)["due"]
    result = run("due", "--as-of", "2101-01-01", ok=False)
    assert result.exit_code == 2 and "outside the dates casework keeps" in result.output


def test_a_sandbox_clock_beyond_the_dates_casework_keeps_is_bad_input(tmp_path):
    """A training clock in the year 9999 is refused before anything is written, not a crash."""
    db = str(tmp_path / "sandbox.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db, "init", "--sandbox"]).exit_code == 0
    result = runner.invoke(cli, ["--db", db, "--clock", "9999-12-31", "staff", "add", "tm", "--name", "T",
                                 "--role", "team_manager"])
    assert result.exit_code == 2 and "outside the dates casework keeps" in result.output
    assert runner.invoke(cli, ["--db", db, "staff", "list", "--json"]).stdout.strip() == "[]"


def test_an_unexpected_failure_exits_70_not_as_a_refusal(tmp_path, cli_run):
    """A bug (here: a staff row whose roles are not the JSON casework writes) is exit 70 with a message, never 1 or
    a traceback."""
    import sqlite3

    cli_run("staff", "add", "tm", "--name", "T", "--role", "team_manager", "--registered", "SW1")
    cli_run("case", "open", "B-1", "--policy", "national", "--team", "A", "--as", "tm")
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        conn.execute("UPDATE staff SET roles = 'team_manager' WHERE id = 'tm'")
    result = cli_run("case", "can", "B-1", "--as", "tm", ok=False)
    assert result.exit_code == 70, result.output
    assert "casework failed unexpectedly" in result.output and "Traceback" not in result.output
