"""audit verify in one pass, and in parts on several cores (issue 16): the same findings, whatever the split.

verify reads each entry once (hash, replay, principal) and each table once, and splits a large
SQLite file by case between forked processes. Every attack of tests.test_tamper, and breaks of
the chains themselves, must be reported exactly as one pass over the whole store reports them,
with the store split in 2, 3 or 5 parts; an entry whose payload is not casework's (its hashes
recomputed by a forger) is reported, not a crash.
"""
from __future__ import annotations

import json
import sqlite3

import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import delete, update

from casework.store import audit as audit_log
from casework.store.schema import audit, due_dates, markers
from casework.workflow import service
from casework.workflow.verifying import verify_audit

from .helpers import add_standard_staff, case_in_assessment, case_in_cin_plan, hand_to_ccw, rewrite_entry
from .test_tamper import ATTACKS


def _store(cw) -> None:
    """Seven cases at different stages, one with a hand-over to a community care worker."""
    add_standard_staff(cw)
    for n in range(1, 8):
        (case_in_cin_plan if n % 2 else case_in_assessment)(cw, f"C-{n}")
    hand_to_ccw(cw, "C-1")


def _same_in_parts(cw) -> service.AuditReport:
    whole = verify_audit(cw, parts=1)
    for parts in (2, 3, 5):
        assert verify_audit(cw, parts=parts) == whole, parts
    return whole


@pytest.mark.parametrize("attack", ATTACKS)
def test_every_attack_is_reported_the_same_in_parts(sqlite_cw, attack):
    """A direct edit of a guarded table is reported alike by one pass and by 2, 3 and 5 parts (WT-7)."""
    _store(sqlite_cw)
    assert _same_in_parts(sqlite_cw).ok
    change, table = ATTACKS[attack]
    with sqlite_cw.store.write() as conn:
        change(conn)
    report = _same_in_parts(sqlite_cw)
    assert any(b.reason.startswith(f"table {table}: row") for b in report.broken), report.broken


def test_breaks_of_several_chains_and_tables_are_reported_the_same_in_parts(sqlite_cw):
    """Edited entries, a removed entry, edited markers and due dates on cases in different parts, together."""
    _store(sqlite_cw)
    with sqlite_cw.store.write() as conn:
        conn.execute(update(audit).where(audit.c.chain == "case:C-2", audit.c.seq == 2).values(actor="intruder"))
        conn.execute(delete(audit).where(audit.c.chain == "case:C-6", audit.c.seq == 3))
        conn.execute(update(markers).where(markers.c.case_id == "C-4").values(at="2099-01-01T00:00:00.000000+00:00"))
        conn.execute(update(due_dates).where(due_dates.c.case_id == "C-7").values(due_on="2099-01-01"))
        conn.execute(update(audit).where(audit.c.chain == "staff", audit.c.seq == 3).values(actor="intruder"))
    report = _same_in_parts(sqlite_cw)
    chains = {b.chain for b in report.broken}
    assert {"case:C-2", "case:C-6", "case:C-4", "case:C-7", "staff"} <= chains, report.broken
    assert any("kept due dates" in b.reason for b in report.broken if b.chain == "case:C-7")


@settings(max_examples=15, deadline=None)
@given(cases=st.integers(1, 9), parts=st.integers(2, 6), broken=st.sets(st.integers(1, 9), max_size=3))
def test_any_split_finds_what_one_pass_finds(tmp_path_factory, cases, parts, broken):
    """However many cases and parts (more parts than cases, too), the findings are one pass's, entry count too."""
    from casework.workflow.workspace import open_casework

    from .conftest import Clock

    path = tmp_path_factory.mktemp("parts") / "store.db"
    cw = open_casework(f"sqlite:///{path}", clock=Clock())
    try:
        service.init_store(cw)
        add_standard_staff(cw)
        for n in range(1, cases + 1):
            case_in_assessment(cw, f"C-{n}")
        with cw.store.write() as conn:
            for n in broken:
                conn.execute(update(audit).where(audit.c.chain == f"case:C-{n}", audit.c.seq == 1)
                             .values(actor="intruder"))
        whole = verify_audit(cw, parts=1)
        assert verify_audit(cw, parts=parts) == whole
        assert {b.chain for b in whole.broken} == {f"case:C-{n}" for n in broken if n <= cases}
    finally:
        cw.store.dispose()


