"""Torbay's interim Community Care Worker process (seed 003), walked through the real CLI."""
from __future__ import annotations

import json

import pytest

STAFF = [
    ["tm", "--name", "Tom", "--role", "team_manager", "--registered", "SW1", "--team", "Paignton"],
    ["sm", "--name", "Sue", "--role", "service_manager", "--registered", "SW2", "--team", "Paignton"],
    ["asw", "--name", "Ash", "--role", "advanced_social_worker", "--registered", "SW3", "--team", "Paignton"],
    ["sw", "--name", "Sam", "--role", "social_worker", "--registered", "SW4", "--team", "Paignton"],
    ["sw_other", "--name", "Ola", "--role", "social_worker", "--registered", "SW5", "--team", "Brixham"],
    ["ccw", "--name", "Cal", "--role", "community_care_worker", "--team", "Paignton"],
    ["school", "--name", "Pat", "--role", "partner_practitioner"],
]


@pytest.fixture
def cw_cli(cli_run):
    """The CLI on a fresh SQLite file with Torbay's staff and a SW-led CIN case T-1."""
    run = cli_run
    for person in STAFF:  # the team manager starts the staff list and adds the others
        run("staff", "add", *person, *([] if person[0] == "tm" else ["--as", "tm"]))
    run("case", "open", "T-1", "--policy", "torbay", "--team", "Paignton", "--as", "tm")
    run("case", "allocate", "T-1", "--lead", "sw", "--as", "tm")
    run("case", "move", "T-1", "decide_assessment", "--as", "tm")
    run("case", "record", "T-1", "assessment_completed", "--as", "sw")
    run("case", "move", "T-1", "start_cin_plan", "--as", "sw")
    return run


def _refused(result, kind: str, rule: str, code: int = 1) -> dict:
    """The unmet item of *kind* citing *rule*; exit 1 for a refusal, 2 for an argument not given (#14)."""
    assert result.exit_code == code, result.output
    verdict = json.loads(result.stdout)
    found = [u for u in verdict["unmet"] if u["kind"] == kind and rule in u["rules"]]
    assert found, verdict
    return found[0]


#: the Torbay allocation process, step by step: (fact, who records it, extra arguments)
PROCESS = [
    ("ccw_identified", "tm", ["--with", "sm", "--note", "Discussed in supervision; SM notified"]),   # TOR-1
    ("sm_endorsement", "sm", ["--note", "Need is housing; stable; CCW has the relationship"]),      # TOR-2
    ("ccw_scope", "tm", ["--note", "housing_need"]),                                               # TOR-7
    ("family_informed", "sw", []),                                                                 # TOR-3
    ("handover_agreed", "sw", ["--with", "ccw"]),                                                  # TOR-4
    ("case_summary_updated", "tm", []),                                                            # TOR-5
    ("lead_agreed_with_partners", "tm", []),                                           # WT-4, kept from national
]


def _ccw_process(run, without: tuple[str, ...] = ()) -> None:
    for fact, actor, extra in PROCESS:
        if fact not in without:
            run("case", "record", "T-1", fact, "--as", actor, *extra)


