"""Every statement the store runs, written as SQLAlchemy Core and named by a key.

The store runs them on the DB-API driver from SQL compiled ahead of time
(``store/compiled_sql.json``, written by ``python -m casework.store.statements``), so an everyday
command never imports SQLAlchemy; a key that is not compiled there (a rare variant, or
a parameter list SQL must expand) is compiled here when first run. A key names a
statement and, in brackets, its variant: ``update_case(state,version)`` sets those
columns, ``list_cases(state,team)`` filters by those. Our own parameters are named
``b_*``; an insert's are its column names.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import re
import sys
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import bindparam, case, delete, func, insert, or_, select, tuple_, update
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import Executable

from .parts import PER_CASE
from .schema import (allocations, audit, cases, definitions, due_cases, due_dates, facts, holders, markers, metadata,
                     settings, staff)

__all__ = ["build", "compile_key", "compile_statement", "dialect_named", "EVERYDAY", "catalogue_source", "fingerprint"]

_TABLES = {t.name: t for t in metadata.sorted_tables}
_KEY = re.compile(r"^(?P<name>[a-z_]+)(?:\((?P<args>[a-z_,:]*)\))?$")


def _head(column: Any, chain: Any) -> Any:
    return select(column).where(audit.c.chain == chain).order_by(audit.c.seq.desc()).limit(1).scalar_subquery()


def _case_and_heads() -> Executable:
    """The case row plus the heads of its audit chain and of the staff chain, in one statement.

    The writer appends without reading the head again, and the staff head versions cached staff rows;
    the store's authentication setting and the settings chain's head come with them, so authenticating a
    move costs no round trip while the staff and settings chains stand still (workflow.identity)."""
    return select(
        cases, _head(audit.c.seq, bindparam("b_chain")).label("head_seq"),
        _head(audit.c.hash, bindparam("b_chain")).label("head_hash"),
        _head(audit.c.seq, "staff").label("staff_seq"),
        _head(audit.c.hash, "staff").label("staff_hash"),
        _head(audit.c.hash, "settings").label("settings_hash"),
        select(settings.c.value).where(settings.c.key == "authentication").scalar_subquery().label("authentication"),
    ).where(cases.c.id == bindparam("b_id"))


def _insert(table: Any, columns: list[str] | None = None) -> Executable:
    names = columns or [c.name for c in table.columns if c.autoincrement is not True]  # the store numbers those
    return insert(table).values({c: bindparam(c) for c in names})


def _list_cases(args: list[str]) -> Executable:
    query = select(cases).order_by(cases.c.id)
    if "state" in args:
        query = query.where(cases.c.state == bindparam("b_state"))
    if "states" in args:
        query = query.where(cases.c.state.in_(bindparam("b_states", expanding=True)))
    if "team" in args:
        query = query.where(cases.c.team == bindparam("b_team"))
    return query


def _count_held(slot: str) -> Executable:
    """Cases in the given states a person holds in one slot (a case they lead and work is counted as led), one
    case left out: an index range of (lead_id, state) or (worker_id, state), so it costs their caseload, not the
    number of open cases in the store."""
    staff_id: Any = bindparam("b_staff")
    query = select(func.count()).select_from(cases).where(
        cases.c[slot] == staff_id, cases.c.state.in_(bindparam("b_states", expanding=True)),
        cases.c.id != func.coalesce(bindparam("b_excluding"), ""))
    if slot == "worker_id":
        query = query.where(or_(cases.c.lead_id.is_(None), cases.c.lead_id != staff_id))
    return query


def _held_counts(args: list[str]) -> Executable:
    column = cases.c[args[0]]
    query = (select(column.label("person"), func.count().label("n"))
             .where(cases.c.state.in_(bindparam("b_states", expanding=True)), column.is_not(None)).group_by(column))
    return query.where(cases.c.id != bindparam("b_excluding")) if "excluding" in args[1:] else query


def _open_cases(args: list[str]) -> Executable:
    query = select(cases).where(cases.c.state.not_in(bindparam("b_closed", expanding=True))).order_by(cases.c.id)
    return query.where(cases.c.team == bindparam("b_team")) if "team" in args else query


def _open_markers(args: list[str]) -> Executable:
    query = (select(markers.c.case_id, markers.c.marker, markers.c.at)
             .join(cases, cases.c.id == markers.c.case_id)
             .where(cases.c.state.not_in(bindparam("b_closed", expanding=True))))
    return query.where(cases.c.team == bindparam("b_team")) if "team" in args else query


def _due_rows(args: list[str]) -> Executable:
    """Deadline rows with their case (only cases whose rows are current: see _due_stale), by due day; *args*:
    'until' (due on or before a day), 'team', 'staff' (held by them as lead, supervisor or worker)."""
    query = (select(due_dates.c.case_id, due_dates.c.deadline, due_dates.c.due_on, cases.c.team, cases.c.policy,
                    cases.c.policy_digest, cases.c.state)
             .join(cases, cases.c.id == due_dates.c.case_id)
             .join(due_cases, due_cases.c.case_id == due_dates.c.case_id)
             .where(due_cases.c.calendar == bindparam("b_calendar"), due_cases.c.digest == cases.c.policy_digest)
             .order_by(due_dates.c.due_on, due_dates.c.case_id, due_dates.c.deadline))
    if "until" in args:
        query = query.where(due_dates.c.due_on <= bindparam("b_until"))
    if "team" in args:
        query = query.where(cases.c.team == bindparam("b_team"))
    if "staff" in args:
        query = query.where(or_(cases.c.lead_id == bindparam("b_staff"), cases.c.supervisor_id == bindparam("b_staff"),
                                cases.c.worker_id == bindparam("b_staff")))
    return query


def _due_stale(args: list[str]) -> Executable:
    """Open cases whose due rows are missing or were made under other bank holidays or another version (and
    cases not pinned to a version, whose deadlines follow the files): `due` judges these itself."""
    query = (select(cases).select_from(cases).outerjoin(due_cases, due_cases.c.case_id == cases.c.id)
             .where(cases.c.state.not_in(bindparam("b_closed", expanding=True)),
                    or_(due_cases.c.case_id.is_(None), cases.c.policy_digest.is_(None),
                        due_cases.c.calendar != bindparam("b_calendar"),
                        due_cases.c.digest != cases.c.policy_digest))
             .order_by(cases.c.id))
    return query.where(cases.c.team == bindparam("b_team")) if "team" in args else query


def _list_definitions(args: list[str]) -> Executable:
    query = select(definitions.c.digest, definitions.c.name, definitions.c.version, definitions.c.lineage,
                   definitions.c.kept_at).order_by(definitions.c.name, definitions.c.kept_at, definitions.c.version,
                                                   definitions.c.digest)
    return query.where(definitions.c.name == bindparam("b_name")) if "name" in args else query


def _marker_upsert(dialect: str) -> Executable:
    """INSERT ... ON CONFLICT that keeps the later time: one statement per marker write."""
    stmt = importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert(markers).values(
        case_id=bindparam("case_id"), marker=bindparam("marker"), at=bindparam("at"))
    later = case((stmt.excluded.at > markers.c.at, stmt.excluded.at), else_=markers.c.at)
    upsert: Executable = stmt.on_conflict_do_update(index_elements=[markers.c.case_id, markers.c.marker],
                                                    set_={"at": later})
    return upsert


def _slot_upsert(dialect: str) -> Executable:
    """INSERT ... ON CONFLICT that dates a person's latest taking of a slot (one row per person and slot)."""
    stmt = importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert(holders).values(
        {c.name: bindparam(c.name) for c in holders.columns})
    upsert: Executable = stmt.on_conflict_do_update(
        index_elements=[holders.c.case_id, holders.c.slot, holders.c.staff_id],
        set_={"version": stmt.excluded.version, "at": stmt.excluded.at})
    return upsert


