"""Reading and writing rows: staff, cases, allocations and facts, as plain mappings.

The service layer turns these rows into domain objects; this module knows nothing of
protocols or verdicts. Statements are built once at import and reused for every call.
"""
from __future__ import annotations

import json
from typing import Any, Iterable, Sequence

from casework.errors import AlreadyExists, ConcurrentUpdate

from .link import Link as Connection
from .parts import PER_CASE, Span

__all__ = [
    "get_staff", "staff_by_ids", "all_staff", "insert_staff",
    "get_case", "get_case_and_heads", "insert_case", "update_case", "list_cases", "case_facts", "latest_facts",
    "insert_fact",
    "insert_allocation", "take_slots", "case_holders", "held_counts", "set_markers", "case_markers", "open_case_markers",
    "count_held", "lock_staff", "get_setting", "set_setting", "rows_of", "replace_staff", "staff_with_login",
    "count_staff", "session_login", "lock_chain", "get_definition", "insert_definition", "list_definitions",
    "cases_per_version", "cases_per_team", "rename_facts", "has_cases", "replace_due", "clear_due", "due_rows", "due_stale",
    "cases_held_as", "cases_of_digest", "table_rows",
]

_TABLES = ("staff", "cases", "allocations", "holders", "facts", "markers", "settings", "definitions")
_STAFF_COLUMNS = ("name", "roles", "team", "registration", "registered_until", "pcf_level", "training",
                  "updated_at", "login", "left_on")
_CASE_COLUMNS = ("id", "policy", "team", "state", "version", "opened_at", "state_entered_at", "allocated_at",
                 "lead_id", "supervisor_id", "worker_id", "previous_lead_id", "updated_at", "policy_digest")
_FACT_COLUMNS = ("case_id", "name", "at", "recorded_at", "by_id", "with_ids", "note", "state")
_ALLOCATION_COLUMNS = ("case_id", "at", "lead_id", "supervisor_id", "worker_id", "by_id", "reason")


def _whole(row: dict[str, Any], columns: Sequence[str], **defaults: Any) -> dict[str, Any]:
    """*row* with every column of an insert: the ones it leaves out are NULL (or their default)."""
    return {c: row.get(c, defaults.get(c)) for c in columns}


