"""Loading definitions: every shipped one validates; every malformed one is refused with file, line, path and fix."""
from __future__ import annotations

import pytest

from casework.workflow.engine import Engine
from casework.workflow.errors import InvalidDefinition, UnknownPolicy
from casework.workflow.loader import Policies, load_file

SHIPPED = ["national", "derbyshire", "kent", "stockport", "torbay"]


def test_every_shipped_definition_loads_and_compiles():
    """All five protocols load, extend the national baseline, and compile into a shared machine."""
    policies = Policies()
    assert sorted(policies.names()) == sorted(SHIPPED)
    for d in policies.all():
        assert [s for s, spec in d.states.items() if spec.initial] == ["referral"]
        assert d.lineage[0] == "national" and len(d.digest) == 64
        engine = Engine(d)
        assert set(engine.machine.events) == set(d.events)


def _write(tmp_path, text: str, name: str = "local.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


HEADER = "name: local\nextends: national\nversion: 1\n"


@pytest.mark.parametrize("body,line,where,hint", [
    ("events:\n  close:\n    requires:\n      - lead_alocated\n", 7, "events.close.requires[", "did you mean 'lead_allocated'"),
    ("events:\n  close:\n    who: [{roles: [team_manger]}]\n", 6, "events.close.who[0].roles[0]", "team_manager"),
    ("events:\n  jump:\n    from: cin_plan\n    to: nowhere\n    who: [{roles: [team_manager]}]\n", 7,
     "events.jump.to", "use one of"),
    ("events:\n  close:\n    requires:\n      - fact_recorded: visit_record\n", 7, "events.close.requires[",
     "unknown fact 'visit_record'"),
    ("states:\n  limbo: {title: Limbo}\n", 5, "states.limbo", "cannot be reached"),
    ("states:\n  limbo: {title: Limbo}\nevents:\n  park:\n    from: cin_plan\n    to: limbo\n"
     "    who: [{roles: [team_manager]}]\n", 5, "states.limbo", "no way out"),
    ("events:\n  close:\n    rules: [WT5]\n", 6, "events.close.rules", "rule ID"),
    ("events:\n  close:\n    requires:\n      - reason_given: yes please\n", 7, "events.close.requires[",
     "takes no value"),
])
def test_malformed_definitions_name_file_line_path_and_fix(tmp_path, body, line, where, hint):
    """Each mistake is reported at its place in the local file, with what to change."""
    with pytest.raises(InvalidDefinition) as bad:
        load_file(_write(tmp_path, HEADER + body))
    text = str(bad.value)
    assert f"local.yaml:{line}:" in text, text
    assert where in text and hint in text and "Fix:" in text


def test_invalid_yaml_names_the_line(tmp_path):
    """Broken YAML syntax is reported with its line, before anything else is checked."""
    with pytest.raises(InvalidDefinition) as bad:
        load_file(_write(tmp_path, HEADER + "events:\n  close: [unclosed\n"))
    assert bad.value.stage == "read" and "local.yaml:" in str(bad.value) and "not valid YAML" in str(bad.value)


def test_extends_must_name_an_existing_base_and_not_loop(tmp_path):
    """A missing base is named with the choices; a cycle is refused."""
    with pytest.raises(InvalidDefinition) as missing:
        load_file(_write(tmp_path, "name: local\nextends: nationl\nversion: 1\n"))
    assert "national" in str(missing.value) and "extends" in str(missing.value)
    _write(tmp_path, "name: a\nextends: b\nversion: 1\n", "a.yaml")
    _write(tmp_path, "name: b\nextends: a\nversion: 1\n", "b.yaml")
    with pytest.raises(InvalidDefinition) as loop:
        load_file(tmp_path / "a.yaml")
    assert "loops" in str(loop.value)


def test_a_local_protocol_adds_to_the_base_and_keeps_its_requirements(tmp_path):
    """Requirements are appended (the national ones stay), who may be narrowed, and origins are kept."""
    national = Policies().get("national")
    d = load_file(_write(tmp_path, HEADER + "events:\n  close:\n    who: [{roles: [team_leader], qualified: true, team: case}]\n"
                                            "    requires:\n      - fact_recorded: home_visit\n"))
    base, local = national.events["close"], d.events["close"]
    assert local.requires[:len(base.requires)] == base.requires
    assert local.requires[-1].origin == "local" and local.requires[0].origin == "national"
    assert [c.roles for c in local.who] == [("team_leader",)]
    assert d.name == "local" and d.lineage == ("national", "local") and d.extends == "national"


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


def test_an_unknown_policy_suggests_the_closest(tmp_path):
    """Asking for a misspelt policy names the one meant."""
    with pytest.raises(UnknownPolicy) as unknown:
        Policies().get("torbey")
    assert "torbay" in str(unknown.value)
