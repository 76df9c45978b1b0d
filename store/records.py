"""Reading and writing rows: staff, cases, allocations and facts, as plain mappings.

The service layer turns these rows into domain objects; this module knows nothing of
protocols or verdicts. Statements are built once at import and reused for every call.
"""
from __future__ import annotations

import importlib
import json
from typing import Any, Iterable, Sequence

from sqlalchemy import bindparam, case, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from workflow.errors import AlreadyExists, ConcurrentUpdate

from .prepared import Prepared
from .schema import allocations, audit, cases, definitions, facts, markers, settings, staff

__all__ = [
    "get_staff", "staff_by_ids", "all_staff", "insert_staff",
    "get_case", "get_case_and_heads", "insert_case", "update_case", "list_cases", "case_facts", "insert_fact",
    "insert_allocation", "case_allocations", "held_counts", "set_markers", "case_markers", "open_case_markers",
    "count_held", "lock_staff", "get_setting", "set_setting", "rows_of", "replace_staff", "staff_with_login",
    "count_staff", "session_login", "lock_chain", "get_definition", "insert_definition", "list_definitions",
    "cases_per_version", "rename_facts", "has_cases",
]

_UPDATE_CASE = (update(cases)
                .where(cases.c.id == bindparam("b_id"), cases.c.version == bindparam("b_expected")))
_GET_STAFF = select(staff).where(staff.c.id == bindparam("b_id"))
_STAFF_IN = select(staff).where(staff.c.id.in_(bindparam("b_ids", expanding=True)))
_GET_CASE = select(cases).where(cases.c.id == bindparam("b_id"))


def _head(column: Any, chain: Any) -> Any:
    return select(column).where(audit.c.chain == chain).order_by(audit.c.seq.desc()).limit(1).scalar_subquery()


#: the case row plus the heads of its audit chain and of the staff chain, in one statement:
#: the writer appends without reading the head again, and the staff head versions cached staff rows;
#: the store's authentication setting and the settings chain's head come with them, so authenticating a move
#: costs no round trip while the staff and settings chains stand still (workflow.identity)
_CASE_AND_HEADS = select(
    cases, _head(audit.c.seq, bindparam("b_chain")).label("head_seq"),
    _head(audit.c.hash, bindparam("b_chain")).label("head_hash"),
    _head(audit.c.seq, "staff").label("staff_seq"),
    _head(audit.c.hash, "staff").label("staff_hash"),
    _head(audit.c.hash, "settings").label("settings_hash"),
    select(settings.c.value).where(settings.c.key == "authentication").scalar_subquery().label("authentication"),
).where(cases.c.id == bindparam("b_id"))
_GET_CASE_AND_HEADS = Prepared(_CASE_AND_HEADS)
#: holds the case's row until the unit of work ends (PostgreSQL; SQLite's writer holds the file already). A
#: statement of its own: in READ COMMITTED the read after it sees what the writer before committed, where a
#: locking read would return the chain heads of its first snapshot
_LOCK_CASE = Prepared(select(cases.c.id).where(cases.c.id == bindparam("b_id")).with_for_update())
_UPDATES: dict[frozenset[str], Prepared] = {}
_CASE_FACTS = select(facts).where(facts.c.case_id == bindparam("b_id")).order_by(facts.c.at, facts.c.id)
_CASE_ALLOCATIONS = select(allocations).where(allocations.c.case_id == bindparam("b_id")).order_by(allocations.c.id)