#: what replaying the actions needs of an entry (not its hashes); a definitions entry's payload, a whole
#: protocol version the definitions table also keeps, is left out
def _latest_facts() -> Executable:
    """The latest fact of each name on a case: the one at its 'fact:<name>' marker (ties: all of them)."""
    return (select(facts).select_from(markers)
            .join(facts, (facts.c.case_id == markers.c.case_id) & (facts.c.name == func.substr(markers.c.marker, 6))
                  & (facts.c.at == markers.c.at))
            .where(markers.c.case_id == bindparam("b_id"), markers.c.marker > "fact:", markers.c.marker < "fact;")
            .order_by(facts.c.at, facts.c.id))


def _action_columns() -> tuple[Any, ...]:
    return (audit.c.id, audit.c.chain, audit.c.seq, audit.c.recorded_at, audit.c.at, audit.c.actor,
            audit.c.action, audit.c.case_id, audit.c.event, audit.c.from_state, audit.c.to_state,
            audit.c.policy, audit.c.policy_version,
            case((audit.c.chain != "definitions", audit.c.payload), else_=None).label("payload"))


def _span(column: Any, args: list[str]) -> list[Any]:
    """A part of a table for a verifier sharing the work: from b_from (inclusive) and to b_to (exclusive)."""
    return [*([column >= bindparam("b_from")] if "from" in args else []),
            *([column < bindparam("b_to")] if "to" in args else [])]