def test_the_whole_torbay_scenario(cw_cli):
    """SW-led CIN → identified → endorsed → family told → joint visit → CCW-led → escalates → back to the SW → s47."""
    run = cw_cli
    # TOR-1..5: before the process, allocating the CCW is refused and names the first missing steps.
    refusal = _refused(run("case", "allocate", "T-1", "--lead", "ccw", "--supervisor", "asw", "--as", "tm",
                           "--json", ok=False), "fact_recorded", "TOR-1")
    assert "identified the child for CCW allocation" in refusal["sentence"] and "team manager" in refusal["who_could"]
    _ccw_process(run)
    run("case", "allocate", "T-1", "--lead", "ccw", "--supervisor", "asw", "--as", "tm",
        "--reason", "Torbay CCW process complete")
    shown = json.loads(run("case", "show", "T-1", "--json").stdout)
    assert shown["lead"]["id"] == "ccw" and shown["supervisor"]["id"] == "asw"
    # TOR-9: need escalates; the CCW raises it but cannot escalate the case itself (WT-5).
    run("case", "record", "T-1", "escalation_raised", "--as", "ccw", "--note", "Disclosure at school")
    _refused(run("case", "move", "T-1", "escalate_to_strategy", "--as", "ccw", "--reason", "disclosure",
                 "--json", ok=False), "lead_is_registered_social_worker", "WT-5")
    # TOR-9: a social worker of another team is refused; the previous social worker is accepted.
    _refused(run("case", "allocate", "T-1", "--lead", "sw_other", "--no-supervisor", "--as", "asw",
                 "--json", ok=False), "any_of", "TOR-9")
    run("case", "allocate", "T-1", "--lead", "sw", "--no-supervisor", "--as", "asw", "--reason", "Need escalated")
    run("case", "move", "T-1", "escalate_to_strategy", "--as", "sw", "--reason", "disclosure")
    run("case", "move", "T-1", "start_s47", "--as", "sw")
    history = json.loads(run("case", "history", "T-1", "--json").stdout)
    assert [e["action"] for e in history].count("refused") == 3
    assert history[-1]["to_state"] == "s47_enquiry"


def test_endorsement_needs_a_recorded_rationale_from_a_service_manager(cw_cli):
    """The SM endorses, and the endorsement carries its rationale as management oversight."""  # TOR-2
    refusal = _refused(cw_cli("case", "record", "T-1", "sm_endorsement", "--as", "sm", "--json", ok=False),
                       "note_required", "TOR-2", code=2)
    assert "--note" in refusal["who_could"]
    _refused(cw_cli("case", "record", "T-1", "sm_endorsement", "--as", "tm", "--note", "ok", "--json",
                    ok=False), "who", "TOR-2")


def test_only_in_scope_reasons_are_accepted(cw_cli):
    """The reason for a CCW allocation must be one of Torbay's four in-scope reasons."""  # TOR-7
    refusal = _refused(cw_cli("case", "record", "T-1", "ccw_scope", "--as", "tm", "--note", "capacity",
                              "--json", ok=False), "note_choice", "TOR-7", code=2)
    assert "housing_need" in refusal["sentence"]


def test_family_must_be_told_by_the_outgoing_social_worker(cw_cli):
    """Only the allocated social worker records that the family was told; without it no CCW allocation."""  # TOR-3
    run = cw_cli
    _ccw_process(run, without=("family_informed", "handover_agreed", "case_summary_updated"))
    _refused(run("case", "record", "T-1", "family_informed", "--as", "tm", "--json", ok=False), "who", "TOR-3")
    refusal = _refused(run("case", "allocate", "T-1", "--lead", "ccw", "--supervisor", "asw", "--as", "tm",
                           "--json", ok=False), "fact_recorded", "TOR-3")
    assert "explained the rationale and next steps" in refusal["sentence"]


def test_handover_visit_must_be_with_the_incoming_ccw(cw_cli):
    """The joint visit or review is between the outgoing SW and the CCW who will lead."""  # TOR-4
    run = cw_cli
    _ccw_process(run)
    run("staff", "add", "ccw2", "--name", "Other CCW", "--role", "community_care_worker", "--team", "Paignton", "--as", "tm")
    refusal = _refused(run("case", "allocate", "T-1", "--lead", "ccw2", "--supervisor", "asw", "--as", "tm",
                           "--json", ok=False), "fact_recorded", "TOR-4")
    assert "agreed the outstanding support" in refusal["sentence"]


def test_case_summary_update_is_the_last_step(cw_cli):
    """Without the case summary updated, the CCW does not become lead."""  # TOR-5
    run = cw_cli
    _ccw_process(run, without=("case_summary_updated",))
    _refused(run("case", "allocate", "T-1", "--lead", "ccw", "--supervisor", "asw", "--as", "tm", "--json",
                 ok=False), "fact_recorded", "TOR-5")