def _staff_row(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    data["roles"] = json.loads(data["roles"])
    data["training"] = json.loads(data["training"])
    return data


def get_staff(conn: Connection, staff_id: str) -> dict[str, Any] | None:
    """One staff member, or None."""
    row = conn.execute(_GET_STAFF, {"b_id": staff_id}).first()
    return _staff_row(row) if row else None


def staff_by_ids(conn: Connection, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Staff rows for the given ids (unknown ids are simply absent)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(_STAFF_IN, {"b_ids": wanted})
    return {r.id: _staff_row(r) for r in rows}


def all_staff(conn: Connection) -> list[dict[str, Any]]:
    """Every staff member, by id."""
    return [_staff_row(r) for r in conn.execute(select(staff).order_by(staff.c.id))]


def insert_staff(conn: Connection, row: dict[str, Any]) -> None:
    """Add a staff member; AlreadyExists if the id is taken."""
    if get_staff(conn, row["id"]) is not None:
        raise AlreadyExists(f"Staff member {row['id']!r} already exists.")
    conn.execute(insert(staff), {**row, "roles": json.dumps(sorted(row["roles"])),
                                 "training": json.dumps(sorted(row["training"]))})


def replace_staff(conn: Connection, row: dict[str, Any]) -> None:
    """Write a staff member's whole row (a change to the staff list is always a whole row, as audited)."""
    conn.execute(update(staff).where(staff.c.id == row["id"]),
                 {**row, "roles": json.dumps(sorted(row["roles"])), "training": json.dumps(sorted(row["training"]))})


def staff_with_login(conn: Connection, login: str) -> list[str]:
    """The ids of the staff members this database login is mapped to (at most one, kept so by casework)."""
    return list(conn.execute(select(staff.c.id).where(staff.c.login == login).order_by(staff.c.id)).scalars())


def has_cases(conn: Connection) -> bool:
    """Whether the store holds any case (one indexed probe, not a read of them all)."""
    return conn.execute(select(cases.c.id).limit(1)).first() is not None


def count_staff(conn: Connection) -> int:
    """How many people are on the staff list (none: the first one added starts it)."""
    return conn.execute(select(func.count()).select_from(staff)).scalar_one()


def session_login(conn: Connection) -> str:
    """The database login of this connection (PostgreSQL's session_user: SET ROLE does not change it)."""
    return conn.exec_driver_sql("SELECT session_user").scalar_one()


def lock_chain(conn: Connection, chain: str) -> None:
    """Hold *chain* until the unit of work ends (PostgreSQL; SQLite's writer holds the file): writers of a
    chain with no row of its own to lock, such as the staff list, take turns instead of losing a race."""
    if conn.dialect.name != "sqlite":
        conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(chain))))


def get_definition(conn: Connection, digest: str) -> dict[str, Any] | None:
    """A protocol version kept in the store, by digest, or None."""
    row = conn.execute(select(definitions).where(definitions.c.digest == digest)).first()
    return dict(row._mapping) if row else None


def insert_definition(conn: Connection, row: dict[str, Any]) -> None:
    """Keep a protocol version (its body is canonical JSON text already)."""
    conn.execute(insert(definitions), {**row, "lineage": json.dumps(row["lineage"])})


def list_definitions(conn: Connection, name: str | None = None) -> list[dict[str, Any]]:
    """The versions kept (of protocol *name*), oldest first, without their bodies."""
    query = select(definitions.c.digest, definitions.c.name, definitions.c.version, definitions.c.lineage,
                   definitions.c.kept_at).order_by(definitions.c.name, definitions.c.kept_at, definitions.c.version,
                                                    definitions.c.digest)
    if name is not None:
        query = query.where(definitions.c.name == name)
    return [{**r._mapping, "lineage": json.loads(r.lineage)} for r in conn.execute(query)]


def rename_facts(conn: Connection, case_id: str, names: dict[str, str]) -> None:
    """Give a case's recorded facts the names a new protocol version knows them by (a migration plan)."""
    for old, new in names.items():
        conn.execute(update(facts).where(facts.c.case_id == case_id, facts.c.name == old).values(name=new))


def cases_per_version(conn: Connection) -> dict[str | None, dict[str, int]]:
    """For each version digest (None: not pinned yet), how many cases run under it, open or not, by state."""
    query = select(cases.c.policy_digest, cases.c.state, func.count()).group_by(cases.c.policy_digest, cases.c.state)
    found: dict[str | None, dict[str, int]] = {}
    for digest, state, n in conn.execute(query):
        found.setdefault(digest, {})[state] = n
    return found