def _staff_row(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    data["roles"] = json.loads(data["roles"])
    data["training"] = json.loads(data["training"])
    return data


def get_staff(conn: Connection, staff_id: str) -> dict[str, Any] | None:
    """One staff member, or None."""
    row = conn.execute("get_staff", {"b_id": staff_id}).first()
    return _staff_row(row) if row else None


def staff_by_ids(conn: Connection, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Staff rows for the given ids (unknown ids are simply absent)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute("staff_in", {"b_ids": wanted})
    return {r.id: _staff_row(r) for r in rows}


def all_staff(conn: Connection) -> list[dict[str, Any]]:
    """Every staff member, by id."""
    return [_staff_row(r) for r in conn.execute("all_staff")]


def insert_staff(conn: Connection, row: dict[str, Any]) -> None:
    """Add a staff member; AlreadyExists if the id is taken."""
    if get_staff(conn, row["id"]) is not None:
        raise AlreadyExists(f"Staff member {row['id']!r} already exists.")
    conn.execute("insert_staff", _whole({**row, "roles": json.dumps(sorted(row["roles"])),
                                         "training": json.dumps(sorted(row["training"]))}, ("id", *_STAFF_COLUMNS)))


def replace_staff(conn: Connection, row: dict[str, Any]) -> None:
    """Write a staff member's whole row (a change to the staff list is always a whole row, as audited)."""
    conn.execute("replace_staff", {"b_id": row["id"], **_whole(
        {**row, "roles": json.dumps(sorted(row["roles"])), "training": json.dumps(sorted(row["training"]))},
        _STAFF_COLUMNS)})


def staff_with_login(conn: Connection, login: str) -> list[str]:
    """The ids of the staff members this database login is mapped to (at most one, kept so by casework)."""
    return list(conn.execute("staff_with_login", {"b_login": login}).scalars())


def has_cases(conn: Connection) -> bool:
    """Whether the store holds any case (one indexed probe, not a read of them all)."""
    return conn.execute("has_cases").first() is not None


def count_staff(conn: Connection) -> int:
    """How many people are on the staff list (none: the first one added starts it)."""
    return int(conn.execute("count_staff").scalar_one())


def session_login(conn: Connection) -> str:
    """The database login of this connection (PostgreSQL's session_user: SET ROLE does not change it)."""
    return str(conn.exec_driver_sql("SELECT session_user").scalar_one())


def lock_chain(conn: Connection, chain: str) -> None:
    """Hold *chain* until the unit of work ends (PostgreSQL; SQLite's writer holds the file): writers of a
    chain with no row of its own to lock, such as the staff list, take turns instead of losing a race."""
    if conn.dialect != "sqlite":
        conn.execute("lock_chain", {"b_chain": chain}).first()


def get_definition(conn: Connection, digest: str) -> dict[str, Any] | None:
    """A protocol version kept in the store, by digest, or None."""
    row = conn.execute("get_definition", {"b_digest": digest}).first()
    return dict(row._mapping) if row else None


def insert_definition(conn: Connection, row: dict[str, Any]) -> None:
    """Keep a protocol version (its body is canonical JSON text already)."""
    conn.execute("insert_definition", {**row, "lineage": json.dumps(row["lineage"])})


def list_definitions(conn: Connection, name: str | None = None) -> list[dict[str, Any]]:
    """The versions kept (of protocol *name*), oldest first, without their bodies."""
    rows = conn.execute("list_definitions") if name is None else conn.execute("list_definitions(name)",
                                                                              {"b_name": name})
    return [{**r._mapping, "lineage": json.loads(r.lineage)} for r in rows]


def rename_facts(conn: Connection, case_id: str, names: dict[str, str]) -> None:
    """Give a case's recorded facts the names a new protocol version knows them by (a migration plan)."""
    for old, new in names.items():
        conn.execute("rename_fact", {"b_case": case_id, "b_old": old, "b_new": new})


def cases_per_team(conn: Connection) -> dict[str, int]:
    """How many cases each team has, open or not (one grouped count, not a read of every case)."""
    return {team: n for team, n in conn.execute("cases_per_team")}


def cases_per_version(conn: Connection) -> dict[str | None, dict[str, int]]:
    """For each version digest (None: not pinned yet), how many cases run under it, open or not, by state."""
    found: dict[str | None, dict[str, int]] = {}
    for digest, state, n in conn.execute("cases_per_version"):
        found.setdefault(digest, {})[state] = n
    return found


def get_case(conn: Connection, case_id: str) -> dict[str, Any] | None:
    """The case row, or None."""
    row = conn.execute("get_case", {"b_id": case_id}).first()
    return dict(row._mapping) if row else None


def get_case_and_heads(conn: Connection, case_id: str, lock: bool = False) -> dict[str, Any] | None:
    """The case row with ``head_seq``/``head_hash`` (its audit chain) and ``staff_seq`` (staff chain).

    With *lock*, the row is first held until the unit of work ends, so writers of one case take turns
    instead of losing a race."""
    if lock and conn.dialect != "sqlite":
        conn.execute("lock_case", {"b_id": case_id}).first()
    row = conn.execute("case_and_heads", {"b_id": case_id, "b_chain": f"case:{case_id}"}).first()
    return row._mapping if row is not None else None


def insert_case(conn: Connection, row: dict[str, Any]) -> None:
    """Add a case; AlreadyExists if the id is taken."""
    if get_case(conn, row["id"]) is not None:
        raise AlreadyExists(f"Case {row['id']!r} already exists.")
    conn.execute("insert_case", _whole(row, _CASE_COLUMNS))


def update_case(conn: Connection, case_id: str, expected_version: int, values: dict[str, Any]) -> None:
    """Change a case only if it is still at *expected_version* (optimistic concurrency)."""
    unknown = set(values) - set(_CASE_COLUMNS)
    if unknown:
        raise ValueError(f"cases have no column {sorted(unknown)[0]!r}")
    changed = conn.execute(f"update_case({','.join(sorted(values))})",
                           {"b_id": case_id, "b_expected": expected_version,
                            **{f"v_{c}": v for c, v in values.items()}}).rowcount
    if changed != 1:
        raise ConcurrentUpdate(
            f"Case {case_id} changed since it was read (expected version {expected_version}); "
            "nothing was written. Reload it and try again.")


def list_cases(conn: Connection, state: str | None = None, team: str | None = None,
               states: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Cases, optionally by state(s) and team, ordered by id."""
    if states is not None and not states:
        return []
    filters = [name for name, value in (("state", state), ("states", states), ("team", team)) if value]
    key = f"list_cases({','.join(filters)})" if filters else "list_cases"
    params = {"b_state": state, "b_states": list(states or ()), "b_team": team}
    rows = conn.execute(key, {f"b_{name}": params[f"b_{name}"] for name in filters})
    return [r._mapping for r in rows]


def count_held(conn: Connection, staff_id: str, states: Sequence[str], excluding: str | None = None) -> int:
    """How many cases in *states* this person holds as lead or worker (one case may be left out)."""
    if not states:
        return 0
    params = {"b_staff": staff_id, "b_states": list(states), "b_excluding": excluding}
    return sum(int(conn.execute(f"count_held({slot})", params).scalar_one()) for slot in ("lead_id", "worker_id"))


def held_counts(conn: Connection, states: Sequence[str], excluding: str | None = None) -> dict[str, int]:
    """How many cases in *states* each person holds as lead or worker (one case may be left out): one query for
    the whole staff list, as count_held counts for one person."""
    counts: dict[str, int] = {}
    if not states:
        return counts
    for column in ("lead_id", "worker_id"):
        key = f"held_counts({column})" if excluding is None else f"held_counts({column},excluding)"
        for person, n in conn.execute(key, {"b_states": list(states), "b_excluding": excluding}):
            counts[person] = counts.get(person, 0) + n
    return counts


def lock_staff(conn: Connection, ids: Iterable[str]) -> None:
    """Hold these people's rows until the unit of work ends, so that a limit across cases (a caseload cap)
    is judged by one writer at a time. SQLite needs nothing: its unit of work already holds the file's
    write lock from its first statement."""
    wanted = sorted(set(ids))
    if wanted and conn.dialect != "sqlite":
        conn.execute("lock_staff", {"b_ids": wanted}).all()


def get_setting(conn: Connection, key: str) -> str | None:
    """A store-wide setting, or None."""
    found = conn.execute("get_setting", {"b_key": key}).scalar()
    return str(found) if found is not None else None


def set_setting(conn: Connection, key: str, value: str) -> None:
    """Set a store-wide setting."""
    conn.execute("delete_setting", {"b_key": key})
    conn.execute("insert_setting", {"key": key, "value": value})


def case_facts(conn: Connection, case_id: str, names: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Facts recorded on a case (only those of *names*, if given), oldest first."""
    if names is None:
        rows = conn.execute("case_facts", {"b_id": case_id})
    else:
        wanted = sorted(set(names))
        if not wanted:
            return []
        rows = conn.execute("facts_named", {"b_id": case_id, "b_names": wanted})
    return [{**r._mapping, "with_ids": json.loads(r.with_ids)} for r in rows]


def latest_facts(conn: Connection, case_id: str) -> list[dict[str, Any]]:
    """The latest fact of each name on a case (found by its marker, through the facts' index), oldest first."""
    rows = conn.execute("latest_facts", {"b_id": case_id})
    return [{**r._mapping, "with_ids": json.loads(r.with_ids)} for r in rows]


def insert_fact(conn: Connection, row: dict[str, Any]) -> None:
    """Record a fact row."""
    conn.execute("insert_fact", _whole({**row, "with_ids": json.dumps(list(row.get("with_ids", ())))},
                                       _FACT_COLUMNS, note=""))


def insert_allocation(conn: Connection, row: dict[str, Any]) -> None:
    """Keep the allocation history (the current one is also on the case row)."""
    conn.execute("insert_allocation", _whole(row, _ALLOCATION_COLUMNS))


def take_slots(conn: Connection, case_id: str, version: int, at: str, taken: dict[str, str | None]) -> None:
    """Date the slots that changed hands at the case's *version*: slot → who took it (None: left empty)."""
    if taken:
        conn.execute_many("take_slot", [{"case_id": case_id, "slot": slot, "staff_id": staff_id or "",
                                         "version": version, "at": at} for slot, staff_id in taken.items()])


def case_holders(conn: Connection, case_id: str) -> list[dict[str, Any]]:
    """Each person who has held a slot of the case, with the version and time they last took it ('' : empty)."""
    return [dict(r._mapping) for r in conn.execute("case_holders", {"b_id": case_id})]


def set_markers(conn: Connection, case_id: str, updates: dict[str, str]) -> None:
    """Record that these things happened at these times; a marker only ever moves forward."""
    if not updates:
        return
    conn.execute_many("set_marker", [{"case_id": case_id, "marker": m, "at": at} for m, at in updates.items()])


def case_markers(conn: Connection, case_id: str) -> dict[str, str]:
    """Every marker of one case."""
    rows = conn.execute("case_markers", {"b_id": case_id})
    return {r.marker: r.at for r in rows}


def open_case_markers(conn: Connection, closed: Sequence[str], team: str | None = None
                      ) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]]]:
    """Cases in any state but *closed* (optionally of one team) and their markers: two queries, no replay."""
    params = {"b_closed": list(closed), "b_team": team}
    which = "(team)" if team else ""
    open_cases = [r._mapping for r in conn.execute(f"open_cases{which}", params)]
    found: dict[str, dict[str, str]] = {c["id"]: {} for c in open_cases}
    for r in conn.execute(f"open_markers{which}", params):
        found[r.case_id][r.marker] = r.at
    return open_cases, found


