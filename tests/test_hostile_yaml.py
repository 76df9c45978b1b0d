"""Hostile definition files: each is refused at the read stage with file, line, problem and fix, never a traceback.

Every file goes through both the loader and the real CLI (`casework policy check`); the
two worst (the billion laughs and deep nesting) also run in a subprocess whose address
space is capped at 1 GiB, so a reader that expanded them would fail here.
"""
from __future__ import annotations

import datetime
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from casework.cli.main import cli
from casework.errors import InvalidDefinition
from casework.workflow.loader import load_file, shipped_directory
from casework.workflow.sources import MAX_BYTES, read_source

CASEWORK = str(Path(sys.executable).parent / "casework")
HEADER = "name: local\nextends: national\nversion: 1\n"

#: the classic: nine levels of nine aliases each, about 560 bytes standing for 9**9 strings
LAUGHS = 'lol1: &lol1 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"lol{n}: &lol{n} [" + ",".join([f"*lol{n - 1}"] * 9) + "]\n" for n in range(2, 10))
DEEP = "[" * 10_000
OVERSIZE = HEADER + "# padding\n" * (MAX_BYTES // 10 + 1)

#: (id, file content, line of the problem or None, what the message says, what the fix says)
HOSTILE = [
    ("billion-laughs", LAUGHS, 6, "more than 100,000 values", "fewer aliases"),
    ("self-alias", HEADER + "x-loop: &x [*x]\n", 4, "alias '*x' refers to the value that contains it",
     "move '*x' out"),
    ("undefined-alias", HEADER + "events:\n  close:\n    requires: *missing\n", 6,
     "alias '*missing' refers to no anchor", "define '&missing'"),
    ("latin-1", HEADER.encode() + "title: Café protocol\n".encode("latin-1"), 4,
     "byte 0xE9 at line 4, column 11 is not UTF-8", "save the file as UTF-8"),
    ("control-character", HEADER + "title: bell\x07\n", 4, "character U+0007 at line 4, column 12",
     "remove it"),
    ("set-tag", HEADER + "facts: !!set {a, b}\n", 4, "tags are not used in definitions; remove '!!set'",
     "plain YAML"),
    ("python-tag", HEADER + "title: !!python/object/apply:os.system [echo pwned]\n", 4,
     "remove '!!python/object/apply:os.system'", "plain YAML"),
    ("binary-tag", HEADER + "title: !!binary aGVsbG8=\n", 4, "remove '!!binary'", "plain YAML"),
    ("str-tag", HEADER + "title: !!str Local\n", 4, "remove '!!str'", "plain YAML"),
    ("int-key", HEADER + "1: one\n", 4, "the key '1' is read as a number", 'quote the key, e.g. "1": ...'),
    ("null-key", HEADER + "null: nothing\n", 4, "the key 'null' is read as null", 'quote the key, e.g. "null"'),
    ("list-key", HEADER + "? [a, b]\n: c\n", 4, "a key must be a name, not a list", "plain name"),
    ("true-key", HEADER + "states:\n  true: {title: Yes}\n", 5, "the key 'true' is read as true or false",
     'quote the key, e.g. "true"'),
    ("invalid-date", HEADER + "closures: [2024-02-30]\n", 4, "'2024-02-30' is not a valid date",
     "write a real date as YYYY-MM-DD"),
    ("not-a-number", HEADER + "x-ratio: .nan\n", 4, "'.nan' is not a finite number", "finite number"),
    ("duplicate-key", HEADER + "version: 2\n", 4, "duplicate key 'version' (first at line 3)", "remove one"),
    ("duplicate-nested-key", HEADER + "states:\n  limbo: {title: A}\n  limbo: {title: B}\n", 6,
     "duplicate key 'limbo' (first at line 5)", "remove one"),
    ("deep-nesting", DEEP, 1, "nested more than 64 levels deep", "flatten"),
    ("oversize", OVERSIZE, None, f"the file is {len(OVERSIZE):,} bytes; a definition may be at most 262,144 bytes",
     "make it smaller"),
    ("two-documents", HEADER + "---\n" + HEADER, 4, "more than one YAML document", "one definition per file"),
    ("merge-key", HEADER + "x-base: &base {title: Base}\nstates:\n  limbo:\n    <<: *base\n", 7,
     "merge keys ('<<') are not used", "write the keys out"),
]
CASES = [pytest.param(content, line, problem, fix, id=name) for name, content, line, problem, fix in HOSTILE]


def _write(tmp_path: Path, content: str | bytes, name: str = "local.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


@pytest.mark.parametrize("content,line,problem,fix", CASES)
def test_the_loader_refuses_a_hostile_file_at_the_read_stage(tmp_path, content, line, problem, fix):
    """load_file raises InvalidDefinition (stage 'read') naming the file, the line, what is wrong and the fix."""
    path = _write(tmp_path, content)
    with pytest.raises(InvalidDefinition) as refused:
        load_file(path)
    text = str(refused.value)
    assert refused.value.stage == "read", text
    assert f"{path}:{line}:" in text if line else f"{path}: at" in text, text
    assert problem in text and "Fix:" in text and fix in text, text


@pytest.mark.parametrize("content,line,problem,fix", CASES)
def test_policy_check_refuses_a_hostile_file_with_exit_2(tmp_path, content, line, problem, fix):
    """`casework policy check FILE` prints the problem and its fix and exits 2, without a traceback."""
    path = _write(tmp_path, content)
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "x.db"), "policy", "check", str(path)])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert problem in result.stderr and "Fix:" in result.stderr and str(path) in result.stderr, result.stderr
    assert "Traceback" not in result.output