def get_case(conn: Connection, case_id: str) -> dict[str, Any] | None:
    """The case row, or None."""
    row = conn.execute(_GET_CASE, {"b_id": case_id}).first()
    return dict(row._mapping) if row else None


def get_case_and_heads(conn: Connection, case_id: str, lock: bool = False) -> dict[str, Any] | None:
    """The case row with ``head_seq``/``head_hash`` (its audit chain) and ``staff_seq`` (staff chain).

    With *lock*, the row is first held until the unit of work ends, so writers of one case take turns
    instead of losing a race."""
    if lock and conn.dialect.name != "sqlite":
        _LOCK_CASE.first(conn, {"b_id": case_id})
    return _GET_CASE_AND_HEADS.first(conn, {"b_id": case_id, "b_chain": f"case:{case_id}"})


def insert_case(conn: Connection, row: dict[str, Any]) -> None:
    """Add a case; AlreadyExists if the id is taken."""
    if get_case(conn, row["id"]) is not None:
        raise AlreadyExists(f"Case {row['id']!r} already exists.")
    conn.execute(insert(cases), row)


def update_case(conn: Connection, case_id: str, expected_version: int, values: dict[str, Any]) -> None:
    """Change a case only if it is still at *expected_version* (optimistic concurrency)."""
    columns = frozenset(values)
    if columns not in _UPDATES:  # one prebuilt statement per set of columns, compiled once
        _UPDATES[columns] = Prepared(_UPDATE_CASE.values({c: bindparam(f"v_{c}") for c in columns}))
    changed = _UPDATES[columns].execute(conn, {"b_id": case_id, "b_expected": expected_version,
                                               **{f"v_{c}": v for c, v in values.items()}})
    if changed != 1:
        raise ConcurrentUpdate(
            f"Case {case_id} changed since it was read (expected version {expected_version}); "
            "nothing was written. Reload it and try again.")


