"""Store safety (issue 12): missing, read-only, damaged and newer stores, refused writes, and standing WT-5 flags."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

import casework.store as store_module
from casework.cli.main import cli
from casework.store import audit as audit_module
from casework.workflow import service
from casework.errors import BadInput
from casework.workflow.oversight import due_items

from .helpers import TEAM, add_standard_staff, case_in_cin_plan

CASEWORK = str(Path(sys.executable).parent / "casework")


def _cli(db: Path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(db), *args])


@pytest.fixture
def filled(tmp_path) -> Path:
    """A SQLite store with staff and one case, made through the real CLI."""
    db = tmp_path / "filled.db"
    for args in (["init"], ["staff", "add", "tm", "--name", "T", "--role", "team_manager", "--registered", "SW1"],
                 ["case", "open", "F-1", "--policy", "national", "--team", "A", "--as", "tm"]):
        assert _cli(db, *args).exit_code == 0
    return db


def test_reading_a_missing_store_creates_nothing(tmp_path):
    """`case list` and `audit verify` on a path with no store exit 2 and leave no file behind."""
    db = tmp_path / "nowhere.db"
    for args in (["case", "list"], ["audit", "verify"], ["due"]):
        result = _cli(db, *args)
        assert result.exit_code == 2 and "casework init" in result.output, result.output
    assert not db.exists() and not list(tmp_path.iterdir())


def _readable_copy(filled: Path) -> Path:
    """The store copied into a folder everyone may read, its file and folder read-only."""
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"casework-ro-{os.getpid()}-{filled.parent.name}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o755)
    copy = folder / "audit-copy.db"
    with sqlite3.connect(filled) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    copy.chmod(0o444)
    folder.chmod(0o555)
    return copy


def _as_reader(*args: str) -> subprocess.CompletedProcess:
    """The real CLI as someone who cannot write the copy: root writes anything, so as root it runs without
    the capabilities that override file permissions (util-linux's setpriv)."""
    env = {**os.environ, "CASEWORK_CACHE_DIR": f"/tmp/casework-ro-cache-{os.getpid()}"}
    drop = (["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search"]
            if os.geteuid() == 0 else [])
    return subprocess.run([*drop, CASEWORK, *args], capture_output=True, text=True, env=env, cwd="/tmp", timeout=120)


def test_a_read_only_store_can_be_read_and_verified_but_not_written(filled):
    """An auditor's read-only copy: show, history and verify work; a write is exit 2 and the file is unchanged."""
    copy = _readable_copy(filled)
    before = copy.read_bytes()
    try:
        shown = _as_reader("--db", str(copy), "case", "show", "F-1", "--json")
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["state"] == "referral"
        verified = _as_reader("--db", str(copy), "audit", "verify")
        assert verified.returncode == 0, verified.stderr
        in_parts = _as_reader("--db", str(copy), "audit", "verify", "--parts", "2", "--json")  # forked readers
        assert in_parts.returncode == 0 and json.loads(in_parts.stdout)["ok"], in_parts.stderr
        wrote = _as_reader("--db", str(copy), "case", "open", "F-2", "--policy", "national", "--team", "A",
                           "--as", "tm")
        assert wrote.returncode == 2 and "read-only" in wrote.stderr and "Traceback" not in wrote.stderr
        assert copy.read_bytes() == before
        assert sorted(p.name for p in copy.parent.iterdir()) == ["audit-copy.db"]
    finally:
        copy.parent.chmod(0o755)
        shutil.rmtree(copy.parent, ignore_errors=True)


def test_a_store_from_a_newer_casework_is_not_written(filled):
    """A schema revision this casework does not know: reads still work, writes and init are exit 2, nothing written."""
    with sqlite3.connect(filled) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    before = filled.read_bytes()
    assert _cli(filled, "case", "list").exit_code == 0
    for args in (["case", "open", "F-2", "--policy", "national", "--team", "A", "--as", "tm"], ["init"]):
        result = _cli(filled, *args)
        assert result.exit_code == 2 and "newer than this casework" in result.output, result.output
    assert filled.read_bytes() == before


def _store_at(db: Path, revision: str) -> None:
    """A SQLite store made by the casework whose newest migration was *revision*."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    config = Config()
    config.set_main_option("script_location", str(Path(store_module.__file__).parent / "migrations"))
    with create_engine(f"sqlite:///{db}").connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.commit()


def test_a_store_at_an_older_revision_asks_for_init_before_writing(tmp_path):
    """A store made before principals were kept refuses writes until `casework init` upgrades it; its entries,
    hashed without a principal, still verify, and new ones carry one."""
    db = tmp_path / "old.db"
    _store_at(db, "0003")
    row = {"id": "tm", "name": "T", "roles": ["team_manager"], "team": "A", "registration": "SW1",
           "registered_until": None, "pcf_level": None, "training": [], "updated_at": "2025-03-03T09:00:00+00:00"}
    [entry] = audit_module.chain_rows("staff", [{"recorded_at": row["updated_at"], "at": row["updated_at"],
                                                 "actor": "admin", "action": "staff", "event": "add", "payload": row}])
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO staff (id, name, roles, team, registration, training, updated_at) "
                     "VALUES ('tm', 'T', '[\"team_manager\"]', 'A', 'SW1', '[]', ?)", (row["updated_at"],))
        entry.pop("principal")
        conn.execute(f"INSERT INTO audit ({', '.join(entry)}) VALUES ({', '.join('?' * len(entry))})",
                     list(entry.values()))
    result = _cli(db, "case", "open", "F-2", "--policy", "national", "--team", "A", "--as", "tm")
    assert result.exit_code == 2 and "casework init" in result.output
    assert _cli(db, "init").exit_code == 0
    assert _cli(db, "case", "open", "F-2", "--policy", "national", "--team", "A", "--as", "tm").exit_code == 0
    verified = _cli(db, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    with sqlite3.connect(db) as conn:
        principals = dict(conn.execute("SELECT chain, principal FROM audit"))
    assert principals["staff"] is None and principals["case:F-2"].startswith("os-user:")


@pytest.mark.parametrize("damage", ["header", "truncated"])
def test_a_damaged_sqlite_file_takes_no_write_and_fails_verify(filled, damage):
    """An overwritten header or a truncated file: a write is exit 2 before anything lands; verify reports it."""
    data = filled.read_bytes()
    filled.write_bytes(b"\0" * 100 + data[100:] if damage == "header" else data[: len(data) // 2])
    before = filled.read_bytes()
    result = _cli(filled, "case", "open", "F-2", "--policy", "national", "--team", "A", "--as", "tm")
    assert result.exit_code == 2 and "damaged" in result.output, result.output
    assert filled.read_bytes() == before
    verified = _cli(filled, "audit", "verify")
    assert verified.exit_code != 0 and "damaged" in verified.output and "Traceback" not in verified.output


def test_a_missing_required_value_is_bad_input_not_already_exists(sqlite_cw):
    """A row the store refuses for a missing value is exit 2 ('missing or invalid'), never 'already exists' (3)."""
    service.add_staff(sqlite_cw, "tm", "T", ["team_manager"], registration="SW1")
    with pytest.raises(BadInput) as bad:
        service.open_case(sqlite_cw, "C-1", "national", None, "tm")  # type: ignore[arg-type]
    assert "missing or invalid" in str(bad.value) and bad.value.exit_code == 2
    assert service.list_cases(sqlite_cw) == []


def test_a_lead_whose_registration_lapses_on_the_cp_path_is_flagged(sqlite_cw, clock):
    """No one acts, yet `due` and `case show` list the CP case for reallocation from the day after the lapse (WT-5)."""
    cw = sqlite_cw
    add_standard_staff(cw)
    service.add_staff(cw, "sw_until", "Until", ["social_worker"], team=TEAM, registration="SW900099",
                      registered_until=date(2025, 3, 10), actor="tm")
    case_in_cin_plan(cw, "C-1")
    service.allocate(cw, "C-1", "sw_until", "tm")
    service.move_case(cw, "C-1", "escalate_to_strategy", "sw_until", reason="Injury seen at nursery")
    assert not [i for i in due_items(cw, date(2025, 3, 10)) if i.name == "cp_lead_not_registered"]
    [flag] = [i for i in due_items(cw, date(2025, 3, 12), overdue_only=True) if i.name == "cp_lead_not_registered"]
    assert flag.case_id == "C-1" and flag.rules == ("WT-5",) and flag.due == date(2025, 3, 11) and flag.overdue
    assert "registered social worker" in flag.title and "team manager" in flag.who
    clock.now = clock.now.replace(day=12)
    shown = service.show_case(cw, "C-1")
    assert any(d["deadline"] == "cp_lead_not_registered" and d["overdue"] for d in shown["due"])
    service.allocate(cw, "C-1", "sw", "tm")
    assert not [i for i in due_items(cw, date(2025, 3, 12)) if i.name == "cp_lead_not_registered"]
