"""The real command line, through click's runner and as a subprocess, on a real SQLite file."""
from __future__ import annotations

import gc
import html
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from casework.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
CASEWORK = str(Path(sys.executable).parent / "casework")


@pytest.fixture
def run(tmp_path):
    """Invoke the CLI against a fresh SQLite file; returns (exit code, stdout, stderr)."""
    db = str(tmp_path / "cli.db")
    runner = CliRunner()

    def invoke(*args: str):
        result = runner.invoke(cli, ["--db", db, *args], catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    assert invoke("init")[0] == 0
    return invoke


@pytest.fixture
def staffed(run):
    """The CLI with a team manager, a social worker and a community care worker."""
    for args in (["tm", "--name", "Tess", "--role", "team_manager", "--registered", "SW1", "--team", "Erewash"],
                 ["sw", "--name", "Sam", "--role", "social_worker", "--registered", "SW2", "--team", "Erewash"],
                 ["ccw", "--name", "Ana", "--role", "community_care_worker", "--team", "Erewash"]):
        assert run("staff", "add", *args, *([] if args[0] == "tm" else ["--as", "tm"]))[0] == 0
    return run


def _to_cin_plan(run) -> None:
    assert run("case", "open", "C-1", "--policy", "national", "--team", "Erewash", "--as", "tm")[0] == 0
    assert run("case", "allocate", "C-1", "--lead", "sw", "--as", "tm")[0] == 0
    assert run("case", "move", "C-1", "decide_assessment", "--as", "tm")[0] == 0
    assert run("case", "record", "C-1", "assessment_completed", "--as", "sw")[0] == 0
    assert run("case", "move", "C-1", "start_cin_plan", "--as", "sw")[0] == 0


def test_help_lists_every_command_group():
    """`casework --help` works and names the command groups."""
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for word in ("case", "staff", "policy", "diagram", "audit", "demo", "init"):
        assert word in result.stdout


def test_walk_a_case_and_read_it_back_as_json(staffed):
    """open → allocate → move → record → move, then show/history/list give the stable JSON."""
    _to_cin_plan(staffed)
    code, out, _ = staffed("case", "show", "C-1", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["state"] == "cin_plan" and data["policy"] == "national" and data["team"] == "Erewash"
    assert data["lead"]["id"] == "sw" and data["supervisor"] is None
    assert data["version"] == 5
    assert [f["name"] for f in data["facts"]] == ["assessment_completed"]
    history = json.loads(staffed("case", "history", "C-1", "--json")[1])
    assert [e["action"] for e in history] == ["open", "allocate", "move", "fact", "move"]
    rows = json.loads(staffed("case", "list", "--state", "cin_plan", "--json")[1])
    assert [r["id"] for r in rows] == ["C-1"]


def test_refused_move_exits_1_with_rule_ids_and_who_could(staffed):
    """A move the protocol refuses exits 1 and says what is missing, the rule, and who could act (WT-5)."""
    _to_cin_plan(staffed)
    assert staffed("case", "record", "C-1", "lead_agreed_with_partners", "--as", "tm")[0] == 0
    assert staffed("case", "allocate", "C-1", "--lead", "ccw", "--supervisor", "sw", "--as", "tm")[0] == 0
    code, out, err = staffed("case", "move", "C-1", "escalate_to_strategy", "--as", "ccw", "--reason", "bruise")
    assert code == 1
    assert "WT-5" in err and "not a registered social worker" in err and "reallocate" in err
    code, out, _ = staffed("case", "move", "C-1", "escalate_to_strategy", "--as", "ccw", "--reason", "x", "--json")
    verdict = json.loads(out)
    assert code == 1 and verdict["allowed"] is False
    assert verdict["unmet"][0]["kind"] == "lead_is_registered_social_worker"
    assert verdict["unmet"][0]["rules"] == ["WT-5"]


def test_can_lists_each_event_with_target_verdict_and_unmet(staffed):
    """`case can --json` lists every event of the state with target, allowed and unmet requirements."""
    _to_cin_plan(staffed)
    code, out, _ = staffed("case", "can", "C-1", "--as", "sw", "--json")
    data = json.loads(out)
    assert code == 0 and data["case"] == "C-1" and data["actor"] == "sw"
    events = {e["event"]: e for e in data["events"]}
    assert set(events) == {"hold_cin_review", "step_down", "close", "escalate_to_strategy"}
    assert events["hold_cin_review"]["allowed"] is True and events["hold_cin_review"]["target"] == "cin_plan"
    close = events["close"]
    assert close["allowed"] is False
    # without --reason the reason shows as an argument to give, as 'case move' would say (#14)
    assert {u["kind"]: u["argument"] for u in close["unmet"]} == {"who": None, "reason_given": "--reason"}
    assert all({"kind", "params", "sentence", "rules", "who_could"} <= set(u) for u in close["unmet"])
    code, out, _ = staffed("case", "can", "C-1", "close", "--as", "sw", "--reason", "Plan complete")
    assert code == 0 and out.startswith("May not: Close the case  [close]") and "--reason" not in out
    code, out, _ = staffed("case", "can", "C-1", "step_down", "--as", "sw")
    assert code == 0 and out.startswith("May, giving --reason: Step down to early help  [step_down]")


def test_bad_input_exits_2_and_suggests_the_closest_name(staffed):
    """Unknown staff and events exit 2 and suggest the nearest known name; an unknown case exits 2 and suggests
    no other case, since a near miss is another child's record."""
    _to_cin_plan(staffed)
    code, _, err = staffed("case", "move", "C-1", "hold_cin_reveiw", "--as", "sw")
    assert code == 2 and "hold_cin_review" in err
    for command in (("case", "show", "C-2"), ("case", "history", "C-2"), ("case", "move", "C-2", "close", "--as", "sw"),
                    ("case", "can", "C-2", "--as", "sw")):
        code, _, err = staffed(*command)
        assert code == 2 and "Unknown case 'C-2'" in err and "C-1" not in err and "Did you mean" not in err
    code, _, err = staffed("case", "move", "C-1", "hold_cin_review", "--as", "sww")
    assert code == 2 and "'sw'" in err
    code, _, err = staffed("staff", "add", "x", "--name", "X", "--role", "social_wroker", "--as", "tm")
    assert code == 2 and "social_worker" in err
    code, _, err = staffed("case", "move", "C-1", "hold_cin_review", "--as", "sw", "--at", "yesterday")
    assert code == 2


def test_future_dates_are_refused_as_bad_input(staffed):
    """Nothing can be recorded as happening in the future."""
    _to_cin_plan(staffed)
    code, _, err = staffed("case", "record", "C-1", "home_visit", "--as", "sw", "--at", "2999-01-01")
    assert code == 2 and "future" in err


def test_conflicts_exit_3(staffed):
    """A stale --expect-version and a duplicate id are conflicts (exit 3), and nothing is written."""
    _to_cin_plan(staffed)
    code, _, err = staffed("case", "move", "C-1", "hold_cin_review", "--as", "sw", "--expect-version", "2")
    assert code == 3 and "version" in err
    assert json.loads(staffed("case", "show", "C-1", "--json")[1])["version"] == 5
    code, _, _ = staffed("staff", "add", "sw", "--name", "Dup", "--role", "social_worker", "--as", "tm")
    assert code == 3
    code, _, _ = staffed("case", "open", "C-1", "--policy", "national", "--team", "Erewash", "--as", "tm")
    assert code == 3


def test_usage_errors_exit_2(run):
    """Missing required options are usage errors (exit 2)."""
    code, _, _ = run("case", "move", "C-1", "hold_cin_review")
    assert code == 2


def test_store_without_schema_says_run_init(tmp_path):
    """A store that was never initialised gives a clear error and exit 2."""
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "empty.db"), "case", "list"])
    assert result.exit_code == 2 and "casework init" in result.stderr


