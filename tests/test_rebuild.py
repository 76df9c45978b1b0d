"""`audit rebuild` (issue 12): the tables the guards read are put back to what the audit chains say, and only
from chains that verify.

The stores are real SQLite files and real PostgreSQL databases; the tables are edited directly, as an
insider with a database client would (the attacks of test_tamper, all at once).
"""
from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest
from sqlalchemy import delete, update

from casework.store import audit, records
from casework.store.schema import audit as audit_table, cases, markers
from casework.store.tables import GUARDED
from casework.workflow import identity, service
from casework.errors import AuditBroken, StoreNotReady
from casework.workflow.rebuilding import REBUILD_CHAIN, rebuild_projections

from .helpers import add_standard_staff, case_in_assessment, case_in_cin_plan, hand_to_ccw
from .test_pg_roles import app_store  # noqa: F401 - the fixture: an owner and an application role
from .test_tamper import ATTACKS

#: facts and allocations are numbered by the store; a rebuild may number them anew
_NUMBERED = ("facts", "allocations")


def _tables(cw) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every guarded table, whole (but for the numbering of facts and allocations), sorted."""
    with cw.store.read() as conn:
        return {name: sorted((tuple(sorted((k, v) for k, v in row.items() if not (k == "id" and name in _NUMBERED)))
                              for row in records.rows_of(conn, name)), key=repr) for name in GUARDED}


def _log(cw) -> list[dict[str, Any]]:
    with cw.store.read() as conn:
        return list(audit.all_entries(conn))


def _cases_with_history(cw, clock) -> None:
    """Two cases with moves, facts and allocations, and staff changed after being added, each step a few
    minutes after the last."""
    add_standard_staff(cw)
    clock.advance(minutes=5)
    case_in_cin_plan(cw, "C-1")
    clock.advance(minutes=5)
    hand_to_ccw(cw, "C-1")
    clock.advance(minutes=5)
    case_in_assessment(cw, "C-2", lead="sw2")
    clock.advance(minutes=5)
    service.record_fact(cw, "C-2", "home_visit", "sw2", with_staff=["sw"], note="seen alone")
    service.update_staff(cw, "sw2", "sm", login="sam2")  # staff events after 'add': the last one is the row
    service.leave_staff(cw, "student", "tm")


def _tamper_every_table(conn) -> None:
    for change, _table in ATTACKS.values():
        change(conn)
    conn.execute(delete(markers).where(markers.c.case_id == "C-2", markers.c.marker == "event:allocate"))


def test_a_rebuild_puts_every_edited_table_back_as_the_chains_say(cw, clock):
    """Cases, staff, facts, allocations, markers and settings edited directly are rebuilt whole, verify is
    clean again, the case shows where it stood, and the rebuild that put rows right is itself audited (WT-7)."""
    _cases_with_history(cw, clock)
    before, shown = _tables(cw), service.show_case(cw, "C-1")
    with cw.store.write() as conn:
        _tamper_every_table(conn)
    assert not service.verify_audit(cw).ok and _tables(cw) != before
    clock.advance(minutes=5)

    done = rebuild_projections(cw)

    assert service.verify_audit(cw).ok
    assert _tables(cw) == before
    assert service.show_case(cw, "C-1") == shown
    assert done.tables["cases"] == {"rows": 2, "restored": 0, "removed": 0, "corrected": 1}
    assert done.tables["staff"]["corrected"] == 1 and done.tables["staff"]["removed"] == 1  # ccw; fake_tm
    assert done.tables["facts"]["restored"] == 1 and done.tables["facts"]["removed"] == 1
    assert done.tables["markers"]["restored"] == 1 and done.tables["markers"]["corrected"] == 1
    assert done.tables["settings"]["removed"] == 2  # the forged sandbox setting and the team declared behind casework
    assert any("fake_tm" in reason for reason in done.found)
    [entry] = [e for e in _log(cw) if e["chain"] == REBUILD_CHAIN]
    assert entry["payload"]["tables"] == done.tables and entry["payload"]["found"] == list(done.found)

    again = rebuild_projections(cw)
    assert again.changed == 0 and _tables(cw) == before
    assert [e["chain"] for e in _log(cw)].count(REBUILD_CHAIN) == 1  # nothing put right, nothing recorded


def test_a_dry_run_reports_and_writes_nothing(cw, clock):
    """--dry-run counts what a rebuild would put right, and leaves the tables and the log as they are."""
    _cases_with_history(cw, clock)
    with cw.store.write() as conn:
        conn.execute(update(cases).where(cases.c.id == "C-2").values(state="closed"))
    tampered, log = _tables(cw), _log(cw)
    done = rebuild_projections(cw, dry_run=True)
    assert not done.written and done.changed == 1 and done.tables["cases"]["corrected"] == 1
    assert _tables(cw) == tampered and _log(cw) == log


def test_a_broken_chain_refuses_the_rebuild_and_changes_nothing(cw, clock):
    """A rebuild from a log that does not verify would launder the edit: it is refused, naming each broken
    chain, and neither the tables nor the log change. A case whose version is below its chain's count of
    changes is what a chain cut short looks like, and is refused too."""
    _cases_with_history(cw, clock)
    with cw.store.write() as conn:
        conn.execute(update(cases).where(cases.c.id == "C-1").values(state="cp_plan", version=cases.c.version - 1))
        conn.execute(update(audit_table).where(audit_table.c.chain == "case:C-2", audit_table.c.seq == 2)
                     .values(actor="sw"))
    tampered, log = _tables(cw), _log(cw)
    with pytest.raises(AuditBroken, match="2 chain.*case:C-1, case:C-2") as refused:
        rebuild_projections(cw)
    assert sorted(b.chain for b in refused.value.broken) == ["case:C-1", "case:C-2"]
    assert refused.value.exit_code == 1
    assert _tables(cw) == tampered and _log(cw) == log


def test_staff_rows_come_from_the_last_staff_entry_of_each_person(cw, clock):
    """A staff row is the payload of that person's last staff entry, whatever the event, with the time it was
    recorded; a column the payload does not name is empty (entries written before it existed)."""
    add_standard_staff(cw)
    clock.advance(minutes=5)
    now = clock().isoformat(timespec="microseconds")
    row = {"id": "sw", "name": "Sam Renamed", "roles": ["advanced_social_worker"], "team": "Erewash",
           "registration": "SW900004", "training": ["s47"]}  # no registered_until, no pcf_level
    with cw.store.write() as conn:
        audit.append(conn, "staff", recorded_at=now, at=now, actor="tm", action="staff", event="update",
                     principal=identity.running(conn), payload=row)
    rebuild_projections(cw)
    assert service.verify_audit(cw).ok
    with cw.store.read() as conn:
        stored = records.get_staff(conn, "sw")
    assert stored["name"] == "Sam Renamed" and stored["roles"] == ["advanced_social_worker"]
    assert stored["pcf_level"] is None and stored["registered_until"] is None and stored["updated_at"] == now


@pytest.mark.postgres
def test_the_application_role_cannot_rebuild_and_the_owner_can(app_store):  # noqa: F811 - the fixture
    """On PostgreSQL a rebuild is the owner's: the application role is refused before anything is written,
    with a message that says which role to use; the owner's rebuild then mends the tables."""
    owner, app, _ = app_store
    with owner.store.write() as conn:
        conn.execute(update(cases).where(cases.c.id == "C-1").values(state="cp_plan"))
    tampered, log = _tables(owner), _log(owner)
    with pytest.raises(StoreNotReady, match="permission denied.*role that owns the tables"):
        rebuild_projections(app)
    assert _tables(owner) == tampered and _log(owner) == log
    assert rebuild_projections(owner).tables["cases"]["corrected"] == 1
    assert service.verify_audit(app).ok


