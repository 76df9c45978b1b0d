"""Diagrams come from the loaded definitions, render deterministically, and the committed ones are current."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from workflow.diagram import render
from workflow.loader import Policies

ROOT = Path(__file__).resolve().parent.parent
REFRESH = ".venv/bin/casework diagram --all -o diagrams/"


@pytest.mark.parametrize("name", Policies().names())
@pytest.mark.parametrize("fmt", ["svg", "png"])
@pytest.mark.parametrize("allocation", [False, True])
def test_committed_diagrams_are_current(name, fmt, allocation):
    """Each diagrams/<policy>[-allocation].<fmt> equals a fresh rendering of the definition the engine runs."""
    file = f"{name}{'-allocation' if allocation else ''}.{fmt}"
    committed = ROOT / "diagrams" / file
    assert committed.exists(), f"diagrams/{file} is missing: run `{REFRESH}`"
    fresh = render(Policies().get(name), fmt, allocation=allocation)
    assert committed.read_bytes() == fresh, f"diagrams/{file} is stale: run `{REFRESH}` and commit it"


def test_rendering_is_deterministic():
    """Rendering the same definition twice gives byte-identical output."""
    d = Policies().get("torbay")
    assert render(d, "svg") == render(d, "svg") and render(d, "png") == render(d, "png")


def test_missing_dot_is_a_clear_error_with_exit_2(tmp_path):
    """Without graphviz's `dot` on PATH the CLI says how to install it and exits 2."""
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    done = subprocess.run([str(Path(sys.executable).parent / "casework"), "diagram", "national", "-o",
                           str(tmp_path / "n.svg")], env=env, capture_output=True, text=True)
    assert done.returncode == 2 and "dot" in done.stderr and "scripts/setup" in done.stderr


def test_diagram_all_writes_every_protocol(cli_run, tmp_path):
    """`casework diagram --all -o DIR` writes an SVG and a PNG per protocol."""
    cli_run("diagram", "--all", "-o", str(tmp_path / "out"))
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted(f"{n}{a}.{f}" for n in Policies().names() for f in ("svg", "png")
                           for a in ("", "-allocation"))


def test_a_case_on_its_diagram_shows_where_it_stands_its_path_and_its_exits(cli_run):
    """--case highlights the state and the moves made; --as marks each exit open or refused, with why."""
    for args in (["tm", "--name", "T", "--role", "team_manager", "--registered", "SW1", "--team", "E"],
                 ["sw", "--name", "S", "--role", "social_worker", "--registered", "SW2", "--team", "E"]):
        cli_run("staff", "add", *args)
    cli_run("case", "open", "C-1", "--policy", "national", "--team", "E", "--as", "tm")
    cli_run("case", "allocate", "C-1", "--lead", "sw", "--as", "tm")
    cli_run("case", "move", "C-1", "decide_assessment", "--as", "tm")
    dot = cli_run("diagram", "national", "--case", "C-1", "--as", "sw", "--format", "dot").stdout
    assert "case C-1" in dot and 'assessment [label="Single assessment' in dot
    assert "#ffe08a" in dot  # the current state
    assert 'referral -> assessment [label=<' in dot and "penwidth=3.5" in dot  # the move made
    assert "OPEN to sw now" in dot and "REFUSED for sw" in dot
    missing = cli_run("diagram", "national", "--case", "C-9", ok=False)
    assert missing.exit_code == 2 and "C-1" in missing.stderr


def test_the_allocation_diagram_shows_the_handover_steps(cli_run):
    """Torbay's allocation diagram names every step of the CCW hand-over with its rule ID."""
    dot = cli_run("diagram", "torbay", "--allocation", "--format", "dot").stdout
    for rule in ("TOR-1", "TOR-2", "TOR-3", "TOR-4", "TOR-5", "TOR-7", "TOR-9"):
        assert rule in dot
    assert "community care worker" in dot and "who holds the case" in dot
