"""Identity from authentication, not --as (issue 12): two database logins on a real PostgreSQL server, one
cannot act as the other; a service vouches for a verified token through the same check; a personal SQLite
store records the operating-system user."""
from __future__ import annotations

from urllib.parse import urlsplit
import getpass

import psycopg
import pytest
from click.testing import CliRunner

from casework.cli.main import cli
from casework.store import audit
from casework.workflow import service
from casework.errors import IdentityRefused, TransitionRefused
from casework.workflow.identity import Principal
from casework.workflow.workspace import open_casework

from .helpers import TEAM, add_standard_staff, case_in_cin_plan


def _login(postgres_server, name: str) -> None:
    """A login role that may use casework (a member of the application role), made once per server."""
    postgres_server.admin(f"DO $$ BEGIN CREATE ROLE {name} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    postgres_server.admin(f"GRANT casework_app TO {name}")


def _as(url: str, postgres_server, login: str, clock):
    return open_casework(url.replace(f"//{postgres_server.role}@", f"//{login}@"), clock=clock)


@pytest.fixture
def shared(fresh_postgres_url, postgres_server, clock):
    """A shared store (login authentication, the default on PostgreSQL) set up by its owner: standard staff,
    case C-1 on a CIN plan, 'alice' mapped to social worker sw, 'bob' to team manager tm; 'carol' mapped to
    nobody; 'casework_api' a service login trusted to vouch for the people it names."""
    owner = open_casework(fresh_postgres_url, clock=clock)
    service.init_store(owner, app_role="casework_app", service_logins=["casework_api"])
    for login in ("alice", "bob", "carol", "casework_api"):
        _login(postgres_server, login)
    add_standard_staff(owner)
    service.update_staff(owner, "sw", "sm", login="alice")
    service.update_staff(owner, "tm", "sm", login="bob")
    case_in_cin_plan(owner, "C-1")
    people = {login: _as(fresh_postgres_url, postgres_server, login, clock)
              for login in ("alice", "bob", "carol", "casework_api")}
    yield owner, people
    for cw in (owner, *people.values()):
        cw.store.dispose()


def _access(cw) -> list[dict]:
    with cw.store.read() as conn:
        return audit.entries(conn, "access")


@pytest.mark.postgres
def test_a_login_acts_as_its_person_and_never_as_another(shared):
    """alice (sw) records a visit; as tm she is refused with exit 2, the case is untouched and the attempt is on
    the access chain with her principal; bob acts as tm (WT-7)."""
    owner, people = shared
    alice, bob = people["alice"], people["bob"]
    service.record_fact(alice, "C-1", "home_visit", "sw")
    version = service.show_case(owner, "C-1")["version"]
    with pytest.raises(IdentityRefused) as refused:
        service.allocate(alice, "C-1", "sw2", "tm")
    assert refused.value.exit_code == 2 and "'sw'" in str(refused.value) and "'tm'" in str(refused.value)
    assert service.show_case(owner, "C-1")["version"] == version
    [attempt] = _access(owner)
    assert (attempt["actor"], attempt["principal"], attempt["event"]) == ("tm", "database-login:alice", "allocate")
    service.allocate(bob, "C-1", "sw2", "tm")
    history = service.case_history(owner, "C-1")
    assert [(e["actor"], e["principal"]) for e in history[-2:]] == [("sw", "database-login:alice"),
                                                                   ("tm", "database-login:bob")]
    assert all(e["principal"] == f"database-login:{urlsplit(owner.store.url).username}" for e in history[:-2])
    assert service.verify_audit(owner).ok


@pytest.mark.postgres
def test_a_login_mapped_to_nobody_cannot_act_at_all(shared):
    """carol has a login but is no staff member: every action is refused (exit 2) and audited; nothing else lands."""
    owner, people = shared
    with pytest.raises(IdentityRefused, match="mapped to no staff member"):
        service.open_case(people["carol"], "C-9", "national", TEAM, "tm")
    with pytest.raises(IdentityRefused):
        service.add_staff(people["carol"], "carol", "Carol", ["team_manager"], registration="SW77", actor="sm")
    assert [c["id"] for c in service.list_cases(owner)] == ["C-1"]
    assert "carol" not in {p.id for p in service.list_staff(owner)}
    assert [e["principal"] for e in _access(owner)] == ["database-login:carol"] * 2


@pytest.mark.postgres
def test_the_cli_on_a_shared_store_refuses_a_borrowed_identity(shared, fresh_postgres_url, postgres_server):
    """Through the real CLI: alice's --as tm exits 2 and says why; her own --as sw works."""
    url = fresh_postgres_url.replace(f"//{postgres_server.role}@", "//alice@").replace("+psycopg", "")
    runner = CliRunner()
    borrowed = runner.invoke(cli, ["--db", url, "case", "move", "C-1", "hold_cin_review", "--as", "tm"])
    assert borrowed.exit_code == 2 and "cannot act as 'tm'" in borrowed.output, borrowed.output
    own = runner.invoke(cli, ["--db", url, "case", "record", "C-1", "home_visit", "--as", "sw"])
    assert own.exit_code == 0, own.output


@pytest.mark.postgres
def test_a_service_passes_a_verified_token_through_the_same_check(shared):
    """The trusted service login records the token's subject beside its own login; a token bound to sw cannot act
    as tm; a person's own login cannot pass tokens at all."""
    owner, people = shared
    api = people["casework_api"]
    api.principal = Principal.token("sam.okafor@la.example", "sw")
    service.record_fact(api, "C-1", "home_visit", "sw")
    entry = service.case_history(owner, "C-1")[-1]
    assert entry["principal"] == "token:sam.okafor@la.example via database-login:casework_api"
    with pytest.raises(IdentityRefused, match="cannot act as 'tm'"):
        service.move_case(api, "C-1", "close", "tm", reason="Needs met")
    alice = people["alice"]
    alice.principal = Principal.token("someone@la.example", "tm")
    with pytest.raises(IdentityRefused, match="not a service the store trusts"):
        service.move_case(alice, "C-1", "close", "tm", reason="Needs met")
    assert [e["principal"] for e in _access(owner)] == [
        "token:sam.okafor@la.example via database-login:casework_api", "database-login:alice"]


@pytest.mark.postgres
def test_a_forged_principal_breaks_the_chain_and_logins_cannot_rewrite_it(shared, fresh_postgres_url,
                                                                          postgres_server):
    """The principal is hashed: the owner blanking or changing it shows in verify; alice's login cannot UPDATE or
    DELETE audit rows at all."""
    owner, people = shared
    service.record_fact(people["alice"], "C-1", "home_visit", "sw")
    raw = fresh_postgres_url.replace("postgresql+psycopg://", "postgresql://")
    alice_raw = raw.replace(f"//{postgres_server.role}@", "//alice@")
    for sql in ("UPDATE audit SET principal = 'database-login:bob' WHERE principal = 'database-login:alice'",
                "DELETE FROM audit WHERE chain = 'access'"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), psycopg.connect(alice_raw) as conn:
            conn.execute(sql)
    with psycopg.connect(raw) as conn:
        conn.execute("UPDATE audit SET principal = NULL WHERE principal = 'database-login:alice'")
    report = service.verify_audit(owner)
    assert not report.ok and [b.chain for b in report.broken] == ["case:C-1"]
    assert "does not match its hash" in report.broken[0].reason


@pytest.mark.postgres
def test_only_a_service_manager_maps_a_login_and_nobody_maps_their_own(shared):
    """Mapping a login lets it act as the person: a team manager may not (WT-7), nor sm for themselves."""
    from casework.errors import StaffChangeRefused

    owner, _ = shared
    with pytest.raises(StaffChangeRefused) as refused:
        service.update_staff(owner, "sw2", "tm", login="carol")
    assert [u.kind for u in refused.value.verdict.unmet] == ["staff_login"]
    with pytest.raises(StaffChangeRefused) as own:
        service.update_staff(owner, "sm", "sm", login="carol")
    assert [u.kind for u in own.value.verdict.unmet] == ["staff_self"]
    from casework.errors import AlreadyExists
    with pytest.raises(AlreadyExists):
        service.update_staff(owner, "sw2", "sm", login="alice")


def test_a_personal_store_records_the_operating_system_user(sqlite_cw):
    """On SQLite (declared authentication) --as names the actor; the principal is whoever runs casework."""
    add_standard_staff(sqlite_cw)
    case_in_cin_plan(sqlite_cw, "C-1")
    with pytest.raises(TransitionRefused):
        service.move_case(sqlite_cw, "C-1", "escalate_to_strategy", "ccw", reason="Bruise")
    history = service.case_history(sqlite_cw, "C-1")
    assert {e["principal"] for e in history} == {f"os-user:{getpass.getuser()}"}
    with sqlite_cw.store.read() as conn:
        [setting] = audit.entries(conn, "settings")
    assert setting["payload"] == {"key": "authentication", "value": "declared"}


def test_a_personal_store_cannot_claim_login_authentication(sqlite_cw):
    """A SQLite file has no logins to map: 'init --authentication login' is bad input and changes nothing."""
    from casework.errors import BadInput

    with pytest.raises(BadInput, match="no database logins"):
        service.init_store(sqlite_cw, authentication="login")
    with sqlite_cw.store.read() as conn:
        assert [e["payload"]["value"] for e in audit.entries(conn, "settings")] == ["declared"]


@pytest.mark.postgres
def test_a_login_cannot_append_an_entry_in_another_logins_name(shared, fresh_postgres_url, postgres_server):
    """alice may INSERT audit entries (casework's application role does), but the server refuses one whose principal
    is not her own login, even with a correct hash."""
    owner, _ = shared
    raw = fresh_postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with owner.store.read() as conn:
        head = audit.entries(conn, "case:C-1")[-1]
    fields = {k: head[k] for k in ("recorded_at", "at", "case_id", "policy", "policy_version")}
    [forged] = audit.chain_rows("case:C-1", [{**fields, "actor": "tm", "action": "move", "event": "close",
                                             "from_state": "cin_plan", "to_state": "closed",
                                             "principal": "database-login:bob", "payload": {}}],
                                head["seq"], head["hash"])
    columns = ", ".join(forged)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="this session's login"), \
            psycopg.connect(raw.replace(f"//{postgres_server.role}@", "//alice@")) as conn:
        conn.execute(f"INSERT INTO audit ({columns}) VALUES ({', '.join(['%s'] * len(forged))})", list(forged.values()))
    assert service.case_history(owner, "C-1")[-1]["seq"] == head["seq"]