def _cap_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


@pytest.mark.parametrize("content,problem", [pytest.param(LAUGHS, "more than 100,000 values", id="billion-laughs"),
                                             pytest.param(DEEP, "nested more than 64 levels", id="deep-nesting")])
def test_policy_check_refuses_bombs_within_a_gigabyte(tmp_path, content, problem):
    """With its address space capped at 1 GiB, the real `casework` process still refuses the file and exits 2."""
    path = _write(tmp_path, content)
    env = {**os.environ, "CASEWORK_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([CASEWORK, "--db", str(tmp_path / "x.db"), "policy", "check", str(path)],
                          capture_output=True, text=True, env=env, preexec_fn=_cap_address_space, timeout=120)
    assert done.returncode == 2, done.stderr
    assert problem in done.stderr and "Fix:" in done.stderr and "Traceback" not in done.stderr, done.stderr


@pytest.mark.parametrize("file", sorted(shipped_directory().glob("*.yaml")), ids=lambda f: f.name)
def test_shipped_files_read_exactly_as_yaml_safe_load_reads_them(file):
    """For every valid shipped file the reader gives the same data, types and key order as yaml.SafeLoader."""
    expected = yaml.load(file.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    assert repr(read_source(file).data) == repr(expected)


def test_plain_scalars_resolve_as_yaml_1_1_and_quoted_ones_stay_text(tmp_path):
    """Dates become datetime.date, numbers and true/false their types; quoted values and keys are text."""
    src = read_source(_write(tmp_path, '\ufeffname: local\nstart: 2024-10-04\ncaps: {"1": 2}\nopen: yes\n'
                                       'ratio: 1.5\nquoted: "2024-10-04"\nnothing:\n'))
    assert src.data == {"name": "local", "start": datetime.date(2024, 10, 4), "caps": {"1": 2}, "open": True,
                        "ratio": 1.5, "quoted": "2024-10-04", "nothing": None}


def test_an_error_inside_an_aliased_value_is_reported_at_the_alias(tmp_path):
    """Lines are recorded while reading: a mistake inside an aliased value points at the line using the alias."""
    path = _write(tmp_path, HEADER + "x-visit: &visit {fact_recorded: visit_record}\n"
                                     "events:\n  close:\n    requires:\n      - *visit\n")
    src = read_source(path)
    assert src.line(("events", "close", "requires", 0)) == 8
    assert src.line(("events", "close", "requires", 0, "fact_recorded", "fact")) == 8
    assert src.line(("x-visit", "fact_recorded")) == 4
    with pytest.raises(InvalidDefinition) as refused:
        load_file(path)
    assert "local.yaml:8:" in str(refused.value) and "visit_record" in str(refused.value), str(refused.value)
