"""Lint at zero findings, with the rules pyproject.toml selects (pyflakes, pycodestyle, bugbear).

Run here so that `.ci/run`, which runs the README's test command, runs it too.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
                           "casework", "workflow", "store", "cli", "tests", "benchmarks"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


#: what is checked strictly: all of casework
STRICT = ["casework"]


def _as_installed(tmp_path: Path) -> Path:
    """The repository's folders laid out as the installed package (casework/workflow, ...), for mypy, which
    does not read pyproject.toml's package-dir."""
    root = tmp_path / "src" / "casework"
    root.mkdir(parents=True)
    for file in (ROOT / "casework").glob("*.py"):
        (root / file.name).symlink_to(file)
    for folder in ("workflow", "store", "cli", "machines"):
        (root / folder).symlink_to(ROOT / folder, target_is_directory=True)
    return root.parent


def test_mypy_strict_finds_nothing_in_casework(tmp_path):
    """Strict type checking at zero errors, with pyproject.toml's [tool.mypy] settings."""
    src = _as_installed(tmp_path)
    packages = [arg for name in STRICT for arg in ("-p", name)]
    done = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
                           "--cache-dir", str(tmp_path / "cache"), *packages],
                          cwd=src, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
