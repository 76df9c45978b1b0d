"""Derbyshire and Stockport walked through the real CLI, the way their seeds describe."""
from __future__ import annotations

import json

import pytest


@pytest.fixture
def run(cli_run):
    return cli_run


def refused(result, kind: str, rule: str, missing: str, who: str) -> None:
    """Exit 1, and an unmet requirement of *kind* citing *rule*, naming *missing* and *who* could act."""
    assert result.exit_code == 1, result.output
    unmet = [u for u in json.loads(result.stdout)["unmet"] if u["kind"] == kind and rule in u["rules"]]
    assert unmet, result.stdout
    # a fact is named by its title in the sentence and by its identifier in the JSON parameters
    assert missing in unmet[0]["sentence"] + json.dumps(unmet[0]["params"]) and who in unmet[0]["who_could"].lower()


def test_derbyshire_co_allocation_then_a_revised_assessment(run):
    """SW-led assessment → PS agrees co-allocation → CCW co-allocated → PS chairs → revised assessment by the SW."""
    for sid, role, reg in [("tm", "team_manager", "SW1"), ("ps", "practice_supervisor", "SW2"),
                           ("sw", "social_worker", "SW3"), ("ccw", "community_care_worker", None)]:
        run("staff", "add", sid, "--name", sid, "--role", role, "--team", "Amber Valley",
            *(["--registered", reg] if reg else []), *([] if sid == "tm" else ["--as", "tm"]))
    run("case", "open", "D-1", "--policy", "derbyshire", "--team", "Amber Valley", "--as", "tm")
    run("case", "allocate", "D-1", "--lead", "sw", "--as", "tm")
    run("case", "move", "D-1", "decide_assessment", "--as", "tm")
    # DER-2: the CCW contributes but cannot complete the single assessment.
    run("case", "record", "D-1", "assessment_contribution", "--as", "sw", "--note", "CCW observations")
    refused(run("case", "record", "D-1", "assessment_completed", "--as", "ccw", "--json", ok=False),
            "who", "DER-2", "ccw", "lead practitioner")
    # DER-3: co-allocation needs the end of the assessment and the PS/TM's agreement.
    refused(run("case", "allocate", "D-1", "--lead", "sw", "--worker", "ccw", "--as", "ps", "--json", ok=False),
            "fact_recorded", "DER-3", "co_allocation_agreed", "practice supervisor")
    run("case", "record", "D-1", "assessment_completed", "--as", "sw")
    run("case", "record", "D-1", "co_allocation_agreed", "--as", "ps")
    run("case", "allocate", "D-1", "--lead", "sw", "--worker", "ccw", "--supervisor", "ps", "--as", "ps")
    run("case", "move", "D-1", "start_cin_plan", "--as", "sw")
    # DER-8: outside Erewash the CCW cannot hold the case alone.
    run("case", "record", "D-1", "lead_agreed_with_partners", "--as", "ps")
    refused(run("case", "allocate", "D-1", "--lead", "ccw", "--no-worker", "--as", "ps", "--json", ok=False),
            "in_teams", "DER-8", "Amber Valley", "")
    # DER-4: the PS chairs the CIN review, not the CCW.
    refused(run("case", "move", "D-1", "hold_cin_review", "--as", "ccw", "--json", ok=False),
            "who", "DER-4", "ccw", "supervisor")
    run("case", "move", "D-1", "hold_cin_review", "--as", "ps")
    # DER-5: a revised assessment during the CIN period, completed by the social worker.
    run("case", "move", "D-1", "revise_assessment", "--as", "sw", "--reason", "New concerns")
    run("case", "record", "D-1", "assessment_completed", "--as", "sw")
    shown = json.loads(run("case", "show", "D-1", "--json").stdout)
    assert shown["state"] == "assessment" and shown["worker"]["id"] == "ccw"
    assert {d["deadline"] for d in shown["due"]} >= {"ps_supervision"}