def _case_column(table: Any) -> Any:
    """The column that names a row's case (a case's own id)."""
    return table.c.id if table is cases else table.c.case_id


def _latest_heads() -> Executable:
    latest = select(audit.c.chain, func.max(audit.c.seq).label("seq")).group_by(audit.c.chain).subquery()
    return (select(audit.c.chain, audit.c.seq, audit.c.hash)
            .join(latest, (audit.c.chain == latest.c.chain) & (audit.c.seq == latest.c.seq)))


_HASHED_AUDIT = ("chain", "seq", "recorded_at", "at", "actor", "action", "case_id", "event", "from_state",
                 "to_state", "policy", "policy_version", "payload", "principal", "prev_hash", "hash")

#: key name → builder(args, dialect name)
_BUILDERS: dict[str, Callable[[list[str], str], Executable]] = {
    # staff
    "get_staff": lambda a, d: select(staff).where(staff.c.id == bindparam("b_id")),
    "staff_in": lambda a, d: select(staff).where(staff.c.id.in_(bindparam("b_ids", expanding=True))),
    "all_staff": lambda a, d: select(staff).order_by(staff.c.id),
    "insert_staff": lambda a, d: _insert(staff),
    "replace_staff": lambda a, d: update(staff).where(staff.c.id == bindparam("b_id")).values(
        {c.name: bindparam(c.name) for c in staff.columns if c.name != "id"}),
    "staff_with_login": lambda a, d: select(staff.c.id).where(staff.c.login == bindparam("b_login"))
    .order_by(staff.c.id),
    "count_staff": lambda a, d: select(func.count()).select_from(staff),
    "lock_staff": lambda a, d: select(staff.c.id).where(staff.c.id.in_(bindparam("b_ids", expanding=True)))
    .order_by(staff.c.id).with_for_update(),
    "lock_chain": lambda a, d: select(func.pg_advisory_xact_lock(func.hashtext(bindparam("b_chain")))),
    # cases
    "has_cases": lambda a, d: select(cases.c.id).limit(1),
    "get_case": lambda a, d: select(cases).where(cases.c.id == bindparam("b_id")),
    "case_and_heads": lambda a, d: _case_and_heads(),
    #: holds the case's row until the unit of work ends (PostgreSQL; SQLite's writer holds the file already).
    #: A statement of its own: in READ COMMITTED the read after it sees what the writer before committed,
    #: where a locking read would return the chain heads of its first snapshot
    "lock_case": lambda a, d: select(cases.c.id).where(cases.c.id == bindparam("b_id")).with_for_update(),
    "insert_case": lambda a, d: _insert(cases),
    "update_case": lambda a, d: update(cases).where(cases.c.id == bindparam("b_id"),
                                                    cases.c.version == bindparam("b_expected"))
    .values({c: bindparam(f"v_{c}") for c in a}),
    "list_cases": lambda a, d: _list_cases(a),
    "count_held": lambda a, d: _count_held(a[0]),
    "held_counts": lambda a, d: _held_counts(a),
    "cases_per_version": lambda a, d: select(cases.c.policy_digest, cases.c.state, func.count().label("n"))
    .group_by(cases.c.policy_digest, cases.c.state),
    "cases_per_team": lambda a, d: select(cases.c.team, func.count().label("n")).group_by(cases.c.team),
    "open_cases": lambda a, d: _open_cases(a),
    "open_markers": lambda a, d: _open_markers(a),
    "case_ids": lambda a, d: select(cases.c.id).order_by(cases.c.id),
    "audit_extent": lambda a, d: select(func.max(audit.c.id)),
    "case_versions": lambda a, d: select(cases.c.id, cases.c.version).where(*_span(cases.c.id, a)),
    "cases_held_as": lambda a, d: select(cases).where(cases.c[a[0]] == bindparam("b_staff")).order_by(cases.c.id),
    "cases_of_digest": lambda a, d: select(cases).where(cases.c.policy_digest == bindparam("b_digest"))
    .order_by(cases.c.id),
    # due dates (derived rows)
    "due_rows": lambda a, d: _due_rows(a),
    "due_stale": lambda a, d: _due_stale(a),
    "delete_due_dates": lambda a, d: delete(due_dates).where(due_dates.c.case_id == bindparam("b_id")),
    "insert_due_date": lambda a, d: _insert(due_dates),
    "delete_due_case": lambda a, d: delete(due_cases).where(due_cases.c.case_id == bindparam("b_id")),
    "insert_due_case": lambda a, d: _insert(due_cases),
    # facts, allocations, markers
    "case_facts": lambda a, d: select(facts).where(facts.c.case_id == bindparam("b_id")).order_by(facts.c.at,
                                                                                                  facts.c.id),
    "latest_facts": lambda a, d: _latest_facts(),
    "facts_named": lambda a, d: select(facts).where(facts.c.case_id == bindparam("b_id"),
                                                    facts.c.name.in_(bindparam("b_names", expanding=True)))
    .order_by(facts.c.at, facts.c.id),
    "insert_fact": lambda a, d: _insert(facts),
    "rename_fact": lambda a, d: update(facts).where(facts.c.case_id == bindparam("b_case"),
                                                    facts.c.name == bindparam("b_old")).values(name=bindparam("b_new")),
    "insert_allocation": lambda a, d: _insert(allocations),
    "case_holders": lambda a, d: select(holders.c.slot, holders.c.staff_id, holders.c.version, holders.c.at)
    .where(holders.c.case_id == bindparam("b_id")),
    "take_slot": lambda a, d: _slot_upsert(d),
    "case_markers": lambda a, d: select(markers.c.marker, markers.c.at).where(markers.c.case_id == bindparam("b_id")),
    "set_marker": lambda a, d: _marker_upsert(d),
    # settings and definitions
    "get_setting": lambda a, d: select(settings.c.value).where(settings.c.key == bindparam("b_key")),
    "delete_setting": lambda a, d: delete(settings).where(settings.c.key == bindparam("b_key")),
    "insert_setting": lambda a, d: _insert(settings),
    "get_definition": lambda a, d: select(definitions).where(definitions.c.digest == bindparam("b_digest")),
    "insert_definition": lambda a, d: _insert(definitions),
    "list_definitions": lambda a, d: _list_definitions(a),
    # whole tables (audit verify, audit rebuild)
    "rows_of": lambda a, d: select(_TABLES[a[0]]).where(*_span(_case_column(_TABLES[a[0]]), a[1:]) if a[1:] else ()),
    "delete_all": lambda a, d: delete(_TABLES[a[0]]),
    "insert_rows": lambda a, d: _insert(_TABLES[a[0]], a[1:]),
    # the audit log
    "append_audit": lambda a, d: _insert(audit, list(_HASHED_AUDIT)),
    "audit_head": lambda a, d: select(audit.c.seq, audit.c.hash).where(audit.c.chain == bindparam("b_chain"))
    .order_by(audit.c.seq.desc()).limit(1),
    "chain_entries": lambda a, d: select(audit).where(audit.c.chain == bindparam("b_chain")).order_by(audit.c.seq),
    "audit_by_chain": lambda a, d: select(audit).where(*_span(audit.c.chain, a)).order_by(audit.c.chain, audit.c.seq),
    "audit_heads": lambda a, d: _latest_heads(),
    "hash_at": lambda a, d: select(audit.c.chain, audit.c.seq, audit.c.hash)
    .where(tuple_(audit.c.chain, audit.c.seq).in_(bindparam("b_pairs", expanding=True))),
    "attribution_rows": lambda a, d: select(
        audit.c.id, audit.c.chain, audit.c.seq, audit.c.action, audit.c.actor, audit.c.principal,
        audit.c.recorded_at,
        case((audit.c.chain.in_(("staff", "settings")), audit.c.payload), else_=None).label("payload"))
    .order_by(audit.c.id),
    "in_written_order": lambda a, d: select(*_action_columns()).order_by(audit.c.id),
    "people_entries": lambda a, d: select(audit.c.id, audit.c.chain, audit.c.seq, audit.c.action, audit.c.actor,
                                          audit.c.principal, audit.c.recorded_at, audit.c.payload)
    .where(or_(audit.c.chain == "staff", audit.c.chain == "settings")).order_by(audit.c.id),
}