@pytest.mark.parametrize("payload", ["not an object", ["a", "list"], {"no": "team"}])
def test_an_entry_whose_payload_is_not_caseworks_is_reported_not_a_crash(sqlite_cw, payload):
    """A forger who recomputes the hashes can store any JSON: the pass names the entry instead of failing."""
    _store(sqlite_cw)
    rewrite_entry(sqlite_cw, "case:C-3", 1, payload=payload)
    report = _same_in_parts(sqlite_cw)
    assert any(b.chain == "case:C-3" and b.seq == 1 and "payload is not what casework writes" in b.reason
               for b in report.broken), report.broken


def test_a_staff_entry_whose_payload_is_not_caseworks_is_reported_not_a_crash(sqlite_cw):
    _store(sqlite_cw)
    rewrite_entry(sqlite_cw, "staff", 2, payload=["not", "a", "person"])
    report = _same_in_parts(sqlite_cw)
    assert any(b.chain == "staff" and b.seq == 2 for b in report.broken), report.broken


def test_a_small_store_is_one_part_and_a_split_is_by_case_into_adjoining_parts(sqlite_cw):
    """Below PARALLEL_FROM entries a store is read in one pass; asked for parts, the cases are split evenly."""
    from casework.workflow import verifying

    _store(sqlite_cw)
    assert verifying._spans(sqlite_cw, None) == [(None, None)]
    spans = verifying._spans(sqlite_cw, 3)
    assert spans == [(None, "C-3"), ("C-3", "C-5"), ("C-5", None)]


@given(value=st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                          lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                          max_leaves=12))
def test_the_canonical_text_is_json_dumps_sorted_and_compact(value):
    """The encoder made once (its C core) writes exactly what json.dumps with the log's options writes."""
    assert audit_log.canonical(value) == json.dumps(value, sort_keys=True, separators=(",", ":"),
                                                    ensure_ascii=False, default=str)


@given(text=st.text(max_size=30) | st.builds(audit_log.canonical, st.dictionaries(st.text(max_size=5), st.integers())))
def test_a_payload_is_decoded_as_json_loads_decodes_it(text):
    """The decoder's scanner, called directly for canonical text, agrees with json.loads on any text, even its errors."""
    try:
        expected = json.loads(text)
    except ValueError as exc:
        with pytest.raises(ValueError):
            audit_log.decoded(text)
        assert type(exc) is json.JSONDecodeError
    else:
        assert audit_log.canonical(audit_log.decoded(text)) == audit_log.canonical(expected)  # NaN is not NaN


