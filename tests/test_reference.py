"""The reference cannot drift from the code: the README's tables and the JSON Schema are checked against
the requirement registry, the definition models and the role list the loader enforces."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from casework.cli.main import cli
from casework.workflow.deadlines import DeadlineDef, Duration, Marker
from casework.workflow.definition import (AllocationDef, ClosureReason, Definition, EventDef, FactDef, HolderPolicy, RuleDef,
                                          StateDef)
from casework.workflow.model import names
from casework.workflow.reference import definition_schema, roles_markdown
from casework.workflow.requirements import REGISTRY, ActorClause
from casework.workflow.catalogue import shipped_directory

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
_META = {"kind", "rules", "says", "origin"}


def _section(title: str) -> str:
    start = README.index(f"### {title}\n")
    return README[start:README.index("\n## ", start)] if "\n### " not in README[start + 4:] else \
        README[start:README.index("\n### ", start + 4)]


def _kinds_table() -> dict[str, tuple[str, str]]:
    rows = {}
    for line in _section("Requirement kinds").splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = (cells[1].strip("`"), cells[2])
    return rows


def _top_level_names(text: str) -> set[str]:
    """The backticked parameter names of a cell, leaving out what parentheses explain."""
    depth, kept = 0, []
    for char in text:
        depth += char == "("
        if depth == 0:
            kept.append(char)
        depth -= char == ")"
    return {token.split(":")[0].strip() for token in re.findall(r"`([^`]+)`", "".join(kept))}


def test_the_requirement_kinds_table_lists_every_kind_with_its_parameters():
    table = _kinds_table()
    assert set(table) == set(REGISTRY), (set(REGISTRY) ^ set(table))
    for kind, (main, others) in table.items():
        cls = REGISTRY[kind]
        fields = set(names(cls)) - _META
        assert main == (cls.primary or ""), kind
        assert _top_level_names(others) | ({main} if main else set()) == fields, (kind, fields)


@pytest.mark.parametrize("model", [StateDef, EventDef, FactDef, HolderPolicy, AllocationDef, DeadlineDef, Marker,
                                   Duration, RuleDef, ActorClause, ClosureReason, Definition])
def test_every_setting_a_definition_file_may_give_is_in_the_readme(model):
    """A setting nobody can find is as good as missing: each one is named, in backticks, in the README."""
    named = set(re.findall(r"`([a-z_]+)(?::[^`]*)?`", README))
    for block in re.findall(r"```yaml\n(.*?)```", README, flags=re.S):  # the keys its examples write
        named |= set(re.findall(r"(?m)^\s*(?:- )?([a-z_]+):", block)) | set(re.findall(r"[{,]\s*([a-z_]+):", block))
    settings = set(names(model)) - {"origin", "digest", "files", "lineage",
                                                                                "kind"}
    assert settings <= named, sorted(settings - named)


def test_the_readme_lists_exactly_the_role_identifiers_the_loader_knows():
    generated = README.split("<!-- roles: generated", 1)[1].split("-->", 1)[1].split("<!-- /roles -->", 1)[0]
    assert generated.strip() == roles_markdown().strip()


def _as_written(path: Path) -> Any:
    """A file as an editor's YAML language server sees it: dates stay text."""
    return json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))


SCHEMA = definition_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
FILES = sorted(shipped_directory().glob("*.yaml")) + sorted((shipped_directory() / "versions").glob("*.yaml"))


def test_the_schema_is_valid_json_schema_and_the_cli_prints_it(tmp_path):
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    out = tmp_path / "casework.schema.json"
    result = CliRunner().invoke(cli, ["policy", "schema", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text()) == json.loads(json.dumps(SCHEMA))


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_shipped_definition_validates_against_the_schema(path):
    errors = [f"{list(e.path)}: {e.message[:200]}" for e in VALIDATOR.iter_errors(_as_written(path))]
    assert errors == []


@pytest.mark.parametrize("body,where", [
    ("events:\n  close:\n    requires: [lead_alocated]\n", ["events", "close", "requires", 0]),
    ("events:\n  close:\n    requires:\n      - fact_recorded: {fact: home_visit, bye: lead}\n",
     ["events", "close", "requires", 0]),
    ("events:\n  close:\n    who: [{roles: [team_manger]}]\n", ["events", "close", "who", 0, "roles", 0]),
    ("events:\n  close:\n    tittle: Close\n", ["events", "close"]),
    ("deadlines:\n  visit:\n    within: {fortnights: 2}\n", ["deadlines", "visit", "within"]),
    ("backdate_days: lots\n", ["backdate_days"]),
])
def test_the_schema_catches_what_the_loader_would_refuse_as_it_is_typed(body, where):
    data = yaml.safe_load("name: mine\nextends: national\nversion: 1\n" + body)
    errors = list(VALIDATOR.iter_errors(data))
    assert errors and any(list(e.path)[:len(where)] == where for e in errors), [list(e.path) for e in errors]


def test_the_requirement_union_holds_every_registered_kind_and_nothing_else():
    """RequirementItem is declared for type checkers; the registry is what the loader knows: they are equal."""
    from typing import get_args

    from casework.workflow.schema import RequirementItem

    union = get_args(RequirementItem)[0]
    assert set(get_args(union)) == set(REGISTRY.values())