def test_ccw_supervision_every_four_weeks_shows_in_due_and_blocks_step_down(cw_cli):
    """A CCW-led case is due supervision by a registered TM/ASW every 4 weeks; overdue blocks step-down."""  # TOR-6
    run = cw_cli
    _ccw_process(run)
    run("case", "allocate", "T-1", "--lead", "ccw", "--supervisor", "asw", "--as", "tm")
    due = json.loads(run("due", "--json").stdout)
    assert "ccw_supervision" in [d["deadline"] for d in due]
    later = json.loads(run("due", "--as-of", "2099-01-01", "--overdue", "--json").stdout)
    assert any(d["deadline"] == "ccw_supervision" and d["rules"] == ["TOR-6"] for d in later)
    _refused(run("case", "record", "T-1", "supervision", "--as", "sw", "--json", ok=False), "who", "TOR-6")
    run("case", "record", "T-1", "supervision", "--as", "asw")
    due = json.loads(run("due", "--json").stdout)
    item = next(d for d in due if d["deadline"] == "ccw_supervision")
    assert item["working_days_left"] >= 15 and not item["overdue"]


def test_statutory_timescales_are_unchanged(tmp_path):
    """Torbay inherits every national deadline and requirement unchanged."""  # TOR-8
    from casework.workflow.loader import Policies

    policies = Policies()
    national, torbay = policies.get("national"), policies.get("torbay")
    for name, deadline in national.deadlines.items():
        assert torbay.deadlines[name] == deadline
    for name, event in national.events.items():
        assert torbay.events[name].requires[:len(event.requires)] == event.requires


def test_professional_difference_is_recorded_and_visible(cw_cli):
    """A partner's professional difference is recorded with its substance and shown on the case."""  # TOR-10
    cw_cli("case", "record", "T-1", "professional_difference", "--as", "school",
           "--note", "School disagrees with step-down; TSCP policy stage 1")
    shown = json.loads(cw_cli("case", "show", "T-1", "--json").stdout)
    assert any(f["name"] == "professional_difference" and f["by"] == "school" and "TSCP" in f["note"]
               for f in shown["facts"])
    text = cw_cli("case", "show", "T-1").stdout
    assert "a partner raised a professional difference under the TSCP Professional Difference Policy, by " in text
    assert "School disagrees with step-down; TSCP policy stage 1" in text


def test_each_step_of_the_handover_follows_the_one_before(cw_cli):
    """The SM endorses only an identified child, and the social worker "then" tells the family: a step recorded
    before the one it follows is refused, naming who must act first."""  # TOR-1 TOR-2 TOR-3
    run = cw_cli
    refusal = _refused(run("case", "record", "T-1", "sm_endorsement", "--as", "sm", "--note", "Housing need",
                           "--json", ok=False), "fact_recorded", "TOR-2")
    assert "identified the child for CCW allocation" in refusal["sentence"]
    assert "Tom (team manager, tm)" in refusal["who_could"]
    refusal = _refused(run("case", "record", "T-1", "family_informed", "--as", "sw", "--json", ok=False),
                       "fact_recorded", "TOR-3")
    assert "service manager endorsed" in refusal["sentence"] and \
        "“the team manager identified the child for CCW allocation in supervision and notified the service manager” " \
        "must be recorded first" in refusal["sentence"]
    run("case", "record", "T-1", "ccw_identified", "--as", "tm", "--note", "In supervision")
    refusal = _refused(run("case", "record", "T-1", "family_informed", "--as", "sw", "--json", ok=False),
                       "fact_recorded", "TOR-3")
    assert "Sue (service manager, sm) can record “the service manager endorsed the CCW allocation" in refusal["who_could"]
    assert "(casework case record T-1 sm_endorsement --as STAFF ...)" in refusal["who_could"]
    for fact in ("handover_agreed", "case_summary_updated"):
        _refused(run("case", "record", "T-1", fact, "--as", "tm" if fact == "case_summary_updated" else "sw",
                     *(["--with", "ccw"] if fact == "handover_agreed" else []), "--json", ok=False),
                 "fact_recorded", "TOR-2")
    run("case", "record", "T-1", "sm_endorsement", "--as", "sm", "--note", "Housing need; stable")
    run("case", "record", "T-1", "family_informed", "--as", "sw")
    history = json.loads(run("case", "history", "T-1", "--json").stdout)
    assert [e["event"] for e in history if e["action"] == "fact"][-3:] == ["ccw_identified", "sm_endorsement",
                                                                          "family_informed"]