def list_cases(conn: Connection, state: str | None = None, team: str | None = None,
               states: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Cases, optionally by state(s) and team, ordered by id."""
    query = select(cases).order_by(cases.c.id)
    if state:
        query = query.where(cases.c.state == state)
    if states is not None:
        query = query.where(cases.c.state.in_(list(states)))
    if team:
        query = query.where(cases.c.team == team)
    return [dict(r._mapping) for r in conn.execute(query)]


def count_held(conn: Connection, staff_id: str, states: Sequence[str], excluding: str | None = None) -> int:
    """How many cases in *states* this person holds as lead or worker (one case may be left out)."""
    query = (select(func.count()).select_from(cases)
             .where(cases.c.state.in_(list(states)), or_(cases.c.lead_id == staff_id, cases.c.worker_id == staff_id)))
    if excluding is not None:
        query = query.where(cases.c.id != excluding)
    return conn.execute(query).scalar_one()


def held_counts(conn: Connection, states: Sequence[str], excluding: str | None = None) -> dict[str, int]:
    """How many cases in *states* each person holds as lead or worker (one case may be left out): one query for
    the whole staff list, as count_held counts for one person."""
    counts: dict[str, int] = {}
    for column in (cases.c.lead_id, cases.c.worker_id):
        query = (select(column, func.count()).where(cases.c.state.in_(list(states)), column.is_not(None))
                 .group_by(column))
        if excluding is not None:
            query = query.where(cases.c.id != excluding)
        for person, n in conn.execute(query):
            counts[person] = counts.get(person, 0) + n
    return counts


def lock_staff(conn: Connection, ids: Iterable[str]) -> None:
    """Hold these people's rows until the unit of work ends, so that a limit across cases (a caseload cap)
    is judged by one writer at a time. SQLite needs nothing: its unit of work already holds the file's
    write lock from its first statement."""
    wanted = sorted(set(ids))
    if wanted and conn.dialect.name != "sqlite":
        conn.execute(select(staff.c.id).where(staff.c.id.in_(wanted)).order_by(staff.c.id).with_for_update())


def get_setting(conn: Connection, key: str) -> str | None:
    """A store-wide setting, or None."""
    return conn.execute(select(settings.c.value).where(settings.c.key == key)).scalar()


def set_setting(conn: Connection, key: str, value: str) -> None:
    """Set a store-wide setting."""
    conn.execute(settings.delete().where(settings.c.key == key))
    conn.execute(insert(settings), {"key": key, "value": value})


def case_facts(conn: Connection, case_id: str) -> list[dict[str, Any]]:
    """Facts recorded on a case, oldest first."""
    rows = conn.execute(_CASE_FACTS, {"b_id": case_id})
    return [{**r._mapping, "with_ids": json.loads(r.with_ids)} for r in rows]


def insert_fact(conn: Connection, row: dict[str, Any]) -> None:
    """Record a fact row."""
    conn.execute(insert(facts), {**row, "with_ids": json.dumps(list(row["with_ids"]))})


def insert_allocation(conn: Connection, row: dict[str, Any]) -> None:
    """Keep the allocation history (the current one is also on the case row)."""
    conn.execute(insert(allocations), row)


def case_allocations(conn: Connection, case_id: str) -> list[dict[str, Any]]:
    """Every allocation of a case, oldest first."""
    rows = conn.execute(_CASE_ALLOCATIONS, {"b_id": case_id})
    return [dict(r._mapping) for r in rows]


_CASE_MARKERS = select(markers.c.marker, markers.c.at).where(markers.c.case_id == bindparam("b_id"))
def _marker_upsert(dialect: str) -> Prepared:
    """INSERT ... ON CONFLICT that keeps the later time: one statement per marker write."""
    # only the store's own dialect: importing the PostgreSQL one costs a SQLite CLI call ~30 ms
    stmt = importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert(markers).values(
        case_id=bindparam("case_id"), marker=bindparam("marker"), at=bindparam("at"))
    later = case((stmt.excluded.at > markers.c.at, stmt.excluded.at), else_=markers.c.at)
    return Prepared(stmt.on_conflict_do_update(index_elements=[markers.c.case_id, markers.c.marker],
                                               set_={"at": later}))


_UPSERTS: dict[str, Prepared] = {}


def set_markers(conn: Connection, case_id: str, updates: dict[str, str]) -> None:
    """Record that these things happened at these times; a marker only ever moves forward."""
    if not updates:
        return
    dialect = conn.dialect.name
    if dialect not in _UPSERTS:
        _UPSERTS[dialect] = _marker_upsert(dialect)
    for marker, at in updates.items():
        _UPSERTS[dialect].execute(conn, {"case_id": case_id, "marker": marker, "at": at})


def case_markers(conn: Connection, case_id: str) -> dict[str, str]:
    """Every marker of one case."""
    rows = conn.execute(_CASE_MARKERS, {"b_id": case_id})
    return {r.marker: r.at for r in rows}


def open_case_markers(conn: Connection, closed: Sequence[str], team: str | None = None
                      ) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]]]:
    """Cases in any state but *closed* (optionally of one team) and their markers: two queries, no replay."""
    query = select(cases).where(cases.c.state.not_in(list(closed))).order_by(cases.c.id)
    if team:
        query = query.where(cases.c.team == team)
    open_cases = [dict(r._mapping) for r in conn.execute(query)]
    found: dict[str, dict[str, str]] = {c["id"]: {} for c in open_cases}
    query = (select(markers.c.case_id, markers.c.marker, markers.c.at)
             .join(cases, cases.c.id == markers.c.case_id).where(cases.c.state.not_in(list(closed))))
    if team:
        query = query.where(cases.c.team == team)
    for r in conn.execute(query):
        found[r.case_id][r.marker] = r.at
    return open_cases, found


_TABLES = {t.name: t for t in (staff, cases, allocations, facts, markers, settings, definitions)}


def rows_of(conn: Connection, table: str) -> Iterable[dict[str, Any]]:
    """Every row of one of the tables the guards read, as mappings (streamed; for audit verify)."""
    source = _TABLES[table]
    for row in conn.execute(select(source).execution_options(yield_per=5000)):
        yield dict(row._mapping)

