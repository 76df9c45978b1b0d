"""Whole-table work on the tables the guards read: hold them all, and replace their rows (audit rebuild).

Everyday writers change one case at a time (store.records); these two serve the owner's
repair that puts every such table back to what the audit chains say.
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import bindparam, delete, insert
from sqlalchemy.engine import Connection

from .prepared import Prepared
from .schema import allocations, cases, definitions, facts, markers, settings, staff

__all__ = ["GUARDED", "lock_guarded_tables", "replace_rows"]

#: the tables a guard reads, by name, in the order a writer takes them
GUARDED = {t.name: t for t in (cases, staff, facts, allocations, markers, settings, definitions)}
#: readers still welcome; every other writer waits until the unit of work ends
_LOCK = f"LOCK TABLE {', '.join(GUARDED)}, audit IN EXCLUSIVE MODE"
_BATCH = 10_000
_INSERTS: dict[tuple[str, tuple[str, ...]], Prepared] = {}


def lock_guarded_tables(conn: Connection) -> None:
    """Hold off every other writer of the guarded tables and the audit log until the unit of work ends.

    PostgreSQL only: SQLite's unit of work holds the file's write lock from its first statement. The
    tables are taken in the order a writer takes them, the audit log last, so that a writer halfway
    through finishes first instead of deadlocking. It needs UPDATE or DELETE on each table (the owner
    has them), so the application role is refused here, before anything is read or written.
    """
    if conn.dialect.name != "sqlite":
        conn.exec_driver_sql(_LOCK)


def replace_rows(conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """Empty one guarded table and fill it with *rows*, each whole.

    A list value is stored as its JSON text in the order given (roles, training, with_ids), which
    is how workflow.projections reads it back. Facts and allocations are numbered by the store. The
    rows go to the driver in batches, compiled once (store.prepared): SQLAlchemy's work per row would
    cost more than the database's.
    """
    source = GUARDED[table]
    conn.execute(delete(source))
    if not rows:
        return
    columns = tuple(rows[0])
    if (table, columns) not in _INSERTS:  # compiled once per table and set of columns
        _INSERTS[(table, columns)] = Prepared(insert(source).values({c: bindparam(c) for c in columns}))
    encoded = [{k: json.dumps(v) if isinstance(v, list) else v for k, v in row.items()} for row in rows]
    for start in range(0, len(encoded), _BATCH):
        _INSERTS[(table, columns)].execute_many(conn, encoded[start:start + _BATCH])