def rows_of(conn: Connection, table: str) -> Iterable[dict[str, Any]]:
    """Every row of one of the tables the guards read, as mappings (streamed; for audit verify)."""
    if table not in _TABLES:
        raise KeyError(f"{table!r} is not a table the guards read")
    for row in conn.stream(f"rows_of({table})"):
        yield row._mapping


def table_rows(conn: Connection, table: str, span: Span = (None, None)
               ) -> tuple[tuple[str, ...], Iterable[tuple[Any, ...]]]:
    """Every row of a guarded table (of a per-case table, those of the cases in *span*) as plain tuples, with
    the column names they follow (streamed; the fastest form, for audit verify's pass over the store)."""
    if table not in _TABLES and table not in PER_CASE:
        raise KeyError(f"{table!r} is not a table the guards read")
    bounds = {k: v for k, v in (("b_from", span[0]), ("b_to", span[1])) if v is not None}
    if bounds and table not in PER_CASE:
        raise KeyError(f"{table!r} does not belong to cases: it has no part")
    which = ",".join(k[2:] for k in bounds)
    return conn.stream_named(f"rows_of({table},{which})" if which else f"rows_of({table})", bounds)


def replace_due(conn: Connection, case_id: str, due: Iterable[tuple[str, str]], calendar: str,
                digest: str | None) -> None:
    """Keep a case's due dates ((deadline, YYYY-MM-DD) pairs), made under these holidays and this version."""
    conn.execute("delete_due_dates", {"b_id": case_id})
    conn.execute("delete_due_case", {"b_id": case_id})
    conn.execute_many("insert_due_date", [{"case_id": case_id, "deadline": n, "due_on": d} for n, d in due])
    conn.execute("insert_due_case", {"case_id": case_id, "calendar": calendar, "digest": digest})


