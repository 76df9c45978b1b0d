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
    assert missing in unmet[0]["sentence"] and who in unmet[0]["who_could"].lower()


def test_derbyshire_co_allocation_then_a_revised_assessment(run):
    """SW-led assessment → PS agrees co-allocation → CCW co-allocated → PS chairs → revised assessment by the SW."""
    for sid, role, reg in [("tm", "team_manager", "SW1"), ("ps", "practice_supervisor", "SW2"),
                           ("sw", "social_worker", "SW3"), ("ccw", "community_care_worker", None)]:
        run("staff", "add", sid, "--name", sid, "--role", role, "--team", "Amber Valley",
            *(["--registered", reg] if reg else []))
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
            *(["--registered", reg] if reg else []), *(["--pcf-level", pcf] if pcf else []))
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
    # STO-4: the plan needs the PE's authorisation of the assessment and agreement of the plan.
    run("case", "record", "S-1", "assessment_completed", "--as", "pe")
    refused(run("case", "move", "S-1", "start_cin_plan", "--as", "pe", "--json", ok=False),
            "fact_recorded", "STO-4", "assessment_authorised", "the case's lead practitioner (pe)")
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
