"""Lint at zero findings, with the rules pyproject.toml selects (pyflakes, pycodestyle, bugbear).

Run here so that `.ci/run`, which runs the README's test command, runs it too.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
                           "casework", "workflow", "store", "cli", "tests", "benchmarks"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_finds_nothing_in_the_store_and_the_errors(tmp_path):
    """The layers below the engine type-check strictly (pyproject.toml's [tool.mypy]); the engine and the CLI
    are the next to follow, and join this list when they do."""
    done = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path), "store", "casework/errors.py"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