def test_who_could_names_only_people_who_would_be_allowed(cw_cli):
    """Before the CCW leads, the case summary is the allocated social worker's or the team manager's to update:
    the CCW asking is told so by name, and is not named."""  # TOR-5
    run = cw_cli
    _ccw_process(run, without=("case_summary_updated",))
    asked = json.loads(run("case", "can", "T-1", "--allocate", "ccw", "--supervisor", "asw", "--as", "tm",
                           "--json").stdout)["events"][0]
    refusal = _refused(run("case", "allocate", "T-1", "--lead", "ccw", "--supervisor", "asw", "--as", "tm",
                           "--json", ok=False), "fact_recorded", "TOR-5")
    assert [u for u in asked["unmet"] if u["kind"] == "fact_recorded"] == [refusal]  # 'can' gives the same verdict
    who = refusal["who_could"]
    assert "Sam (social worker, sw)" in who and "Tom (team manager, tm)" in who
    assert "ccw" not in who.split("(casework")[0] and "asw" not in who.split("(casework")[0]
    can = json.loads(run("case", "can", "T-1", "--record", "case_summary_updated", "--as", "ccw", "--json").stdout)
    assert can["events"][0]["allowed"] is False and can["events"][0]["unmet"][0]["kind"] == "who"
    can = json.loads(run("case", "can", "T-1", "--record", "case_summary_updated", "--as", "sw", "--json").stdout)
    assert can["events"][0]["allowed"] is True


def test_after_an_escalation_the_ccw_process_starts_again(cw_cli):
    """Escalated and reallocated to the previous social worker, the case cannot go straight back to the CCW on the
    old endorsement: the evidence counts since the current lead took the case."""  # TOR-9
    run = cw_cli
    _ccw_process(run)
    run("case", "allocate", "T-1", "--lead", "ccw", "--supervisor", "asw", "--as", "tm")
    run("case", "record", "T-1", "escalation_raised", "--as", "ccw", "--note", "Worries at school")
    refusal = _refused(run("case", "allocate", "T-1", "--lead", "sw_other", "--no-supervisor", "--as", "asw",
                           "--json", ok=False), "any_of", "TOR-9")
    assert "Sam (social worker, sw)" in refusal["who_could"] and "ccw" not in refusal["who_could"]
    run("case", "allocate", "T-1", "--lead", "sw", "--no-supervisor", "--as", "asw", "--reason", "Need escalated")
    refusal = _refused(run("case", "allocate", "T-1", "--lead", "ccw", "--supervisor", "asw", "--as", "tm",
                           "--json", ok=False), "fact_recorded", "TOR-1")
    assert "since the case entered its current state and the current lead practitioner took the case" in \
        refusal["sentence"]
    _ccw_process(run)
    run("case", "allocate", "T-1", "--lead", "ccw", "--supervisor", "asw", "--as", "tm")
    assert json.loads(run("case", "show", "T-1", "--json").stdout)["lead"]["id"] == "ccw"


