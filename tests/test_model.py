"""The running form of definitions (plain dataclasses) and their validation with pydantic (workflow.schema).

A definition's digest is the sha256 of its JSON form, and every audit entry and kept version names
it: the form casework writes without pydantic must be exactly the one pydantic writes, or a store's
pinned versions would stop matching their files. These tests hold the two to the same text, and the
validation's words (what a missing, unknown or out-of-order setting is called) to what they were.
"""
from __future__ import annotations

import dataclasses
import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casework.errors import InvalidDefinition
from casework.workflow.deadlines import Duration, Marker
from casework.workflow.definition import Definition
from casework.workflow.loader import body_of, load_file, shipped_directory
from casework.workflow.model import MODELS, Model, dump, replace
from casework.workflow.requirements import Requirement
from casework.workflow.requirements.lifetime import Scoped
from casework.workflow.schema import ValidationError, adapter, validate

FILES = sorted([*shipped_directory().glob("*.yaml"), *shipped_directory().glob("versions/*.yaml")])


def _requirements(value: Any) -> Iterator[Requirement]:
    """Every requirement inside *value*, nested ones included."""
    if isinstance(value, Requirement):
        yield value
    if isinstance(value, Model):
        for f in dataclasses.fields(value):
            yield from _requirements(getattr(value, f.name))
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _requirements(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _requirements(v)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_a_definition_dumps_to_exactly_the_json_pydantic_writes(path):
    """Shipped protocols and their earlier versions: the same JSON, key for key and in order, so the digest is
    the one the store's kept versions and audit entries name."""
    d = load_file(path)
    ours = dump(d, by_alias=True)
    theirs = adapter(Definition).dump_python(d, mode="json", by_alias=True)
    assert json.dumps(ours) == json.dumps(theirs)
    assert json.dumps(body_of(d), sort_keys=True) == json.dumps(
        {k: v for k, v in theirs.items() if k not in ("digest", "files") and (k != "closure_reasons" or v)},
        sort_keys=True)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_requirements_parameters_are_what_pydantic_would_dump(path):
    """What a refusal and `case can --json` show of a requirement, made without pydantic, is pydantic's dump."""
    d = load_file(path)
    found = list(_requirements(d))
    assert len(found) > 25
    for r in found:
        scoped = isinstance(r, Scoped)
        theirs = adapter(type(r)).dump_python(r, mode="json", exclude={"kind", "rules", "says", "origin"},
                                              exclude_defaults=True, exclude_none=scoped, by_alias=scoped)
        assert r.params() == theirs or r.kind in ("any_of", "none_of"), r  # combinators list their options' own


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(["working_days", "days", "weeks", "months"]), st.integers(-5, 2000),
                       min_size=0, max_size=3),
       st.dictionaries(st.sampled_from(["entered", "event", "fact", "date"]),
                       st.one_of(st.text(max_size=5), st.dates().map(str), st.integers()), max_size=3))
def test_small_parts_validate_and_dump_as_pydantic_says(duration, marker):
    """Any durations and markers, valid or not: accepted exactly when pydantic accepts them, and then dumped
    as pydantic dumps them (dates as ISO text, unset fields as null)."""
    for cls, data in ((Duration, duration), (Marker, marker)):
        try:
            value = validate(cls, data)
        except ValidationError as exc:
            assert exc.errors()  # refused with its reasons, never a crash
            continue
        assert dump(value, by_alias=True) == adapter(cls).dump_python(value, mode="json", by_alias=True)
        assert dump(value, exclude_none=True) == adapter(cls).dump_python(value, mode="json", exclude_none=True)


def test_every_model_is_frozen_and_validated_against_unknown_keys():
    """A part of a definition cannot be changed once loaded, and every class refuses keys it does not know."""
    national = load_file(shipped_directory() / "national.yaml")
    with pytest.raises(dataclasses.FrozenInstanceError):
        national.name = "loose"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        national.events["close"].who[0].qualified = False  # type: ignore[misc]
    for cls in MODELS:
        assert cls.__dataclass_params__.frozen, cls  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="Extra inputs are not permitted|Unexpected keyword"):
        validate(Duration, {"days": 3, "hours": 2})


def test_replace_runs_the_checks_again():
    """A copy made with replace is held to the same cross-field checks as a validated one."""
    with pytest.raises(ValueError, match="exactly one of working_days"):
        replace(Duration(days=3), weeks=2)


def test_unknown_and_missing_settings_are_worded_as_before(tmp_path: Path):
    """A misspelt key says 'Extra inputs are not permitted' with 'remove ... or correct its spelling'; a
    missing one 'Field required' with "add '...'", in a nested requirement as at the top."""
    path = tmp_path / "medway.yaml"
    path.write_text("name: medway\nextends: national\nversion: 1\ntitel: Medway\n"
                    "deadlines:\n  visit:\n    title: Visit\n    while_in: [cin_plan]\n    start: {entered: cin_plan}\n"
                    "events:\n  close:\n    requires:\n      - fact_recorded: {fact: home_visit, sinse: state}\n")
    with pytest.raises(InvalidDefinition) as bad:
        load_file(path)
    text = str(bad.value)
    assert "at titel: Extra inputs are not permitted" in text and "remove 'titel' or correct its spelling" in text
    assert "deadlines.visit.within: Field required" in text and "add 'within'" in text
    assert "sinse: Extra inputs are not permitted" in text


def test_effective_until_before_effective_from_is_reported_at_its_line(tmp_path: Path):
    """The cross-field check of a version's dates points at effective_until, where the fix is."""
    path = tmp_path / "medway.yaml"
    path.write_text("name: medway\nextends: national\nversion: 1\neffective_from: 2026-04-01\n"
                    "effective_until: 2026-03-01\n")
    with pytest.raises(InvalidDefinition) as bad:
        load_file(path)
    assert f"{path}:5: at effective_until" in str(bad.value) and "is before effective_from" in str(bad.value)


def test_a_loaded_definition_unpickles_and_judges_in_an_interpreter_without_pydantic(tmp_path: Path):
    """What the user's cache holds is usable without pydantic: unpickled in a fresh interpreter, a refused
    move's verdict (with its parameters) is made and pydantic is never imported."""
    kept = tmp_path / "national.pickle"
    kept.write_bytes(pickle.dumps(load_file(shipped_directory() / "national.yaml")))
    code = f"""
import pickle, sys
from datetime import datetime, timezone
d = pickle.loads(open({str(kept)!r}, 'rb').read())
from casework.workflow.engine import Engine
from casework.workflow.people import Case, Staff
now = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
case = Case(id="C-1", state="cin_plan", policy="national", team="Erewash", opened_at=now)
ccw = Staff(id="ccw", name="C", roles=frozenset({{"community_care_worker"}}), team="Erewash")
verdict = Engine(d).explain(case, "escalate_to_strategy", ccw, now, reason="bruising")
print(verdict.allowed, [u.params for u in verdict.unmet][:1], sorted(m for m in sys.modules if 'pydantic' in m))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("False") and done.stdout.strip().endswith("[]"), done.stdout