def test_staff_list_and_registration_dates(run):
    """Staff are listed with roles, team and registration window."""
    assert run("staff", "add", "tm", "--name", "Tess", "--role", "team_manager", "--registered", "SW1")[0] == 0
    assert run("staff", "add", "sw", "--as", "tm", "--name", "Sam", "--role", "social_worker", "--registered", "SW2",
               "--registered-until", "2025-12-31", "--team", "Erewash", "--training", "lead_professional")[0] == 0
    people = json.loads(run("staff", "list", "--json")[1])
    assert people[0] == {"id": "sw", "name": "Sam", "roles": ["social_worker"], "team": "Erewash",
                         "registration": "SW2", "registered_until": "2025-12-31", "pcf_level": None,
                         "training": ["lead_professional"], "login": None, "left_on": None}
    assert [p["id"] for p in people] == ["sw", "tm"]
    listed = run("staff", "list")[1]  # roles as people say them; identifiers in --json
    assert "team manager" in listed and "social worker" in listed and "social_worker" not in listed


def test_policy_list_show_and_check(run, tmp_path):
    """Policies are listed, shown resolved, and checked: exit 0 clean, 2 malformed, loosening or unreadable."""
    code, out, _ = run("policy", "list")
    assert code == 0 and "national" in out
    shown = json.loads(run("policy", "show", "national", "--json")[1])
    assert shown["name"] == "national" and "cin_plan" in shown["states"]
    assert shown["events"]["start_s47"]["from"] == ["strategy_discussion"]
    assert run("policy", "check", str(ROOT / "machines" / "national.yaml"))[0] == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\nextends: national\nversion: 1\nevents:\n  close:\n    requires:\n"
                      "      - lead_alocated\n")
    code, _, err = run("policy", "check", str(broken))
    assert code == 2 and "broken.yaml:7" in err and "events.close.requires[" in err and "lead_allocated" in err
    loose = tmp_path / "loose.yaml"
    loose.write_text("name: loose\nextends: national\nversion: 1\nevents:\n  fast_track:\n"
                     "    from: cin_plan\n    to: s47_enquiry\n    who: [{roles: [community_care_worker]}]\n")
    code, _, err = run("policy", "check", str(loose))
    assert code == 2 and "WT-5" in err and "loose.yaml" in err and "events.fast_track" in err
    code, _, err = run("policy", "check", str(tmp_path / "missing.yaml"))
    assert code == 2


