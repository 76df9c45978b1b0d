"""Least privilege on PostgreSQL (issue 12): the application role can run casework but never rewrite history."""
from __future__ import annotations

import psycopg
import pytest
from click.testing import CliRunner

from casework.cli.main import cli
from casework.workflow import service
from casework.errors import BadInput
from casework.workflow.workspace import open_casework

from .helpers import add_standard_staff, case_in_cin_plan

pytestmark = pytest.mark.postgres


@pytest.fixture
def app_store(fresh_postgres_url, postgres_server, clock):
    """A store initialised by its owner with an application role 'casework_app', which a service trusted to name
    the person acting connects as, and a case made by that role."""
    owner = open_casework(fresh_postgres_url, clock=clock)
    result = CliRunner().invoke(cli, ["--db", fresh_postgres_url.replace("+psycopg", ""), "init",
                                      "--app-role", "casework_app", "--service-login", "casework_app"])
    assert result.exit_code == 0 and "cannot change or remove audit entries" in result.output, result.output
    app_url = fresh_postgres_url.replace(f"//{postgres_server.role}@", "//casework_app@")
    app = open_casework(app_url, clock=clock)
    add_standard_staff(app)
    case_in_cin_plan(app, "C-1")
    yield owner, app, app_url
    app.store.dispose()
    owner.store.dispose()


def _as_app(app_url: str, sql: str) -> None:
    with psycopg.connect(app_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute(sql)


def test_the_application_role_runs_casework(app_store):
    """Opening, allocating, recording, moving and verifying all work as the application role."""
    _, app, _ = app_store
    service.record_fact(app, "C-1", "home_visit", "sw")
    assert service.move_case(app, "C-1", "hold_cin_review", "sw").case["version"] == 7
    assert service.verify_audit(app).ok


@pytest.mark.parametrize("sql", [
    "UPDATE audit SET actor = 'someone_else'",
    "DELETE FROM audit WHERE chain = 'case:C-1'",
    "TRUNCATE audit",
    "UPDATE facts SET by_id = 'tm'",
    "DELETE FROM allocations",
    "INSERT INTO settings (key, value) VALUES ('sandbox', 'true')",
    "DROP TABLE audit",
])
def test_the_application_role_cannot_rewrite_history(app_store, sql):
    """Changing or removing audit entries, facts or allocations, or making the store a sandbox, is denied (WT-7)."""
    owner, _, app_url = app_store
    before = service.case_history(owner, "C-1")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _as_app(app_url, sql)
    assert service.case_history(owner, "C-1") == before and not service.is_sandbox(owner)


def test_an_application_role_is_for_postgresql_only(sqlite_cw):
    """On SQLite there is no database login to restrict: bad input, not a silent no-op."""
    with pytest.raises(BadInput, match="for PostgreSQL"):
        service.init_store(sqlite_cw, app_role="casework_app")


def test_an_upgrade_grants_the_application_role_what_the_new_tables_need(app_store):
    """A store from revision 0007, before the holders table, upgraded by the owner's `casework init` without
    --app-role: the application role may then allocate (the new table granted to it), while a role that may only
    add audit entries gains nothing and an administrator's role loses nothing; an init that upgrades nothing
    grants nothing."""
    owner, app, app_url = app_store
    owner_url = owner.store.url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(owner_url) as conn:
        for sql in ("DROP TABLE holders", "UPDATE alembic_version SET version_num = '0007'",
                    "CREATE ROLE ingest", "GRANT INSERT ON audit TO ingest",
                    "CREATE ROLE dba", "GRANT ALL ON ALL TABLES IN SCHEMA public TO dba"):
            conn.execute(sql)
    assert owner.store.application_roles() == ["casework_app"]

    def privileges(role: str) -> set[tuple[str, str]]:
        with psycopg.connect(owner_url) as conn:
            return set(conn.execute("SELECT table_name, privilege_type FROM information_schema.role_table_grants "
                                    "WHERE grantee = %s", (role,)).fetchall())

    ingest, dba = privileges("ingest"), privileges("dba")
    result = CliRunner().invoke(cli, ["--db", owner_url, "init"])
    assert result.exit_code == 0, result.output
    service.allocate(app, "C-1", "sw2", "tm", reason="Hand-over")
    assert service.show_case(app, "C-1")["lead"]["id"] == "sw2" and service.verify_audit(app).ok
    assert privileges("ingest") == ingest and privileges("dba") >= dba
    assert {t for t, p in privileges("casework_app") if t == "holders"} == {"holders"}
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _as_app(app_url, "DELETE FROM holders")  # what it is granted there is what the application may do
    with psycopg.connect(owner_url) as conn:
        conn.execute("REVOKE ALL ON holders FROM casework_app")
    assert CliRunner().invoke(cli, ["--db", owner_url, "init"]).exit_code == 0
    assert not {t for t, p in privileges("casework_app") if t == "holders"}  # nothing upgraded, nothing granted
