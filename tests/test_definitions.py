"""Loading and validating protocol definitions: shipped files, malformed files, and `extends`."""
from __future__ import annotations

from pathlib import Path

import pytest

from casework.workflow.engine import Engine
from casework.errors import InvalidDefinition, UnknownPolicy
from casework.workflow.loader import Policies, load_file, shipped_directory

SHIPPED = sorted(p.stem for p in shipped_directory().glob("*.yaml"))

_HEADER = "name: {name}\nextends: national\nversion: 1\n"


def _write(tmp_path: Path, name: str, body: str, header: str = _HEADER) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(header.format(name=name) + body)
    return path


def _line(path: Path, needle: str) -> int:
    """1-based number of the first line of *path* containing *needle*."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def _refused(path: Path) -> InvalidDefinition:
    with pytest.raises(InvalidDefinition) as bad:
        load_file(path)
    return bad.value


# shipped definitions -----------------------------------------------------------------------


def test_every_shipped_definition_is_on_offer_and_loads():
    """Policies().all() loads every machines/*.yaml, national and the four local protocols."""
    loaded = Policies().all()
    assert sorted(d.name for d in loaded) == SHIPPED
    assert {"national", "derbyshire", "kent", "stockport", "torbay"} <= set(SHIPPED)
    assert all(d.digest and d.files for d in loaded)


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_definition_has_one_initial_state_and_compiles(name):
    """Each shipped definition has exactly one initial state and its engine has every event and transition."""
    definition = Policies().get(name)
    assert [s for s, spec in definition.states.items() if spec.initial] == [definition.initial]
    engine = Engine(definition)
    assert engine.machine.initial == definition.initial
    assert set(engine.machine.states) == set(definition.states)
    assert set(engine.machine.events) == set(definition.events)
    for event, spec in definition.events.items():
        compiled = {source: [t.dest for t in ts] for source, ts in engine.machine.events[event].transitions.items()}
        assert compiled == {source: [spec.to] for source in spec.sources}, event


@pytest.mark.parametrize("name", [n for n in SHIPPED if n != "national"])
def test_a_shipped_local_protocol_keeps_every_national_requirement(name):
    """Each local protocol extends national and begins every national event's requires with national's own."""
    national, local = Policies().get("national"), Policies().get(name)
    assert local.extends == "national" and local.lineage == ("national", name)
    for event, spec in national.events.items():
        kept = local.events[event].requires[:len(spec.requires)]
        assert kept == spec.requires, event
        assert all(r.origin == "national" for r in kept)


# malformed definitions ---------------------------------------------------------------------

# (file name, body, text on the offending line, YAML path, words the message must contain)
MALFORMED = [
    ("unknown_kind",
     "events:\n  close:\n    requires:\n      - reason_givn\n",
     "reason_givn", "events.close.requires[0]",
     ["unknown requirement kind 'reason_givn'", "did you mean 'reason_given'"]),
    ("unknown_role",
     "events:\n  close:\n    who:\n      - {roles: [team_manger], qualified: true}\n",
     "team_manger", "events.close.who[0].roles[0]",
     ["unknown role 'team_manger'", "did you mean 'team_manager'"]),
    ("unknown_target",
     "events:\n  park:\n    from: cin_plan\n    to: parked\n    who: [{roles: [team_manager]}]\n",
     "to: parked", "events.park.to",
     ["unknown state 'parked'", "use one of: referral, assessment, cin_plan"]),
    ("unknown_fact",
     "events:\n  close:\n    requires:\n      - fact_recorded: home_vist\n",
     "home_vist", "events.close.requires[0]",
     ["unknown fact 'home_vist'", "declare it under 'facts:'", "home_visit"]),
    ("unreachable",
     "states:\n  limbo:\n    title: Limbo\n    open: false\n",
     "limbo:", "states.limbo",
     ["state 'limbo' cannot be reached from 'referral'", "add an event with 'to: limbo'"]),
    ("dead_end",
     "states:\n  waiting:\n    title: Waiting list\n"
     "events:\n  put_on_hold:\n    from: cin_plan\n    to: waiting\n    who: [{roles: [team_manager]}]\n",
     "waiting:", "states.waiting",
     ["open state 'waiting' has no way out", "open: false"]),
    ("bad_rule_id",
     "events:\n  close:\n    requires:\n      - reason_given: {rules: [WT5]}\n",
     "WT5", "events.close.requires[0]",
     ["'WT5' is not a rule ID such as 'WT-5'"]),
    ("value_for_a_kind_without_one",
     "events:\n  close:\n    requires:\n      - reason_given: yes please\n",
     "reason_given: yes please", "events.close.requires[",
     ["'reason_given' takes no value", "write '- reason_given'"]),
    ("missing_base",
     "title: Extends a protocol that does not exist\n",
     "extends:", "extends",
     ["Unknown policy 'nationl'", "Did you mean 'national'", "extend one of:"]),
]


@pytest.mark.parametrize("name,body,needle,where,words", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_definition_names_file_line_path_and_fix(tmp_path, name, body, needle, where, words):
    """Each kind of mistake is refused with the file, the line, the YAML path, what is wrong and a fix."""
    header = _HEADER.replace("national", "nationl") if name == "missing_base" else _HEADER
    path = _write(tmp_path, name, body, header)
    error = _refused(path)
    text = str(error)
    line = _line(path, needle)
    assert f"{path}:{line}: at {where}" in text
    first = error.problems[0]
    assert (first.file, first.line) == (str(path), line) and first.path.startswith(where)
    assert first.fix and f"Fix: {first.fix}" in text
    for word in words:
        assert word in text


def test_invalid_yaml_is_refused_at_its_line(tmp_path):
    """A YAML syntax error is reported with the file, the offending line and a fix, before anything else."""
    path = _write(tmp_path, "broken", "events:\n  close:\n    title: Close: the case\n")
    error = _refused(path)
    assert error.stage == "read"
    text = str(error)
    assert f"{path}:{_line(path, 'Close: the case')}:" in text
    assert "not valid YAML" in text and "Fix: fix the YAML syntax" in text


def test_an_extends_cycle_is_refused(tmp_path):
    """Two local protocols extending each other are refused at the 'extends' that closes the loop, naming the chain."""
    first = _write(tmp_path, "first", "", "name: {name}\nextends: second\nversion: 1\n")
    second = _write(tmp_path, "second", "", "name: {name}\nextends: first\nversion: 1\n")
    error = _refused(first)
    text = str(error)
    assert f"{second}:2: at extends" in text and "loops back" in text and "Fix: remove the cycle" in text
    assert "first → second → first" in text


def test_a_definition_extending_itself_is_refused(tmp_path):
    """A protocol whose 'extends' names itself is a cycle too."""
    path = _write(tmp_path, "narcissus", "", "name: {name}\nextends: narcissus\nversion: 1\n")
    text = str(_refused(path))
    assert f"{path}:2: at extends" in text and "loops back to 'narcissus'" in text


def test_an_unknown_role_is_reported_once(tmp_path):
    """A misspelt role is one problem; no follow-on complaint that the clause list is empty."""
    path = _write(tmp_path, "typo", "events:\n  close:\n    who:\n      - {roles: [team_manger], qualified: true}\n")
    error = _refused(path)
    assert [p.path for p in error.problems] == ["events.close.who[0].roles[0]"]


def test_a_bad_rule_id_beside_its_kind_points_at_the_rules_line(tmp_path):
    """'rules:' written beside the kind (as national.yaml does) is reported at that key's own path and line."""
    path = _write(tmp_path, "beside", "events:\n  close:\n    requires:\n"
                                      "      - fact_recorded: case_note\n        rules: [WT5]\n")
    error = _refused(path)
    [problem] = error.problems
    assert (problem.path, problem.line) == ("events.close.requires[0].rules", _line(path, "rules: [WT5]"))


def test_a_second_initial_state_is_reported_in_the_local_file(tmp_path):
    """A local protocol marking another state initial is told so in its own file, not in national.yaml."""
    path = _write(tmp_path, "two_starts", "states:\n  assessment:\n    initial: true\n")
    error = _refused(path)
    assert "cannot change where cases start" in str(error) and "states.assessment.initial" in str(error)
    assert all(p.file == str(path) for p in error.problems)


# extends -----------------------------------------------------------------------------------


def test_a_local_requirement_is_added_to_the_national_ones(tmp_path):
    """Adding a requirement to a national event keeps all of national's, in order, and stamps the new one local."""
    national = Policies().get("national").events["start_cin_plan"].requires
    path = _write(tmp_path, "addon", "events:\n  start_cin_plan:\n    requires:\n"
                                     "      - fact_recorded: {fact: home_visit, since: state}\n")
    requires = load_file(path).events["start_cin_plan"].requires
    assert len(requires) == len(national) + 1
    assert requires[:len(national)] == national
    assert all(r.origin == "national" for r in requires[:-1])
    assert (requires[-1].kind, requires[-1].fact, requires[-1].origin) == ("fact_recorded", "home_visit", "addon")


def test_an_empty_local_requires_cannot_drop_national_ones(tmp_path):
    """'requires: []' in a local protocol leaves the national requirements in force."""
    national = Policies().get("national").events["escalate_to_strategy"].requires
    path = _write(tmp_path, "dropper", "events:\n  escalate_to_strategy:\n    requires: []\n")
    assert load_file(path).events["escalate_to_strategy"].requires == national


def test_a_local_who_replaces_the_national_one(tmp_path):
    """A narrower local 'who:' replaces the event's national who, stamped local; other events keep theirs."""
    national = Policies().get("national")
    path = _write(tmp_path, "strict", "events:\n  close:\n    who: [{roles: [team_manager], qualified: true, team: case}]\n")
    definition = load_file(path)
    [clause] = definition.events["close"].who
    assert (clause.roles, clause.qualified, clause.origin) == (("team_manager",), True, "strict")
    assert definition.events["close"].requires == national.events["close"].requires
    assert definition.events["reopen"].who == national.events["reopen"].who


def test_name_version_and_lineage_come_from_the_local_file(tmp_path):
    """A local protocol has its own name, version and title, extends national and has lineage (national, local)."""
    path = _write(tmp_path, "mytown", "title: My Town protocol\n",
                  "name: {name}\nextends: national\nversion: 7\n")
    definition = load_file(path)
    national = Policies().get("national")
    assert (definition.name, definition.version, definition.title) == ("mytown", "7", "My Town protocol")
    assert definition.extends == "national"
    assert definition.lineage == ("national", "mytown")
    assert definition.files == (national.files[0], str(path))
    assert definition.digest != national.digest
    assert set(definition.states) == set(national.states) and set(definition.events) == set(national.events)


def test_policies_offer_local_files_from_extra_directories(tmp_path):
    """A Policies with an extra directory lists and loads its local protocols beside the shipped ones."""
    _write(tmp_path, "mytown", "title: My Town\n")
    policies = Policies([tmp_path])
    assert "mytown" in policies.names() and set(SHIPPED) <= set(policies.names())
    assert policies.get("mytown").lineage == ("national", "mytown")


def test_a_file_whose_name_differs_from_its_definition_is_refused(tmp_path):
    """Policies.get refuses a file whose 'name:' is not its file name, saying how to fix it."""
    (tmp_path / "mytown.yaml").write_text("name: othertown\nextends: national\nversion: 1\n")
    with pytest.raises(InvalidDefinition) as bad:
        Policies([tmp_path]).get("mytown")
    assert "named 'othertown'" in str(bad.value) and "Fix: set 'name: mytown'" in str(bad.value)


def test_an_unknown_policy_name_is_refused_with_a_suggestion():
    """Policies.get of a misspelt name raises UnknownPolicy suggesting the closest known one."""
    with pytest.raises(UnknownPolicy) as unknown:
        Policies().get("natonal")
    assert unknown.value.suggestions[0] == "national"
    assert "Did you mean 'national'" in str(unknown.value)


def test_what_a_local_protocol_restates_unchanged_stays_the_base_s():
    """Kent replaces the lead policies to add its own conditions: the national ones it repeats keep their origin.

    Diagrams and handbooks star what a local protocol added or tightened (issue 7), so a
    restated national safeguard must not pass for a Kent addition.
    """
    trial = next(d for d in Policies().versions_of("kent") if d.version == "1")  # the SWA trial (KEN-1)
    social_worker, assistant = trial.allocation.leads
    assert [(r.kind, r.origin) for r in social_worker.requires] == [("lead_is_registered_social_worker", "national")]
    assert social_worker.origin == "kent"  # its roles changed (practice educators may lead)
    origins = {r.kind: r.origin for r in assistant.requires}
    assert origins == {"supervised_if_unqualified": "kent", "in_teams": "kent", "within_dates": "kent",
                       "lead_has_training": "kent", "fact_recorded": "national"}