@pytest.mark.postgres
def test_an_entry_appended_in_her_own_name_but_as_someone_else_shows_in_verify(shared, fresh_postgres_url,
                                                                              postgres_server):
    """alice, with a copy of casework, appends a consistent staff entry that maps her login to tm, signed with her
    own login (the server allows that) and mends the staff table: the hashes agree, the tables agree, and verify
    still reports the entry, because alice was mapped to sw, not sm, when she wrote it."""
    owner, _ = shared
    raw = fresh_postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with owner.store.read() as conn:
        head = audit.entries(conn, "staff")[-1]
        tm = next(e for e in reversed(audit.entries(conn, "staff")) if e["payload"].get("id") == "tm")
        sw = next(e for e in reversed(audit.entries(conn, "staff")) if e["payload"].get("id") == "sw")
    rows = audit.chain_rows("staff", [
        {"recorded_at": head["recorded_at"], "at": head["at"], "actor": "sm", "action": "staff", "event": "login",
         "principal": "database-login:alice", "payload": {**sw["payload"], "login": None}},
        {"recorded_at": head["recorded_at"], "at": head["at"], "actor": "sm", "action": "staff", "event": "login",
         "principal": "database-login:alice", "payload": {**tm["payload"], "login": "alice"}}],
        head["seq"], head["hash"])
    with psycopg.connect(raw.replace(f"//{postgres_server.role}@", "//alice@")) as conn:
        for row in rows:
            conn.execute(f"INSERT INTO audit ({', '.join(row)}) VALUES ({', '.join(['%s'] * len(row))})",
                         list(row.values()))
        conn.execute("UPDATE staff SET login = NULL WHERE id = 'sw'")
        conn.execute("UPDATE staff SET login = 'alice' WHERE id = 'tm'")
    report = service.verify_audit(owner)
    assert not report.ok
    wrong = [b for b in report.broken if "not its actor's" in b.reason]
    assert [(b.chain, b.seq) for b in wrong] == [("staff", head["seq"] + 1), ("staff", head["seq"] + 2)]
    assert "database-login:alice acted as 'sm' but was mapped to sw" in wrong[0].reason
    assert "mapped to sw" in wrong[1].reason  # a forged entry teaches nothing: she is still sw's login