@pytest.mark.parametrize("fmt,magic", [("svg", b"<svg"), ("png", b"\x89PNG"), ("pdf", b"%PDF"),
                                       ("dot", b"digraph")])
def test_diagram_renders_with_real_dot(run, tmp_path, fmt, magic):
    """`casework diagram` renders through the real graphviz `dot` in every format."""
    out = tmp_path / f"national.{fmt}"
    code, _, _ = run("diagram", "national", "-o", str(out))
    assert code == 0
    data = out.read_bytes()
    assert magic in data[:400]
    if fmt in ("svg", "dot"):
        text = html.unescape(data.decode())
        assert "start_s47" in text and "WT-5" in text and "Child protection" in text


def test_diagram_unknown_policy_exits_2(run):
    """A misspelt policy name is bad input with a suggestion."""
    code, _, err = run("diagram", "nationl")
    assert code == 2 and "national" in err


def test_demo_runs_as_a_real_process(tmp_path):
    """`casework demo` on embedded SQLite prints the history, the refused move and where the case stands."""
    env = {k: v for k, v in os.environ.items() if k != "CASEWORK_DB"}
    done = subprocess.run([CASEWORK, "demo"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Ana Lima: was refused: escalate to a strategy discussion, in Child in Need plan (WT-5)" in done.stdout
    assert "Where the case stands" in done.stdout and "Case DEMO-1: Section 47 enquiry (child protection)" in done.stdout
    assert (tmp_path / "casework.db").exists()
    again = subprocess.run([CASEWORK, "demo"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert again.returncode == 0 and "DEMO-2" in again.stdout
    verify = subprocess.run([CASEWORK, "audit", "verify"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert verify.returncode == 0 and "intact" in verify.stdout


def test_every_shipped_protocol_passes_policy_check(run):
    """`policy check` on all of machines/*.yaml exits 0 and names each protocol."""
    files = sorted(str(p) for p in (ROOT / "machines").glob("*.yaml"))
    code, out, _ = run("policy", "check", *files)
    assert code == 0
    for name in ("national", "derbyshire", "kent", "stockport", "torbay"):
        assert f"ok  {ROOT / 'machines' / name}.yaml: {name}" in out


def test_policy_diff_shows_each_side(run):
    """`policy diff national torbay` lists what only Torbay requires, event by event, with rule IDs."""
    code, out, _ = run("policy", "diff", "national", "torbay", "--json")
    data = json.loads(out)
    assert code == 0 and data["a"] == "national" and data["b"] == "torbay"
    by_name = {(d["area"], d["name"]): d for d in data["differences"]}
    step_down = by_name[("event", "step_down")]
    assert step_down["only_in_a"] == [] and any("TOR-6" in line for line in step_down["only_in_b"])
    assert ("event", "start_s47") not in by_name
    assert any("TOR-4" in line for line in by_name[("allocation", "allocation")]["only_in_b"])
    assert step_down["title"] == "Step down to early help"
    assert any("“Supervision of the CCW-led case” must not be overdue" in line for line in step_down["only_in_b"])
    code, out, _ = run("policy", "diff", "national", "torbay")
    assert "Move: Step down to early help  [step_down]" in out
    assert not [line for line in out.splitlines() if line.startswith('  ') and 'ccw_supervision' in line]
    code, out, _ = run("policy", "diff", "torbay", "torbay")
    assert code == 0 and "differ in nothing" in out


def test_the_console_script_pauses_the_collector_only_until_the_store_is_open(tmp_path):
    """`casework` skips garbage collection while importing its libraries, then collects as usual."""
    code = ("import gc, sys\nfrom casework.cli.main import main\n"
            f"sys.argv = ['casework', '--db', {str(tmp_path / 'c.db')!r}, 'init']\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
            "print(code, gc.isenabled(), gc.get_freeze_count() > 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split()[-3:] == ["0", "True", "True"]
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", str(tmp_path / "d.db"), "init"]).exit_code == 0
    assert gc.isenabled()


def test_can_previews_an_allocation_with_the_verdict_allocate_gives(staffed):
    """`case can CASE --allocate STAFF` says what `case allocate` would, writes nothing, and agrees with it: a CCW
    lead is refused until the agreement with partners is recorded (WT-4), then allowed."""
    _to_cin_plan(staffed)

    def preview(*args: str) -> dict:
        code, out, _ = staffed("case", "can", "C-1", "--allocate", *args, "--json")
        assert code == 0
        return json.loads(out)["events"][0]

    before = staffed("case", "history", "C-1", "--json")[1]
    refused = preview("ccw", "--supervisor", "sw", "--as", "tm")
    assert refused["action"] == "allocate" and not refused["allowed"] and "WT-4" in str(refused["unmet"])
    assert staffed("case", "history", "C-1", "--json")[1] == before  # a preview writes nothing
    assert staffed("case", "allocate", "C-1", "--lead", "ccw", "--supervisor", "sw", "--as", "tm")[0] == 1
    assert staffed("case", "record", "C-1", "lead_agreed_with_partners", "--as", "tm")[0] == 0
    assert preview("ccw", "--supervisor", "sw", "--as", "tm")["allowed"]
    assert staffed("case", "allocate", "C-1", "--lead", "ccw", "--supervisor", "sw", "--as", "tm")[0] == 0
    assert "who" in [u["kind"] for u in preview("sw", "--no-supervisor", "--as", "ccw")["unmet"]]
    # the spelling, --allocate --lead STAFF, is the same preview
    assert preview("--lead", "sw", "--no-supervisor", "--as", "ccw") == preview("sw", "--no-supervisor", "--as", "ccw")
    assert staffed("case", "can", "C-1", "close", "--allocate", "sw", "--as", "tm")[0] == 2
    assert staffed("case", "can", "C-1", "--allocate", "--as", "tm")[0] == 2  # no lead named
    assert staffed("case", "can", "C-1", "--allocate", "sw", "--lead", "ccw", "--as", "tm")[0] == 2


def test_a_missing_reason_exits_2_writes_nothing_and_can_says_the_same(staffed):
    """`case move` without a reason the move needs is a usage error (exit 2) that writes nothing, not an audited
    refusal; `case can` with the same options says the same, and with the reason both allow it."""  # WT-7
    _to_cin_plan(staffed)
    before = staffed("case", "history", "C-1", "--json")[1]
    code, out, err = staffed("case", "move", "C-1", "step_down", "--as", "sw", "--json")
    assert code == 2 and "--reason" in err and "nothing was written" in err
    assert [u["argument"] for u in json.loads(out)["unmet"]] == ["--reason"]
    assert staffed("case", "history", "C-1", "--json")[1] == before
    code, out, _ = staffed("case", "can", "C-1", "step_down", "--as", "sw", "--json")
    asked = json.loads(out)["events"][0]
    assert code == 0 and not asked["allowed"] and [u["argument"] for u in asked["unmet"]] == ["--reason"]
    code, out, _ = staffed("case", "can", "C-1", "step_down", "--as", "sw", "--reason", "Needs met", "--json")
    assert json.loads(out)["events"][0]["allowed"]
    assert staffed("case", "move", "C-1", "step_down", "--as", "sw", "--reason", "Needs met")[0] == 0
