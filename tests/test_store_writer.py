"""The write path a move takes: prepared statements on the driver, and SQLite's one held writer.

Both exist for speed (benchmarks/engine.py); these tests prove they change nothing a
user relies on: errors are translated as before, a failed unit of work leaves nothing
and the writer keeps working, and writers of one process still all get through.
"""
from __future__ import annotations


import pytest
from sqlalchemy import Column, DateTime, MetaData, String, Table, bindparam, select

from store import audit
from store.prepared import Prepared
from store.schema import cases
from tests.helpers import add_standard_staff, case_in_cin_plan
from tests.test_store_contract import snapshot
from workflow import service
from workflow.identity import running
from workflow.errors import ConcurrentUpdate

_OTHER = MetaData()
_STAMPED = Table("stamped", _OTHER, Column("id", String, primary_key=True), Column("at", DateTime))


@pytest.fixture
def ready(cw):
    add_standard_staff(cw)
    case_in_cin_plan(cw, "C-1")
    return cw


def test_a_prepared_statement_refuses_what_needs_sqlalchemy_at_execution(sqlite_cw):
    """A column converted on the way out, or an IN list, is refused with the way out: conn.execute."""
    with sqlite_cw.store.read() as conn:
        with pytest.raises(TypeError, match="conn.execute"):
            Prepared(select(_STAMPED).where(_STAMPED.c.id == bindparam("b_id"))).first(conn, {"b_id": "x"})
        with pytest.raises(TypeError, match="conn.execute"):
            Prepared(select(cases.c.id).where(cases.c.id.in_(bindparam("ids", expanding=True)))).first(
                conn, {"ids": ["C-1"]})


def test_a_prepared_statement_names_a_missing_parameter(ready):
    with ready.store.read() as conn:
        with pytest.raises(TypeError, match="b_id"):
            Prepared(select(cases.c.state).where(cases.c.id == bindparam("b_id"))).first(conn, {})


def test_a_prepared_query_reads_by_column_name(ready):
    """The same row SQLAlchemy would give, as a mapping, on SQLite and PostgreSQL."""
    query = Prepared(select(cases.c.id, cases.c.state, cases.c.version).where(cases.c.id == bindparam("b_id")))
    with ready.store.read() as conn:
        assert query.first(conn, {"b_id": "C-1"}) == {"id": "C-1", "state": "cin_plan", "version": 5}
        assert query.first(conn, {"b_id": "C-404"}) is None


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
        first = conn.connection.dbapi_connection
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
        assert conn.connection.dbapi_connection is first
    assert service.show_case(sqlite_cw, "C-1")["state"] == "cin_plan"


def test_after_dispose_the_store_opens_a_new_writer(sqlite_cw):
    add_standard_staff(sqlite_cw)
    with sqlite_cw.store.write() as conn:
        first = conn.connection.dbapi_connection
    sqlite_cw.store.dispose()
    case_in_cin_plan(sqlite_cw, "C-1")
    with sqlite_cw.store.write() as conn:
        assert conn.connection.dbapi_connection is not first
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