def clear_due(conn: Connection) -> None:
    """Forget every kept due date (each case is judged by `due` itself until its rows are made again)."""
    conn.execute("delete_all(due_dates)")
    conn.execute("delete_all(due_cases)")


def due_rows(conn: Connection, calendar: str, until: str | None = None, team: str | None = None,
             staff: str | None = None) -> list[Any]:
    """Kept due dates with their case's team, policy, digest and state (those made under *calendar* and the
    case's own version), due on or before *until* if given, of a team or held by a person if given."""
    filters = [name for name, value in (("until", until), ("team", team), ("staff", staff)) if value]
    key = f"due_rows({','.join(filters)})" if filters else "due_rows"
    params = {"b_calendar": calendar, "b_until": until, "b_team": team, "b_staff": staff}
    return conn.execute(key, {k: v for k, v in params.items() if k == "b_calendar" or v}).all()


def due_stale(conn: Connection, closed: Sequence[str], calendar: str, team: str | None = None) -> list[Any]:
    """Open cases (state not in *closed*) whose due dates are not kept, or kept under other holidays or another
    version, or not pinned to a version at all."""
    params = {"b_closed": list(closed) or [""], "b_calendar": calendar, **({"b_team": team} if team else {})}
    return [r._mapping for r in conn.execute("due_stale(team)" if team else "due_stale", params)]


def cases_held_as(conn: Connection, slot: str, staff_id: str) -> list[Any]:
    """The cases a person holds in one slot ('lead_id', 'supervisor_id' or 'worker_id'), through its index."""
    return [r._mapping for r in conn.execute(f"cases_held_as({slot})", {"b_staff": staff_id})]


def cases_of_digest(conn: Connection, digest: str) -> list[Any]:
    """The cases pinned to one protocol version, through its index."""
    return [r._mapping for r in conn.execute("cases_of_digest", {"b_digest": digest})]