def test_stockport_student_placement_case(run):
    """PE holds, student works; authorisation; TAC chairing; caseload; never on child protection."""
    for sid, role, reg, pcf in [("tm", "team_manager", "SW1", None), ("pe", "practice_educator", "SW2", None),
                                ("tl", "team_leader", "SW3", None), ("stu", "student_social_worker", None, "1")]:
        run("staff", "add", sid, "--name", sid, "--role", role, "--team", "North",
            *(["--registered", reg] if reg else []), *(["--pcf-level", pcf] if pcf else []),
            *([] if sid == "tm" else ["--as", "tm"]))
    for cid in ("S-1", "S-2", "S-3"):
        run("case", "open", cid, "--policy", "stockport", "--team", "North", "--as", "tm")
        run("case", "allocate", cid, "--lead", "pe", "--as", "tm")
        run("case", "move", cid, "decide_assessment", "--as", "tm")
    # STO-2: only the PS/PE allocates the student's work.
    refused(run("case", "allocate", "S-1", "--lead", "pe", "--worker", "stu", "--as", "tm", "--json", ok=False),
            "actor_has_role", "STO-2", "PS/PE", "practice supervisor or practice educator")
    run("case", "allocate", "S-1", "--lead", "pe", "--worker", "stu", "--as", "pe")
    run("case", "allocate", "S-2", "--lead", "pe", "--worker", "stu", "--as", "pe")
    # STO-8: a PCF level 1 student holds at most 2 cases.
    refused(run("case", "allocate", "S-3", "--lead", "pe", "--worker", "stu", "--as", "pe", "--json", ok=False),
            "caseload_within", "STO-8", "already holds 2 open cases", "caseload")
    # STO-1/STO-4: the student records the assessment; the plan needs the PE's authorisation of it and
    # agreement of the plan.
    run("case", "record", "S-1", "student_assessment", "--as", "stu")
    run("case", "record", "S-1", "assessment_completed", "--as", "pe")
    refused(run("case", "move", "S-1", "start_cin_plan", "--as", "pe", "--json", ok=False),
            "fact_recorded", "STO-4", "assessment_authorised", "pe (practice educator) can record")
    run("case", "record", "S-1", "assessment_authorised", "--as", "pe")
    run("case", "record", "S-1", "plan_agreed", "--as", "pe")
    run("case", "move", "S-1", "start_cin_plan", "--as", "pe")
    # STO-6: the team leader chairs the first TAC; the student chairs only once assessed competent.
    refused(run("case", "move", "S-1", "hold_tac_meeting", "--as", "stu", "--json", ok=False),
            "any_of", "STO-6", "PS/PE", "chair_competence")
    run("case", "move", "S-1", "hold_tac_meeting", "--as", "tl")
    run("case", "record", "S-1", "chair_competence", "--as", "pe")
    run("case", "move", "S-1", "hold_tac_meeting", "--as", "stu")
    # STO-7: never child protection with the student on the case.
    refused(run("case", "move", "S-1", "escalate_to_strategy", "--as", "pe", "--reason", "Disclosure", "--json",
                ok=False), "none_of", "STO-7", "student", "")
    run("case", "allocate", "S-1", "--lead", "pe", "--no-worker", "--as", "pe", "--reason", "Escalating")
    run("case", "move", "S-1", "escalate_to_strategy", "--as", "pe", "--reason", "Disclosure")
    history = json.loads(run("case", "history", "S-1", "--json").stdout)
    assert [e["action"] for e in history].count("refused") == 4


def test_a_simulated_clock_needs_a_training_sandbox(run, tmp_path):
    """--clock is refused on an ordinary store (nothing written) and accepted on a sandbox."""
    staff = run("--clock", "2024-11-04T09:00", "staff", "add", "x", "--name", "X", "--role", "team_manager",
                ok=False)
    assert staff.exit_code == 2 and "sandbox" in staff.stderr
    run("staff", "add", "x", "--name", "X", "--role", "team_manager", "--registered", "SW1")
    opened = run("--clock", "2024-11-04T09:00", "case", "open", "K-0", "--policy", "kent",
                 "--team", "Thanet", "--as", "x", ok=False)
    assert opened.exit_code == 2 and "sandbox" in opened.stderr
    assert json.loads(run("case", "list", "--json").stdout) == []
    run("case", "open", "K-0", "--policy", "kent", "--team", "Thanet", "--as", "x")
    late = run("init", "--sandbox", ok=False)
    assert late.exit_code == 2 and "empty store" in late.stderr


