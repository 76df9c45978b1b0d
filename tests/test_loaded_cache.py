"""Loaded definitions kept between commands (workflow.loaded_cache): fast, and never stale or trusted blindly.

A command loads a definition from the cache only when every definition file and the casework
code are as they were when it was kept; a file that does not load is never kept; and an
entry someone else could have written is never unpickled.
"""
from __future__ import annotations

import os
import dataclasses
import pickle

import pytest

from casework.errors import InvalidDefinition
from casework.workflow.loader import Policies

LOCAL = "name: medway\nextends: national\nversion: 1\ndescription: {text}\n"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("CASEWORK_CACHE_DIR", str(folder))
    return folder / "definitions"


@pytest.fixture
def machines(tmp_path):
    folder = tmp_path / "machines"
    folder.mkdir()
    (folder / "medway.yaml").write_text(LOCAL.format(text="Medway's first protocol"))
    return folder


def _entries(cache):
    return sorted(cache.glob("*.pickle")) if cache.is_dir() else []


def test_a_definition_loaded_once_is_read_back_whole_by_the_next_process(cache, machines):
    first = Policies([machines]).load("medway")
    assert len(_entries(cache)) == 2  # medway and the national baseline it extends
    again = Policies([machines]).load("medway")
    assert again.definition == first.definition and again.definition.digest == first.definition.digest
    assert again.proof.ok and again.resolved.data == first.resolved.data
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in _entries(cache))


def test_an_edited_added_or_removed_file_loads_afresh(cache, machines):
    assert Policies([machines]).get("medway").description == "Medway's first protocol"
    (machines / "medway.yaml").write_text(LOCAL.format(text="Medway's second protocol"))
    assert Policies([machines]).get("medway").description == "Medway's second protocol"
    (machines / "other.yaml").write_text("name: other\nextends: medway\nversion: 1\n")
    loaded = Policies([machines])
    assert loaded.get("other").lineage == ("national", "medway", "other")
    (machines / "other.yaml").unlink()
    with pytest.raises(Exception, match="other"):
        Policies([machines]).get("other")


def test_editing_a_base_reloads_what_extends_it(cache, machines):
    """A chain national → medway → other: other's cached load is not reused once medway changed."""
    (machines / "other.yaml").write_text("name: other\nextends: medway\nversion: 1\n")
    assert Policies([machines]).get("other").description == "Medway's first protocol"
    (machines / "medway.yaml").write_text(LOCAL.format(text="Medway's second protocol"))
    assert Policies([machines]).get("other").description == "Medway's second protocol"


def test_a_file_that_fails_to_load_is_never_kept_and_fails_every_time(cache, machines):
    (machines / "broken.yaml").write_text("name: broken\nextends: national\nversion: 1\nevents:\n  close:\n"
                                          "    requires: [no_such_kind]\n")
    for _ in range(2):
        with pytest.raises(InvalidDefinition, match="no_such_kind"):
            Policies([machines]).get("broken")
    assert not any(b"broken" in p.read_bytes() for p in _entries(cache))


def test_an_entry_others_may_write_or_that_is_damaged_is_never_used(cache, machines):
    """A forged entry (a pickle runs code when read) in a file others could write is ignored, as is a damaged
    one: the definition is loaded from its file and the entry replaced."""
    Policies([machines]).load("medway")
    entry = next(p for p in _entries(cache) if b"medway" in p.read_bytes())
    forged = Policies([machines]).load("medway")
    forged = type(forged)(dataclasses.replace(forged.definition, description="forged"), forged.resolved,
                          forged.proof)
    entry.write_bytes(pickle.dumps(forged))
    entry.chmod(0o600)  # the user's own entry is trusted, as the proofs beside it are: what the check protects
    assert Policies([machines]).get("medway").description == "forged"
    entry.chmod(0o666)
    assert Policies([machines]).get("medway").description == "Medway's first protocol"
    assert entry.stat().st_mode & 0o022 == 0  # replaced by the user's own entry
    entry.write_bytes(b"not a pickle")
    assert Policies([machines]).get("medway").description == "Medway's first protocol"


def test_without_a_cache_directory_everything_still_loads(tmp_path, machines, monkeypatch):
    """An unwritable cache only costs the load: nothing fails."""
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache directory would be")
    monkeypatch.setenv("CASEWORK_CACHE_DIR", str(blocked))
    assert Policies([machines]).get("medway").description == "Medway's first protocol"
    assert Policies([machines]).get("medway").version == "1"
    assert not os.path.isdir(blocked)
