"""Everyday commands start without SQLAlchemy (it is for the schema, migrations and compiling SQL), nor YAML
or pydantic once the definitions are in the user's cache (pydantic validates a file when it is read; what the
cache holds is plain dataclasses).

Importing SQLAlchemy costs about 0.45 s of a CLI call on a 2-core machine, more than the
rest of a move together (benchmarks/cli.py measures it). These tests drive the real CLI in
a fresh interpreter through a day's work on a SQLite store and prove that nothing it ran
needed SQLAlchemy, so a statement added to an everyday path without being compiled ahead
of time (store/statements.py EVERYDAY) fails here rather than slowing every command.
"""
from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers import add_standard_staff
from casework.workflow import service
from casework.workflow.workspace import open_casework

_DAY = [
    ["staff", "add", "sw3", "--name", "Sam Three", "--role", "social_worker", "--registered", "SW900099",
     "--team", "Erewash", "--as", "tm"],
    ["case", "open", "C-1", "--policy", "national", "--team", "Erewash", "--as", "tm"],
    ["case", "allocate", "C-1", "--lead", "sw", "--as", "tm"],
    ["case", "move", "C-1", "decide_assessment", "--as", "tm"],
    ["case", "record", "C-1", "assessment_completed", "--as", "sw"],
    ["case", "can", "C-1", "--as", "sw"],
    ["case", "move", "C-1", "start_cin_plan", "--as", "sw"],
    ["case", "move", "C-1", "escalate_to_strategy", "--as", "ccw", "--reason", "bruising"],
    ["case", "allocate", "C-1", "--lead", "sw2", "--as", "tm"],
    ["case", "show", "C-1"],
    ["case", "show", "C-1", "--json"],
    ["case", "history", "C-1"],
    ["case", "list"],
    ["case", "list", "--state", "cin_plan", "--team", "Erewash"],
    ["staff", "list"],
    ["due"],
    ["due", "--json"],
    ["audit", "verify"],
]

_DRIVER = """
import json, sys
from click.testing import CliRunner
from casework.cli.main import cli
db, day = sys.argv[1], json.loads(sys.argv[2])
runner = CliRunner()
codes = []
for args in day:
    result = runner.invoke(cli, ["--db", db, *args], catch_exceptions=False)
    codes.append([args, result.exit_code, result.output[-300:]])
print(json.dumps({"codes": codes, "sqlalchemy": sorted(m for m in sys.modules if m.split('.')[0] in
                  ('sqlalchemy', 'alembic')), "yaml": sorted(m for m in sys.modules if m.split('.')[0] == 'yaml'),
                  "pydantic": sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core'))}))
"""


def test_a_days_everyday_commands_never_import_sqlalchemy(tmp_path, clock):
    db = tmp_path / "casework.db"
    cw = open_casework(f"sqlite:///{db}")
    service.init_store(cw)
    add_standard_staff(cw)
    for name in cw.policies.names():  # the user's cache holds every protocol, as after the first command
        cw.policies.versions_of(name)
    cw.store.dispose()
    done = subprocess.run([sys.executable, "-c", _DRIVER, str(db), json.dumps(_DAY)],
                          capture_output=True, text=True, check=True)
    report = json.loads(done.stdout)
    codes = {" ".join(args): code for args, code, _out in report["codes"]}
    refused = "case move C-1 escalate_to_strategy --as ccw --reason bruising"
    assert codes.pop(refused) == 1, report["codes"]  # a refusal is written and audited like a move
    assert set(codes.values()) == {0}, report["codes"]
    assert report["sqlalchemy"] == []
    assert report["yaml"] == []  # the definitions came from the user's cache: no file was parsed
    assert report["pydantic"] == []  # ... nor validated: refusals, `case can` and --json need no pydantic either


def test_init_still_brings_sqlalchemy_in_for_the_migrations(tmp_path):
    """The other side: creating the schema runs Alembic (on SQLAlchemy) and works from the same CLI."""
    db = tmp_path / "new.db"
    done = subprocess.run([sys.executable, "-c", _DRIVER, str(db), json.dumps([["init"], ["case", "list"]])],
                          capture_output=True, text=True, check=True)
    report = json.loads(done.stdout)
    assert [code for _args, code, _out in report["codes"]] == [0, 0], report["codes"]
    assert "sqlalchemy" in report["sqlalchemy"] and "alembic" in report["sqlalchemy"]
