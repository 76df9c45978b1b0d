"""The rulebook: every rule a definition cites is declared once, with what it says, a quote and its source."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.test_definitions import _line, _refused, _write
from casework.workflow.checks import citations
from casework.workflow.loader import Policies, load_file

#: the rules each shipped definition declares itself (the rest it inherits)
OWN_RULES = {
    "national": [f"WT-{n}" for n in range(1, 8)],
    "derbyshire": [f"DER-{n}" for n in range(1, 9)],
    #: Kent's current version (after the trial) keeps the rules it still enforces; the trial's own, KEN-1 and
    #: KEN-6, are in its first version (machines/versions/kent@1.yaml, tested below and in test_kent.py)
    "kent": ["KEN-2", "KEN-3", "KEN-4", "KEN-5", "KEN-7"],
    "stockport": [f"STO-{n}" for n in range(1, 9)],
    "torbay": [f"TOR-{n}" for n in range(1, 11)],
}

_LOCAL_RULE = ("rulebook:\n  LOC-1:\n    says: Home visits are fortnightly.\n"
               "    quote: Children will be visited every two weeks.\n"
               "    source: Local procedures manual, 2025\n")


# shipped definitions -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OWN_RULES))
def test_a_shipped_definition_declares_every_rule_it_cites(name):
    """Each cited rule ID has a rulebook entry whose says, quote and source are filled in."""
    d = Policies().get(name)
    cited = {rule for _, rule in citations(d)}
    assert cited and cited <= set(d.rulebook)
    for rule, entry in d.rulebook.items():
        assert entry.says and entry.quote and entry.source, rule
        assert not re.search(r"\s\s|\n", entry.quote), f"{rule}: the quote is folded into one line"


@pytest.mark.parametrize("name,own", sorted(OWN_RULES.items()))
def test_a_shipped_definition_declares_its_own_rules_and_inherits_the_national_ones(name, own):
    """national declares WT-1..WT-7; each local protocol declares exactly its own IDs and sees WT-* as well."""
    d = Policies().get(name)
    assert [r for r, e in d.rulebook.items() if e.origin == name] == own
    assert [r for r, e in d.rulebook.items() if e.origin == "national"] == OWN_RULES["national"]


def test_the_national_rules_keep_their_text_in_every_local_protocol():
    """WT-5 reads the same in Kent as in the national baseline: a local protocol inherits it unchanged."""
    national = Policies().get("national").rulebook
    for name in ("derbyshire", "kent", "stockport", "torbay"):
        local = Policies().get(name).rulebook
        assert {r: local[r] for r in national} == dict(national)


# citing an undeclared rule -------------------------------------------------------------------


@pytest.mark.parametrize("body,where,needle", [
    ("events:\n  close:\n    rules: [LOC-9]\n", "events.close.rules[0]", "rules: [LOC-9]"),
    ("states:\n  cin_plan:\n    rules: [LOC-9]\n", "states.cin_plan.rules[0]", "rules: [LOC-9]"),
    ("facts:\n  home_visit:\n    who: [{relation: allocated, rules: [LOC-9]}]\n", "facts.home_visit.who[0].rules[0]",
     "LOC-9"),
    ("events:\n  close:\n    requires:\n      - fact_recorded: home_visit\n        rules: [LOC-9]\n",
     "events.close.requires[0].rules", "rules: [LOC-9]"),
    ("events:\n  close:\n    requires:\n      - any_of:\n          - lead_is_registered_social_worker\n"
     "          - fact_recorded: {fact: home_visit, rules: [LOC-9]}\n",
     "events.close.requires[0].any_of[1].rules", "fact: home_visit"),
    ("events:\n  close:\n    requires:\n      - none_of:\n          - worker_allocated: {rules: [LOC-9]}\n",
     "events.close.requires[0].none_of[0].rules", "worker_allocated"),
    ("allocation:\n  rules: [LOC-9]\n", "allocation.rules[0]", "rules: [LOC-9]"),
    ("deadlines:\n  visit:\n    title: Home visit\n    rules: [LOC-9]\n    while_in: [cin_plan]\n"
     "    start: {entered: cin_plan}\n    within: {weeks: 2}\n", "deadlines.visit.rules[0]", "rules: [LOC-9]"),
])
def test_an_undeclared_rule_is_refused_at_its_citation_with_the_fix(tmp_path, body, where, needle):
    """A rule ID cited anywhere (states, who clauses, nested requirements, allocation, deadlines) but declared
    nowhere is refused at the file, line and YAML path of the citation, saying where to declare it."""
    path = _write(tmp_path, "local", body)
    error = _refused(path)
    [problem] = error.problems
    assert error.stage == "check"
    assert (problem.file, problem.path, problem.line) == (str(path), where, _line(path, needle))
    assert "'LOC-9'" in problem.problem
    assert problem.fix == "declare it under 'rulebook:' in local.yaml with says, quote and source"


def test_an_undeclared_rule_cited_in_several_places_is_one_problem(tmp_path):
    """The first citation is named, with how many more there are, rather than one problem per citation."""
    path = _write(tmp_path, "local", "events:\n  close:\n    rules: [LOC-9]\n  reopen:\n    rules: [LOC-9]\n")
    [problem] = _refused(path).problems
    assert problem.path == "events.close.rules[0]" and "(and in 1 more place)" in problem.problem


def test_a_declared_local_rule_may_be_cited(tmp_path):
    """Declaring LOC-1 under rulebook: lets the local protocol cite it; origin names the local protocol."""
    d = load_file(_write(tmp_path, "local", "events:\n  close:\n    rules: [LOC-1]\n" + _LOCAL_RULE))
    assert d.events["close"].rules == ("LOC-1",)
    assert d.rulebook["LOC-1"].origin == "local" and d.rulebook["LOC-1"].source == "Local procedures manual, 2025"


# the rulebook itself -------------------------------------------------------------------------


def test_a_rulebook_entry_needs_says_quote_and_source(tmp_path):
    """A missing or empty part of an entry is reported at its path, with the fix."""
    path = _write(tmp_path, "local", "rulebook:\n  LOC-1:\n    says: ''\n    source: Local manual\n")
    problems = {p.path: p for p in _refused(path).problems}
    assert set(problems) == {"rulebook.LOC-1.says", "rulebook.LOC-1.quote"}
    assert problems["rulebook.LOC-1.quote"].fix == "add 'quote'"
    assert problems["rulebook.LOC-1.says"].line == _line(path, "says: ''")


def test_a_rulebook_key_must_be_a_rule_id(tmp_path):
    """A key such as 'LOC1' is refused at its own line, like a malformed ID under rules:."""
    path = _write(tmp_path, "local", _LOCAL_RULE.replace("LOC-1", "LOC1"))
    [problem] = _refused(path).problems
    assert (problem.path, problem.line) == ("rulebook.LOC1", _line(path, "LOC1:"))
    assert "rule ID" in problem.problem and "Fix: rename 'LOC1'" in str(problem)


# extends -------------------------------------------------------------------------------------


def test_a_local_protocol_cannot_reword_a_national_rule(tmp_path):
    """WT-5: a local file giving WT-5 other words is refused in its own file, naming national and the fix."""
    path = _write(tmp_path, "softer", "rulebook:\n  WT-5:\n    says: Child protection is mostly for social workers.\n")
    error = _refused(path)
    [problem] = error.problems
    assert error.stage == "check"
    assert (problem.file, problem.path, problem.line) == (str(path), "rulebook.WT-5.says", _line(path, "says:"))
    assert "'national'" in problem.problem and "cannot change its 'says'" in problem.problem
    assert "remove rulebook.WT-5 from softer.yaml" in problem.fix


def test_a_protocol_extending_a_local_one_cannot_reword_its_rules(tmp_path):
    """KEN-3 declared by kent cannot be reworded by a protocol that extends kent."""
    path = _write(tmp_path, "medway", "rulebook:\n  KEN-3:\n    quote: Supervision happens now and then.\n",
                  "name: {name}\nextends: kent\nversion: 1\n")
    [problem] = _refused(path).problems
    assert problem.path == "rulebook.KEN-3.quote" and "'kent'" in problem.problem


def test_repeating_a_national_rule_word_for_word_is_allowed(tmp_path):
    """WT-5 copied into a local file (even folded onto other lines) is not a change: it loads, still national's."""
    national = Policies().get("national").rulebook["WT-5"]
    words = national.says.split()
    body = ("rulebook:\n  WT-5:\n    says: >-\n      " + " ".join(words[:6]) + "\n      " + " ".join(words[6:])
            + "\n    quote: " + json.dumps(national.quote, ensure_ascii=False) + "\n")
    d = load_file(_write(tmp_path, "copy", body))
    assert d.rulebook["WT-5"] == national


