"""Shared fixtures: a real SQLite file, a real PostgreSQL server, a fixed clock, standard staff."""
from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta, timezone

import pytest

from casework.workflow.workspace import Casework, open_casework

pytest_plugins = ["tests.pg_server"]

# the per-user cache (England's bank holidays) goes to a directory of this run, also for
# the CLI run in subprocesses, so tests neither read nor fill the developer's own cache
os.environ["CASEWORK_CACHE_DIR"] = tempfile.mkdtemp(prefix="casework-test-cache-")

#: a Monday; tests move the clock instead of sleeping
START = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)


class Clock:
    """A clock tests can set and advance."""

    def __init__(self, now: datetime = START):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'casework.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request, tmp_path) -> str:
    """The same contract runs on both backends."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'casework.db'}"
    return request.getfixturevalue("fresh_postgres_url")


def _open(url: str, clock: Clock) -> Casework:
    from casework.workflow import service

    cw = open_casework(url, clock=clock)
    service.init_store(cw)
    return cw


@pytest.fixture
def cw(store_url, clock):
    """A workspace on SQLite and on PostgreSQL (parametrised)."""
    cw = _open(store_url, clock)
    yield cw
    cw.store.dispose()


@pytest.fixture
def sqlite_cw(sqlite_url, clock):
    """A workspace on a real SQLite file only."""
    cw = _open(sqlite_url, clock)
    yield cw
    cw.store.dispose()


@pytest.fixture
def cli_run(tmp_path):
    """The real CLI (click's runner) on a fresh, initialised SQLite file.

    ``cli_run(*args)`` asserts exit 0; ``cli_run(*args, ok=False)`` returns any result.
    """
    from click.testing import CliRunner

    from casework.cli.main import cli

    db = str(tmp_path / "cli.db")
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(cli, ["--db", db, *args], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    invoke("init")
    return invoke
