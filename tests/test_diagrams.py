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
def test_committed_diagrams_are_current(name, fmt):
    """Each diagrams/<policy>.<fmt> equals a fresh rendering of the definition the engine runs."""
    committed = ROOT / "diagrams" / f"{name}.{fmt}"
    assert committed.exists(), f"diagrams/{name}.{fmt} is missing: run `{REFRESH}`"
    fresh = render(Policies().get(name), fmt)
    assert committed.read_bytes() == fresh, f"diagrams/{name}.{fmt} is stale: run `{REFRESH}` and commit it"


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
    assert names == sorted(f"{n}.{f}" for n in Policies().names() for f in ("svg", "png"))
