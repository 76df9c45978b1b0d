"""The store's driver path: named statements compiled ahead of time, and SQLite's one held writer.

Both exist for speed (benchmarks/engine.py); these tests prove they change nothing a
user relies on: rows read as SQLAlchemy's would, errors are translated as before, a failed
unit of work leaves nothing and the writer keeps working, writers of one process still
all get through, and the shipped SQL is what SQLAlchemy compiles today.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, DateTime, MetaData, String, Table, bindparam, select

from casework.store import audit, link, records, statements
from casework.store.schema import cases
from tests.helpers import add_standard_staff, case_in_cin_plan
from tests.test_store_contract import snapshot
from casework.workflow import service
from casework.workflow.identity import running
from casework.errors import ConcurrentUpdate

_OTHER = MetaData()
_STAMPED = Table("stamped", _OTHER, Column("id", String, primary_key=True), Column("at", DateTime))


@pytest.fixture
def ready(cw):
    add_standard_staff(cw)
    case_in_cin_plan(cw, "C-1")
    return cw


def test_the_shipped_sql_is_what_sqlalchemy_compiles_from_the_statements_today():
    """store/compiled_sql.json cannot drift from store/statements.py or the schema: regenerate it with
    'python -m casework.store.statements' after changing either."""
    shipped = (Path(statements.__file__).parent / "compiled_sql.json").read_text(encoding="utf-8")
    assert shipped == statements.catalogue_source()
    assert link.FINGERPRINT == statements.fingerprint()
    assert set(link.CATALOGUE["postgresql"]) == set(statements.EVERYDAY)


def test_a_statement_that_needs_sqlalchemy_at_execution_is_refused(sqlite_cw):
    """A column converted on the way out (a DateTime) would read differently on the driver: refused."""
    with sqlite_cw.store.read() as conn:
        with pytest.raises(TypeError, match="needs SQLAlchemy"):
            conn.execute(select(_STAMPED).where(_STAMPED.c.id == bindparam("b_id")), {"b_id": "x"})


def test_a_missing_parameter_is_named(ready):
    with ready.store.read() as conn:
        with pytest.raises(TypeError, match="b_id"):
            conn.execute("get_case", {})


def test_rows_read_by_column_name_and_as_mappings(ready):
    """The same row SQLAlchemy would give, on SQLite and PostgreSQL."""
    with ready.store.read() as conn:
        row = conn.execute("get_case", {"b_id": "C-1"}).first()
        assert (row.id, row.state, row.version) == ("C-1", "cin_plan", 5)
        assert row._mapping["policy"] == "national" and row[0] == "C-1"
        assert conn.execute("get_case", {"b_id": "C-404"}).first() is None
        with pytest.raises(AttributeError):
            _ = row.no_such_column


def test_lists_expand_on_the_driver_and_what_it_cannot_take_falls_back_to_sqlalchemy(ready):
    """An IN list of names is expanded by the store; an empty one and one of pairs are rendered by SQLAlchemy,
    and every form gives the rows a plain query would."""
    case_in_cin_plan(ready, "C-2")
    with ready.store.read() as conn:
        assert set(records.staff_by_ids(conn, ["sw", "tm", "nobody"])) == {"sw", "tm"}
        assert [r["id"] for r in records.list_cases(conn, states=["cin_plan"])] == ["C-1", "C-2"]
        assert records.list_cases(conn, states=[]) == []
        assert [r.id for r in conn.execute("list_cases(states)", {"b_states": []})] == []
        assert [r["id"] for r in records.list_cases(conn, state="cin_plan", team="Erewash")] == ["C-1", "C-2"]
        heads = audit.heads(conn)
        wanted = [("case:C-1", heads["case:C-1"][0]), ("case:C-2", 1), ("case:C-404", 1)]
        found = audit.hash_at(conn, wanted)
        assert set(found) == {("case:C-1", heads["case:C-1"][0]), ("case:C-2", 1)}
        assert found[("case:C-1", heads["case:C-1"][0])] == heads["case:C-1"][1]
        assert records.count_held(conn, "sw", ["cin_plan"]) == 2
        assert records.count_held(conn, "sw", ["cin_plan"], excluding="C-1") == 1
        assert records.held_counts(conn, ["cin_plan"]) == {"sw": 2}


def test_a_statement_outside_the_catalogue_is_compiled_on_first_use(ready):
    """A variant no everyday command runs (three filters at once) still runs, compiled by SQLAlchemy."""
    key = "list_cases(state,states,team)"
    assert key not in link.CATALOGUE["sqlite"]
    with ready.store.read() as conn:
        rows = conn.execute(key, {"b_state": "cin_plan", "b_states": ["cin_plan", "closed"], "b_team": "Erewash"})
        assert [r.id for r in rows] == ["C-1"]


def test_a_driver_error_on_the_prepared_path_is_translated_and_leaves_nothing(ready):
    """An audit entry appended at a head another writer took fails on the chain's key: ConcurrentUpdate, no trace."""
    before = snapshot(ready)
    with pytest.raises(ConcurrentUpdate, match="nothing was written"):
        with ready.store.write() as conn:
            audit.append(conn, "case:C-1", (3, "0" * 64), recorded_at="2025-03-03T09:00:00.000000+00:00",
                         at="2025-03-03T09:00:00.000000+00:00", actor="sw", action="fact", case_id="C-1",
                         principal=running(conn))
    assert snapshot(ready) == before
    assert service.verify_audit(ready).ok


def test_the_sqlite_writer_is_kept_and_survives_a_failed_unit_of_work(sqlite_cw):
    """One driver connection serves every unit of work; a failure rolls back and the next write works."""
    add_standard_staff(sqlite_cw)
    with sqlite_cw.store.write() as conn:
        first = conn.connection
    before = snapshot(sqlite_cw)
    with pytest.raises(RuntimeError):
        with sqlite_cw.store.write() as conn:
            conn.execute(cases.insert(), {"id": "C-9", "policy": "national", "team": "E", "state": "referral",
                                          "version": 1, "opened_at": "x", "state_entered_at": "x",
                                          "updated_at": "x"})
            raise RuntimeError("the service failed half-way")
    assert snapshot(sqlite_cw) == before
    case_in_cin_plan(sqlite_cw, "C-1")
    with sqlite_cw.store.write() as conn:
        assert conn.connection is first
    assert service.show_case(sqlite_cw, "C-1")["state"] == "cin_plan"


def test_after_dispose_the_store_opens_a_new_writer(sqlite_cw):
    add_standard_staff(sqlite_cw)
    with sqlite_cw.store.write() as conn:
        first = conn.connection
    sqlite_cw.store.dispose()
    case_in_cin_plan(sqlite_cw, "C-1")
    with sqlite_cw.store.write() as conn:
        assert conn.connection is not first
    assert service.show_case(sqlite_cw, "C-1")["version"] == 5


def test_many_writers_of_one_process_all_get_through(ready):
    """Six threads record facts on six cases at once, three rounds: every write lands, every chain verifies."""
    from tests.test_store_contract import _race

    ids = [f"C-{i}" for i in range(2, 8)]
    for cid in ids:
        case_in_cin_plan(ready, cid)
    for _ in range(3):
        outcomes = _race([lambda cid=cid: service.record_fact(ready, cid, "home_visit", "sw") for cid in ids])
        assert all(isinstance(o, service.MoveResult) for o in outcomes), outcomes
    assert {service.show_case(ready, cid)["version"] for cid in ids} == {8}
    assert service.verify_audit(ready).ok