def test_kent_trial_replayed_in_a_training_sandbox(tmp_path):
    """Kent's trial walked through the CLI on its own dates, in a sandbox: SWA leads, then the trial ends."""
    from click.testing import CliRunner

    from casework.cli.main import cli

    db = str(tmp_path / "kent-training.db")
    runner = CliRunner()

    def run(when: str, *args: str, ok: bool = True):
        result = runner.invoke(cli, ["--db", db, "--clock", when, *args], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    day = "2024-11-04T09:00"
    assert "training sandbox" in run(day, "init", "--sandbox").stdout
    for sid, role, reg, training in [("tm", "team_manager", "SW1", None), ("ps", "practice_supervisor", "SW2", None),
                                     ("sw", "social_worker", "SW3", None),
                                     ("swa", "social_work_assistant", None, "lead_professional_training"),
                                     ("swa_new", "social_work_assistant", None, None)]:
        run(day, "staff", "add", sid, "--name", sid, "--role", role, "--team", "Thanet",
            *(["--registered", reg] if reg else []), *(["--training", training] if training else []),
            *([] if sid == "tm" else ["--as", "tm"]))
    run(day, "case", "open", "K-1", "--policy", "kent", "--team", "Thanet", "--as", "tm")
    run(day, "case", "allocate", "K-1", "--lead", "sw", "--as", "tm")
    run(day, "case", "move", "K-1", "decide_assessment", "--as", "tm")
    run(day, "case", "record", "K-1", "assessment_completed", "--as", "sw")
    run(day, "case", "move", "K-1", "start_cin_plan", "--as", "sw")
    run(day, "case", "record", "K-1", "lead_agreed_with_partners", "--as", "ps")
    # KEN-6 and KEN-7: untrained, or without a qualified overseer, refused.
    refused(run(day, "case", "allocate", "K-1", "--lead", "swa_new", "--supervisor", "ps", "--as", "tm", "--json",
                ok=False), "lead_has_training", "KEN-6", "lead_professional_training", "--training")
    refused(run(day, "case", "allocate", "K-1", "--lead", "swa", "--as", "tm", "--json", ok=False),
            "supervised_if_unqualified", "KEN-7", "no named supervisor", "supervisor")
    run(day, "case", "allocate", "K-1", "--lead", "swa", "--supervisor", "ps", "--as", "tm")
    # KEN-5: the SWA does not chair the CIN review; KEN-4: joint visits with a qualified practitioner.
    refused(run(day, "case", "move", "K-1", "hold_cin_review", "--as", "swa", "--json", ok=False),
            "who", "KEN-5", "swa", "ps")
    run(day, "case", "record", "K-1", "joint_visit", "--as", "swa", "--with", "sw")
    run(day, "case", "move", "K-1", "hold_cin_review", "--as", "ps")
    # KEN-3: monthly supervision is due.
    due = json.loads(run(day, "due", "--json").stdout)
    assert any(d["deadline"] == "swa_supervision" and d["rules"] == ["KEN-3"] for d in due)
    # KEN-2: after the trial, no new SWA allocation, and the case is due for reallocation.
    after = "2025-04-22T09:00"
    run(after, "case", "record", "K-1", "lead_agreed_with_partners", "--as", "ps")
    refused(run(after, "case", "allocate", "K-1", "--lead", "swa", "--supervisor", "ps", "--as", "tm", "--json",
                ok=False), "within_dates", "KEN-2", "outside the window", "nobody")
    overdue = json.loads(run(after, "due", "--overdue", "--json").stdout)
    assert "trial_ended" in [d["deadline"] for d in overdue if d["case"] == "K-1"]
    run(after, "case", "allocate", "K-1", "--lead", "sw", "--no-supervisor", "--as", "tm", "--reason", "Trial ended")
    assert "trial_ended" not in [d["deadline"] for d in json.loads(run(after, "due", "--json").stdout)]