def test_a_local_definition_sees_the_national_rules_and_its_own(tmp_path):
    """The rulebook merges through extends: WT-1..WT-7 from national, then the local LOC-1."""
    d = load_file(_write(tmp_path, "local", "events:\n  close:\n    rules: [LOC-1]\n" + _LOCAL_RULE))
    assert list(d.rulebook) == [*[f"WT-{n}" for n in range(1, 8)], "LOC-1"]
    assert {e.origin for r, e in d.rulebook.items() if r.startswith("WT-")} == {"national"}


# the command line ----------------------------------------------------------------------------


def test_policy_check_notes_a_rule_nothing_cites_without_failing(tmp_path, cli_run):
    """A declared but uncited rule is a note on `policy check` (exit 0), at its rulebook entry; TOR-8 is one."""
    path = _write(tmp_path, "local", _LOCAL_RULE)
    result = cli_run("policy", "check", str(path))
    assert result.exit_code == 0 and f"ok  {path}: local" in result.output
    assert f"note: {path}:{_line(path, 'LOC-1:')}: at rulebook.LOC-1: rule 'LOC-1'" in result.output
    torbay = Path(__file__).resolve().parent.parent / "machines" / "torbay.yaml"
    shipped = json.loads(cli_run("policy", "check", str(torbay), "--json").output)
    assert shipped[0]["ok"] and [n["path"] for n in shipped[0]["notes"]] == ["rulebook.TOR-8"]


def test_policy_show_lists_the_rulebook(cli_run):
    """`policy show kent` ends with every rule it may cite, national then Kent's, with what each says."""
    out = cli_run("policy", "show", "kent").output
    rulebook = out.split("  rulebook:\n", 1)[1]
    assert re.search(r"WT-5 +Section 47 enquiries", rulebook)
    assert re.search(r"KEN-5 +Every formal Child in Need meeting", rulebook)
    kent_2 = json.loads(cli_run("policy", "show", "kent", "--json").output)["rulebook"]["KEN-2"]
    assert kent_2["origin"] == "kent" and "Friday 4 October 2024" in kent_2["quote"]


def test_kents_trial_version_declares_every_kent_rule():
    """The trial version (versions/kent@1.yaml) declares KEN-1..KEN-7, each with its source's words."""
    trial = next(d for d in Policies().versions_of("kent") if d.version == "1")
    assert [r for r, e in trial.rulebook.items() if e.origin == "kent"] == [f"KEN-{n}" for n in range(1, 8)]
    assert {rule for _, rule in citations(trial)} >= {"KEN-1", "KEN-6"}