@pytest.mark.parametrize("where", ["header", "middle", "end"])
def test_a_damaged_file_is_reported_as_damaged_when_read_in_parts(sqlite_cw, sqlite_url, clock, where):
    """SQLite's own check runs beside the parts: its finding is the report, whatever the parts ran into."""
    from casework.workflow.workspace import open_casework

    _store(sqlite_cw)
    sqlite_cw.store.dispose()
    path = sqlite_cw.store.path
    data = bytearray(path.read_bytes())
    page = 4096
    at = {"header": 0, "middle": (len(data) // page // 2) * page, "end": len(data) - page}[where]
    data[at + 16:at + page - 16] = b"\xa5" * (page - 32)
    path.write_bytes(bytes(data))
    cw = open_casework(sqlite_url, clock=clock)
    try:
        report = verify_audit(cw, parts=2)
    finally:
        cw.store.dispose()
    assert not report.ok and report.broken[0].chain == "(store file)", report.broken


# -- entries a forger puts where casework never writes them (found by an adversarial review) --------------------

_FIELDS = ("recorded_at", "at", "actor", "action", "case_id", "event", "from_state", "to_state", "policy",
           "policy_version", "payload", "principal")


def _chain(db: sqlite3.Connection, chain: str) -> list[dict]:
    db.row_factory = sqlite3.Row
    rows = [dict(r) for r in db.execute("SELECT * FROM audit WHERE chain = ? ORDER BY seq", (chain,))]
    db.row_factory = None
    return rows


def _fields(db: sqlite3.Connection, chain: str, seq: int, **changes) -> dict:
    entry = _chain(db, chain)[seq - 1]
    return {**{k: entry[k] for k in _FIELDS}, "payload": json.loads(entry["payload"]), **changes}


def _put(db: sqlite3.Connection, chain: str, fields: list[dict], ids: list[int] | None = None,
         replace: bool = False) -> None:
    """Entries appended to *chain* (or the chain replaced by them), hashes recomputed, as a forger would."""
    old = [] if replace else _chain(db, chain)
    if replace:
        db.execute("DELETE FROM audit WHERE chain = ?", (chain,))
    rows = audit_log.chain_rows(chain, fields, *((old[-1]["seq"], old[-1]["hash"]) if old else ()))
    for n, row in enumerate(rows):
        if ids is not None:
            row["id"] = ids[n]
        db.execute(f"INSERT INTO audit ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))


_MISPLACED = {
    "one case's move on another's chain": lambda db: _put(db, "case:C-7", [_fields(
        db, "case:C-1", 3, case_id="C-1", event="x", to_state="cp_plan")]),
    "a move naming another case": lambda db: _put(db, "case:C-1", [_fields(db, "case:C-1", 3, case_id="C-7")]),
    "a case's move on a chain of no case": lambda db: _put(db, "zzz", [_fields(db, "case:C-1", 3)]),
    "a staff row's entry on a case's chain": lambda db: _put(db, "case:C-3", [_fields(db, "staff", 2, case_id="C-3")]),
    "a staff row's entry on the access chain": lambda db: _put(db, "access", [_fields(db, "staff", 2)]),
    "a setting on a case's chain": lambda db: (db.execute("INSERT INTO settings VALUES ('sandbox', 'true')"), _put(
        db, "case:C-2", [_fields(db, "settings", 1, action="setting", case_id="C-2",
                                 payload={"key": "sandbox", "value": "true"})])),
    "an opening of a case on another's chain": lambda db: _put(db, "case:C-7", [_fields(db, "case:C-2", 1)]),
}


@pytest.mark.parametrize("forgery", _MISPLACED)
def test_an_entry_on_a_chain_casework_never_writes_it_to_is_reported_alike_in_parts(sqlite_cw, forgery):
    """Each change is written only on the chain that accounts for its rows: one elsewhere (hashes recomputed) is
    reported on its chain, in one pass and in parts alike, and is not replayed (no row is said to be missing)."""
    _store(sqlite_cw)
    with sqlite3.connect(sqlite_cw.store.path) as db:
        _MISPLACED[forgery](db)
    report = _same_in_parts(sqlite_cw)
    assert any("casework writes" in b.reason for b in report.broken), report.broken
    assert not any("is missing" in b.reason for b in report.broken), report.broken
    with pytest.raises(Exception, match="does not verify|not verify|broken"):
        from casework.workflow.rebuilding import rebuild_projections
        rebuild_projections(sqlite_cw)  # a rebuild from such a log would make the forgery look accounted for


def _logins(db: sqlite3.Connection, settings_ids: list[int], case_entry_id: int, owner_first: bool = True) -> None:
    """The store's settings rewritten as logins' (the owner 'own' switches to login authentication), and C-2's
    third entry written by a login mapped to nobody, with the ids given."""
    base = _fields(db, "settings", 1)
    owners = [dict(base, payload={"key": "owner_login", "value": "own"}, principal="database-login:own"),
              dict(base, payload={"key": "authentication", "value": "login"}, principal="database-login:own"),
              dict(base, payload={"key": "owner_login", "value": "mallory"}, principal="database-login:mallory")]
    _put(db, "settings", owners[:len(settings_ids)], settings_ids, replace=True)
    db.execute("UPDATE settings SET value = 'login' WHERE key = 'authentication'")
    case = _chain(db, "case:C-2")
    fields = [_fields(db, "case:C-2", e["seq"]) for e in case]
    fields[2]["principal"] = "database-login:nobody"
    _put(db, "case:C-2", fields, [e["id"] for e in case[:2]] + [case_entry_id] + [e["id"] for e in case[3:]],
         replace=True)


@pytest.mark.parametrize("swapped", [False, True])
def test_the_owner_is_the_first_in_the_settings_chain_whatever_the_entry_ids(sqlite_cw, swapped):
    """Entry ids are not hashed: swapping two settings entries' ids must not make a later owner the first one."""
    _store(sqlite_cw)
    with sqlite3.connect(sqlite_cw.store.path) as db:
        _logins(db, [1001, 1000, 1] if swapped else [1, 1000, 1001], 2000)
    report = _same_in_parts(sqlite_cw)
    assert any(b.chain == "case:C-2" and "mapped to nobody" in b.reason for b in report.broken), report.broken
    assert any(b.chain == "settings" and b.seq == 3 and "only the store's owner" in b.reason for b in report.broken)


def test_an_entry_numbered_before_every_setting_is_judged_as_written_first(sqlite_cw):
    """An entry whose id comes before the switch to login authentication (here 0) is judged as the store was
    then: declared, so its login is not asked for."""
    _store(sqlite_cw)
    with sqlite3.connect(sqlite_cw.store.path) as db:
        _logins(db, [1, 1000], 0)
    report = _same_in_parts(sqlite_cw)
    assert not any(b.chain == "case:C-2" for b in report.broken), report.broken


def test_case_ids_that_are_not_text_are_reported_and_split_nowhere(sqlite_cw):
    """Rows an insider adds with BLOB ids cannot be ordered with text ids: the store is read in one part."""
    _store(sqlite_cw)
    with sqlite3.connect(sqlite_cw.store.path) as db:
        for n in range(7):
            db.execute("INSERT INTO cases SELECT CAST(? AS BLOB), policy, team, state, version, opened_at, "
                       "state_entered_at, allocated_at, lead_id, supervisor_id, worker_id, previous_lead_id, "
                       "updated_at, policy_digest FROM cases WHERE id = 'C-4'", (f"X-{n}",))
    report = _same_in_parts(sqlite_cw)
    assert sum(b.chain.startswith("case:b'X-") and "its chain records 0 changes" in b.reason
               for b in report.broken) == 7, report.broken


@pytest.mark.parametrize("edit", ["UPDATE facts SET with_ids = '[not json' WHERE case_id = 'C-3'",
                                  "UPDATE staff SET roles = 'social_worker' WHERE id = 'sw'",
                                  "UPDATE staff SET training = '' WHERE id = 'sw'"])
def test_a_json_column_edited_to_what_is_not_json_is_reported_not_a_crash(sqlite_cw, edit):
    _store(sqlite_cw)
    with sqlite3.connect(sqlite_cw.store.path) as db:
        db.execute(edit)
    report = _same_in_parts(sqlite_cw)
    assert any(b.reason.startswith(("table facts", "table staff")) for b in report.broken), report.broken


def test_a_chain_whose_name_is_not_text_is_reported_not_a_crash(sqlite_cw):
    _store(sqlite_cw)
    with sqlite3.connect(sqlite_cw.store.path) as db:
        db.execute("UPDATE audit SET chain = CAST(chain AS BLOB) WHERE chain = 'case:C-5'")
    report = _same_in_parts(sqlite_cw)
    assert any(b.chain == "b'case:C-5'" and "not text" in b.reason for b in report.broken), report.broken