def test_the_command_rebuilds_and_refuses_with_exit_codes(cli_run, tmp_path):
    """`casework audit rebuild`: exit 0 and a summary after putting rows right; --dry-run and --json; exit 1
    with the broken chains (JSON on stdout, the reason on stderr) when the log does not verify."""
    cli_run("staff", "add", "tm", "--name", "T", "--role", "team_manager", "--registered", "SW1")
    cli_run("case", "open", "C-1", "--policy", "national", "--team", "A", "--as", "tm")
    db = sqlite3.connect(tmp_path / "cli.db")
    with db:
        db.execute("UPDATE cases SET state = 'cp_plan'")
    assert cli_run("audit", "verify", ok=False).exit_code == 1
    dry = json.loads(cli_run("audit", "rebuild", "--dry-run", "--json").stdout)
    assert dry["written"] is False and dry["changed"] == 1 and "cp_plan" in dry["found"][0]
    done = cli_run("audit", "rebuild")
    assert "1 rows put right" in done.stdout and "Recorded on the audit chain 'rebuild'" in done.stdout
    assert cli_run("audit", "verify").exit_code == 0
    with db:
        db.execute("UPDATE audit SET actor = 'someone' WHERE chain = 'case:C-1'")
    db.close()
    refused = cli_run("audit", "rebuild", "--json", ok=False)
    assert refused.exit_code == 1 and "case:C-1" in refused.stderr and "Nothing was written" in refused.stderr
    assert json.loads(refused.stdout)["broken"][0]["chain"] == "case:C-1"