def test_an_escalation_not_yet_considered_is_due_for_reallocation_or_review(cw_cli):
    """While a CCW leads, an escalation they raised puts the case in `due` from that day until the ASW or TM
    considers it; raised again, it is due again."""  # TOR-9
    run = cw_cli
    _ccw_process(run)
    run("case", "allocate", "T-1", "--lead", "ccw", "--supervisor", "asw", "--as", "tm")

    def flagged() -> list[dict]:
        return [d for d in json.loads(run("due", "--json").stdout) if d["deadline"] == "holder_condition:lead"]

    assert flagged() == []
    run("case", "record", "T-1", "escalation_raised", "--as", "ccw", "--note", "Worries at school")
    [item] = flagged()
    assert item["overdue"] and item["rules"] == ["TOR-9"] and item["case"] == "T-1"
    assert item["due"] == json.loads(run("case", "show", "T-1", "--json").stdout)["facts"][-1]["at"][:10]
    shown = json.loads(run("case", "show", "T-1", "--json").stdout)
    assert any(d["deadline"] == "holder_condition:lead" for d in shown["due"])
    _refused(run("case", "record", "T-1", "escalation_considered", "--as", "sw", "--note", "x", "--json",
                 ok=False), "who", "TOR-9")
    run("case", "record", "T-1", "escalation_considered", "--as", "asw", "--note", "Housing only; CCW keeps it")
    assert flagged() == []
    run("case", "record", "T-1", "escalation_raised", "--as", "ccw", "--note", "Disclosure")
    assert len(flagged()) == 1


def test_the_ccw_keeps_the_case_when_its_supervisor_changes(cw_cli):
    """Naming a new supervisor for a CCW-led case judges the CCW on the hand-over they were given, not on
    evidence since they took the case (found by review: the supervisor could never be changed)."""  # TOR-6 TOR-9
    run = cw_cli
    _ccw_process(run)
    run("case", "allocate", "T-1", "--lead", "ccw", "--supervisor", "asw", "--as", "tm")
    run("case", "allocate", "T-1", "--lead", "ccw", "--supervisor", "tm", "--as", "tm", "--reason", "ASW on leave")
    shown = json.loads(run("case", "show", "T-1", "--json").stdout)
    assert (shown["lead"]["id"], shown["supervisor"]["id"]) == ("ccw", "tm")


def test_the_day_an_escalation_stopped_being_considered_stays_put(sqlite_cw, clock):
    """The holder_condition item is due from the day the escalation was raised, whatever is recorded after it, and
    `due --as-of` an earlier day sees only what had happened by then (found by review)."""  # TOR-9
    from datetime import date, timedelta

    from casework.workflow import service
    from casework.workflow.oversight import due_items

    cw = sqlite_cw
    for person in STAFF:
        sid, name, roles = person[0], person[2], [person[4]]
        opts = dict(zip(person[5::2], person[6::2], strict=False))
        service.add_staff(cw, sid, name, roles, team=opts.get("--team"), registration=opts.get("--registered"),
                          actor=None if sid == "tm" else "tm")
    service.open_case(cw, "T-1", "torbay", "Paignton", "tm")
    service.allocate(cw, "T-1", "sw", "tm")
    service.move_case(cw, "T-1", "decide_assessment", "tm")
    service.record_fact(cw, "T-1", "assessment_completed", "sw")
    service.move_case(cw, "T-1", "start_cin_plan", "sw")
    for fact, actor, extra in PROCESS:
        clock.advance(minutes=1)
        args = dict(zip(extra[::2], extra[1::2], strict=False))
        service.record_fact(cw, "T-1", fact, actor, note=args.get("--note", ""),
                            with_staff=[args["--with"]] if "--with" in args else [])
    service.allocate(cw, "T-1", "ccw", "tm", supervisor="asw")
    clock.advance(days=2)
    raised = clock.now.date()
    service.record_fact(cw, "T-1", "escalation_raised", "ccw", note="Worries")
    clock.advance(days=3)
    service.record_fact(cw, "T-1", "home_visit", "ccw")
    clock.advance(days=4)

    def flagged(as_of: date):
        return [i for i in due_items(cw, as_of) if i.name == "holder_condition:lead"]

    [now] = flagged(clock.now.date())
    assert now.due == raised and now.overdue
    assert flagged(raised - timedelta(days=1)) == []
    [then] = flagged(raised + timedelta(days=1))
    assert then.due == raised