def _append_as_alice(owner, fresh_postgres_url, postgres_server, chain: str, fields: dict, sql: str = "") -> None:
    """alice, with a copy of casework, appends a hash-consistent entry in her own name, and mends a table."""
    raw = fresh_postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with owner.store.read() as conn:
        head = audit.entries(conn, chain)[-1]
    [row] = audit.chain_rows(chain, [{"recorded_at": head["recorded_at"], "at": head["at"],
                                      "principal": "database-login:alice", **fields}], head["seq"], head["hash"])
    with psycopg.connect(raw.replace(f"//{postgres_server.role}@", "//alice@")) as conn:
        conn.execute(f"INSERT INTO audit ({', '.join(row)}) VALUES ({', '.join(['%s'] * len(row))})",
                     list(row.values()))
        if sql:
            conn.execute(sql)


@pytest.mark.postgres
def test_a_self_promotion_in_her_own_name_shows_in_verify(shared, fresh_postgres_url, postgres_server):
    """alice (sw) appends, as herself, a staff entry making sw a head of service and mends the staff row: her
    principal is hers, but the staff protocol never let anyone promote themselves, and verify says so (WT-7)."""
    owner, _ = shared
    with owner.store.read() as conn:
        sw = next(e for e in reversed(audit.entries(conn, "staff")) if e["payload"].get("id") == "sw")
    _append_as_alice(owner, fresh_postgres_url, postgres_server, "staff",
                     {"actor": "sw", "action": "staff", "event": "roles",
                      "payload": {**sw["payload"], "roles": ["head_of_service", "social_worker"]}},
                     "UPDATE staff SET roles = '[\"head_of_service\", \"social_worker\"]' WHERE id = 'sw'")
    wrong = [b for b in service.verify_audit(owner).broken if "staff protocol refuses" in b.reason]
    assert len(wrong) == 1 and "their own roles" in wrong[0].reason


@pytest.mark.postgres
def test_a_setting_appended_by_a_login_is_reported_and_never_rebuilt(shared, fresh_postgres_url, postgres_server):
    """alice appends 'service_login:alice' to the settings chain (her table privileges stop the row itself): verify
    reports the entry as not the owner's, and audit rebuild refuses rather than make her a trusted service."""
    from casework.errors import AuditBroken
    from casework.workflow.rebuilding import rebuild_projections

    owner, people = shared
    _append_as_alice(owner, fresh_postgres_url, postgres_server, "settings",
                     {"actor": "(casework init)", "action": "setting", "event": "service_login",
                      "payload": {"key": "service_login:alice", "value": "true"}})
    reasons = " ".join(b.reason for b in service.verify_audit(owner).broken)
    assert "only the store's owner" in reasons
    with pytest.raises(AuditBroken):
        rebuild_projections(owner)
    people["alice"].principal = Principal.token("x", "sm")
    with pytest.raises(IdentityRefused):
        service.add_staff(people["alice"], "hos2", "H", ["head_of_service"], registration="SW99", actor="sm")
