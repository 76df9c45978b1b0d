"""Whole-table work on the tables the guards read: hold them all, and replace their rows (audit rebuild).

Everyday writers change one case at a time (store.records); these two serve the owner's
repair that puts every such table back to what the audit chains say.
"""
from __future__ import annotations

import json
from typing import Any

from .link import Link as Connection

__all__ = ["GUARDED", "lock_guarded_tables", "replace_rows"]

#: the tables a guard reads, by name, in the order a writer takes them
GUARDED = ("cases", "staff", "facts", "allocations", "holders", "markers", "settings", "definitions")
#: readers still welcome; every other writer waits until the unit of work ends
_LOCK = f"LOCK TABLE {', '.join(GUARDED)}, audit IN EXCLUSIVE MODE"
_BATCH = 10_000


def lock_guarded_tables(conn: Connection) -> None:
    """Hold off every other writer of the guarded tables and the audit log until the unit of work ends.

    PostgreSQL only: SQLite's unit of work holds the file's write lock from its first statement. The
    tables are taken in the order a writer takes them, the audit log last, so that a writer halfway
    through finishes first instead of deadlocking. It needs UPDATE or DELETE on each table (the owner
    has them), so the application role is refused here, before anything is read or written.
    """
    if conn.dialect != "sqlite":
        conn.exec_driver_sql(_LOCK)


def replace_rows(conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """Empty one guarded table and fill it with *rows*, each whole.

    A list value is stored as its JSON text in the order given (roles, training, with_ids), which
    is how workflow.projections reads it back. Facts and allocations are numbered by the store. The
    rows go to the driver in batches, one statement for all of them (store.link).
    """
    if table not in GUARDED:
        raise KeyError(f"{table!r} is not a table the guards read")
    conn.execute(f"delete_all({table})")
    if not rows:
        return
    columns = tuple(rows[0])
    key = f"insert_rows({table},{','.join(columns)})"
    encoded = [{k: json.dumps(v) if isinstance(v, list) else v for k, v in row.items()} for row in rows]
    for start in range(0, len(encoded), _BATCH):
        conn.execute_many(key, encoded[start:start + _BATCH])