_CASE_COLUMNS = [c.name for c in cases.columns]
_PIN = ("policy_digest",)
#: the variants an everyday command runs, compiled ahead of time (a test proves they need no SQLAlchemy)
EVERYDAY: tuple[str, ...] = (
    *(k for k in _BUILDERS if k not in {"update_case", "list_cases", "count_held", "held_counts", "cases_held_as",
                                         "due_rows", "due_stale", "open_cases",
                                         "open_markers", "list_definitions", "rows_of", "delete_all",
                                         "insert_rows", "hash_at"}),
    *(f"update_case({','.join(sorted(cols + pin))})" for pin in ((), _PIN) for cols in (
        ("state", "version", "state_entered_at", "updated_at"),
        ("version", "updated_at"),
        ("lead_id", "supervisor_id", "worker_id", "previous_lead_id", "allocated_at", "version", "updated_at"),
        ("lead_id", "supervisor_id", "previous_lead_id", "allocated_at", "version", "updated_at"),
        ("lead_id", "previous_lead_id", "allocated_at", "version", "updated_at"),
        ("state", "version", "updated_at"),
        ("team", "version", "updated_at"))),
    "list_cases", "list_cases(state)", "list_cases(team)", "list_cases(state,team)", "list_cases(states)",
    *(f"held_counts({c}{x})" for c in ("lead_id", "worker_id") for x in ("", ",excluding")),
    "count_held(lead_id)", "count_held(worker_id)",
    *(f"cases_held_as({slot})" for slot in ("lead_id", "supervisor_id", "worker_id")),
    *(f"due_rows({','.join(a)})" if a else "due_rows" for a in (
        (), ("until",), ("team",), ("staff",), ("until", "team"), ("until", "staff"), ("team", "staff"),
        ("until", "team", "staff"))),
    "due_stale", "due_stale(team)",
    "open_cases", "open_cases(team)", "open_markers", "open_markers(team)",
    "list_definitions", "list_definitions(name)",
    *(f"rows_of({t})" for t in ("staff", "cases", "allocations", "holders", "facts", "markers", "settings",
                                "definitions")),
    "delete_all(due_dates)", "delete_all(due_cases)", "rows_of(due_dates)", "rows_of(due_cases)",
    # a verifier's part of the store (workflow.audit_pass): from a case on, up to a case, or between two
    *(f"{key}({span})" for span in ("from", "to", "from,to") for key in ("audit_by_chain", "case_versions")),
    *(f"rows_of({t},{span})" for span in ("from", "to", "from,to") for t in PER_CASE),
)


def _parse(key: str) -> tuple[str, list[str]]:
    found = _KEY.match(key)
    if not found or found["name"] not in _BUILDERS:
        raise KeyError(f"no statement {key!r}")
    args = found["args"]
    return found["name"], (args.split(",") if args else [])


def build(key: str, dialect: str) -> Executable:
    """The Core statement for *key* on *dialect* ('sqlite' or 'postgresql')."""
    name, args = _parse(key)
    return _BUILDERS[name](args, dialect)


def dialect_named(name: str) -> Dialect:
    """The SQLAlchemy dialect whose SQL the store's driver runs: sqlite3, or psycopg for PostgreSQL."""
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
        return SQLiteDialect_pysqlite()
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
    return PGDialect_psycopg()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves this constructor untyped


def compile_key(key: str, dialect: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """One statement compiled for *dialect*: its SQL, its parameters in placeholder order (or by name) and
    the values fixed in the statement itself. With *values*, the expanding parameters are rendered for them
    (a list the driver cannot expand by itself: an empty one, or one of pairs)."""
    return _compiled(build(key, dialect), dialect, values, key)


def compile_statement(statement: Any, dialect: str, values: dict[str, Any]) -> dict[str, Any]:
    """Any Core statement compiled for *dialect* with *values* bound (ad hoc SQL: tests, one-off repairs)."""
    return _compiled(statement, dialect, values, "the statement")


def _compiled(statement: Any, dialect: str, values: dict[str, Any] | None, what: str) -> dict[str, Any]:
    target = dialect_named(dialect)
    compiled = statement.compile(dialect=target, column_keys=list(values) if values is not None else None)
    for name, bind in compiled.binds.items():
        if bind.type.dialect_impl(target).bind_processor(target) is not None:
            raise TypeError(f"{what}: parameter {name!r} needs SQLAlchemy at execution time")
    for column in getattr(statement, "selected_columns", ()):
        if column.type.dialect_impl(target).result_processor(target, None) is not None:
            raise TypeError(f"{what}: column {column.name!r} needs SQLAlchemy at execution time")
    if getattr(compiled, "escaped_bind_names", None):
        raise TypeError(f"{what}: parameter names need escaping")
    positions = list(compiled.positiontup) if compiled.positional else None
    if values is not None:
        expanded = compiled.construct_expanded_state(compiled.construct_params(values, _check=False))
        return {"sql": expanded.statement, "positions": list(expanded.positiontup) if positions is not None else None,
                "fixed": dict(expanded.parameters), "expanding": []}
    required = {compiled.bind_names[b] for b in compiled.binds.values() if b.required}
    return {
        "sql": compiled.string,
        "positions": positions,
        "fixed": {n: v for n, v in compiled.construct_params(_check=False).items() if n not in required},
        "expanding": sorted({compiled.bind_names[b] for b in compiled.binds.values() if b.expanding}),
    }


def fingerprint() -> str:
    """What the compiled SQL depends on: this file and the schema (a change invalidates the catalogue)."""
    here = Path(__file__).resolve().parent
    return hashlib.sha256(b"".join((here / f).read_bytes() for f in ("statements.py", "schema.py"))).hexdigest()


def catalogue_source() -> str:
    """The text of ``store/compiled_sql.json``: every everyday statement compiled for both dialects."""
    catalogue = {d: {k: compile_key(k, d) for k in EVERYDAY if not (d == "sqlite" and k in _POSTGRES_ONLY)}
                 for d in ("sqlite", "postgresql")}
    return json.dumps({"generated_by": "python -m casework.store.statements (do not edit: a test compares it "
                                      "with a fresh compile)",
                       "fingerprint": fingerprint(), "catalogue": catalogue}, indent=1, sort_keys=True) + "\n"


#: statements that only PostgreSQL runs (SQLite's unit of work holds the whole file)
_POSTGRES_ONLY = {"lock_staff", "lock_chain", "lock_case"}


if __name__ == "__main__":  # pragma: no cover - the generator, run by hand after a change here
    target = Path(__file__).resolve().parent / "compiled_sql.json"
    target.write_text(catalogue_source(), encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)
