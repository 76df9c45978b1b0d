"""A connection to the store as the code above sees it: named statements run on the DB-API driver.

SQLAlchemy compiles every statement ahead of time (store/statements.py writes store/compiled_sql.json);
this module only looks the SQL up and hands it to the driver's cursor, so an everyday
command never imports SQLAlchemy (about 0.45 s of a CLI call on a 2-core machine). A
statement the catalogue lacks, or a parameter list the driver cannot take, is compiled
by SQLAlchemy when first needed and kept for the rest of the process.

Rows come back as :class:`Row`: a tuple that also answers by column name (``row.seq``,
``row._mapping``), as SQLAlchemy's rows do, so callers read them one way.
"""
from __future__ import annotations

import json
import re
import threading
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

__all__ = ["Link", "Result", "Row"]


def _shipped() -> dict[str, Any]:
    """The SQL of every everyday statement, compiled ahead for each dialect (store/statements.py writes it);
    without the file (while it is being written) every statement is compiled when first run."""
    try:
        found: dict[str, Any] = json.loads((Path(__file__).resolve().parent / "compiled_sql.json").read_text("utf-8"))
    except FileNotFoundError:
        return {"catalogue": {}, "fingerprint": ""}
    return found


_SHIPPED = _shipped()
CATALOGUE: dict[str, dict[str, dict[str, Any]]] = _SHIPPED["catalogue"]
FINGERPRINT: str = _SHIPPED["fingerprint"]
_POSTCOMPILE = re.compile(r"__\[POSTCOMPILE_(\w+)\]")
_NAMED = re.compile(r"%\((\w+)\)s")
_compiled: dict[tuple[str, str], dict[str, Any]] = {}
_compile_lock = threading.Lock()
_STREAM_ROWS = 5000


def _statement(dialect: str, key: str) -> dict[str, Any]:
    """The compiled form of *key*: the shipped catalogue's, else SQLAlchemy's (compiled once)."""
    found = CATALOGUE.get(dialect, {}).get(key) or _compiled.get((dialect, key))
    if found is None:
        from . import statements  # imports SQLAlchemy: only for a statement the catalogue lacks

        with _compile_lock:
            found = _compiled.setdefault((dialect, key), statements.compile_key(key, dialect))
    return found


def _row_type(names: tuple[str, ...]) -> type["Row"]:
    cached = _ROW_TYPES.get(names)
    if cached is None:
        cached = _ROW_TYPES[names] = type("Row", (Row,), {"_fields": names,
                                                          "_index": {n: i for i, n in enumerate(names)}})
    return cached


class Row(tuple):  # type: ignore[type-arg]
    """One result row: a tuple, and its values by column name."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _index: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        try:
            return self[self._index[name]]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def _mapping(self) -> dict[str, Any]:
        return dict(zip(self._fields, self, strict=False))


_ROW_TYPES: dict[tuple[str, ...], type[Row]] = {}


class Result:
    """A statement's outcome: its rows (read once, in order) and how many rows a write changed."""

    def __init__(self, cursor: Any):
        self._cursor = cursor
        self.rowcount: int = cursor.rowcount
        description = cursor.description
        self._type = _row_type(tuple(d[0] for d in description)) if description else None

    def __iter__(self) -> Iterator[Row]:
        if self._type is None:
            return
        make = self._type
        while True:
            batch = self._cursor.fetchmany(_STREAM_ROWS)
            if not batch:
                break
            for row in batch:
                yield make(row)
        self._cursor.close()

    def all(self) -> list[Row]:
        """Every row."""
        return list(self)

    fetchall = all

    def first(self) -> Row | None:
        """The first row, or None; the rest are discarded."""
        if self._type is None:
            return None
        row = self._cursor.fetchone()
        self._cursor.close()
        return self._type(row) if row is not None else None

    def scalar(self) -> Any:
        """The first column of the first row, or None."""
        row = self.first()
        return row[0] if row is not None else None

    def scalar_one(self) -> Any:
        """The first column of the one row there must be."""
        row = self.first()
        if row is None:
            raise LookupError("the statement returned no row")
        return row[0]

    def one(self) -> Row:
        """The one row there must be."""
        rows = self.all()
        if len(rows) != 1:
            raise LookupError(f"the statement returned {len(rows)} rows, not one")
        return rows[0]

    def scalars(self) -> Iterator[Any]:
        """The first column of every row."""
        return (row[0] for row in self)

    def mappings(self) -> "_Mappings":
        """Every row as a mapping of column name to value."""
        return _Mappings(self)


class _Mappings:
    """A result's rows as mappings: iterate them, or take the one there must be."""

    def __init__(self, result: Result):
        self._result = result

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (row._mapping for row in self._result)

    def one(self) -> dict[str, Any]:
        """The one row there must be, as a mapping."""
        return self._result.one()._mapping

    def all(self) -> list[dict[str, Any]]:
        """Every row as a mapping."""
        return list(self)


class Link:
    """One DB-API connection inside the store's unit of work (or read), running statements by key.

    *dialect* is 'sqlite' or 'postgresql'; *driver* is the DB-API module whose exceptions the
    store translates; *url* names the store (for caches keyed by store).
    """

    def __init__(self, dbapi_connection: Any, dialect: str, url: str, *, stream_cursor: Any = None,
                 reopen: "Callable[[], AbstractContextManager[Link]] | None" = None):
        self.connection = dbapi_connection
        self.dialect = dialect
        self.url = url
        self._stream_cursor = stream_cursor
        self._qmark = dialect == "sqlite"
        #: False once its unit of work has ended: what read through it later must use ``reopen``
        self.open = True
        #: a new read of the same store (what a value read lazily uses once the unit has ended)
        self.reopen = reopen

    @contextmanager
    def current(self) -> "Iterator[Link]":
        """This link while its unit of work lasts; afterwards a new read of the store."""
        if self.open or self.reopen is None:
            yield self
            return
        with self.reopen() as link:
            yield link

    def _prepared(self, key: Any, params: dict[str, Any] | None) -> tuple[str, Any]:
        if not isinstance(key, str):  # a Core statement written on the spot (a test, a one-off repair)
            from . import statements

            compiled = statements.compile_statement(key, self.dialect, params or {})
            return self._arguments("the statement", compiled["sql"], compiled["positions"], compiled["fixed"])
        compiled = _statement(self.dialect, key)
        values = {**compiled["fixed"], **params} if params else dict(compiled["fixed"])
        sql = compiled["sql"]
        if compiled["expanding"]:
            sql, values, fallback = self._expanded(sql, compiled["expanding"], values)
            if fallback:  # an empty list, or one of tuples: SQLAlchemy knows how to render those
                from . import statements

                compiled = statements.compile_key(key, self.dialect, values)
                sql, values = compiled["sql"], compiled["fixed"]
        return self._arguments(key, sql, compiled["positions"], values, bool(compiled["expanding"]))

    def _arguments(self, what: str, sql: str, positions: list[str] | None, values: dict[str, Any],
                   expanded: bool = True) -> tuple[str, Any]:
        """The driver's arguments: a tuple in placeholder order (SQLite), or a mapping by name (PostgreSQL)."""
        try:
            if self._qmark:
                if not positions:
                    return sql, ()
                if not expanded:
                    return sql, tuple(map(values.__getitem__, positions))
                return sql, tuple(values[name] for name in _positions(positions, values))
            for name in _NAMED.findall(sql):
                values[name]
        except KeyError as missing:
            raise TypeError(f"{what}: no value for parameter {missing}") from None
        return sql, {k: v for k, v in values.items() if not k.startswith("__order_")}

    def _expanded(self, sql: str, names: list[str], values: dict[str, Any]) -> tuple[str, dict[str, Any], bool]:
        for name in names:
            items = values.get(name)
            if not isinstance(items, (list, tuple)) or not items or isinstance(items[0], (list, tuple)):
                return sql, values, True
        out = dict(values)

        def render(match: re.Match[str]) -> str:
            name = match[1]
            items = out.pop(name)
            parts = [f"{name}_{i}" for i in range(1, len(items) + 1)]
            out.update(zip(parts, items, strict=False))
            out[f"__order_{name}"] = parts
            return ", ".join("?" if self._qmark else f"%({p})s" for p in parts)

        return _POSTCOMPILE.sub(render, sql), out, False

    def execute(self, key: Any, params: dict[str, Any] | list[dict[str, Any]] | None = None) -> Result:
        """Run the statement named *key* with *params* (by name), or once for each mapping of a list of them;
        *key* may also be a Core statement."""
        if isinstance(params, list):
            return self.execute_many(key, params)
        sql, args = self._prepared(key, params)
        cursor = self.connection.cursor()
        cursor.execute(sql, args)
        return Result(cursor)

    def execute_many(self, key: Any, rows: list[dict[str, Any]]) -> Result:
        """Run a write once for each of *rows*, in one call to the driver (a bulk insert)."""
        cursor = self.connection.cursor()
        if rows:
            prepared = [self._prepared(key, row) for row in rows]
            cursor.executemany(prepared[0][0], [args for _sql, args in prepared])
        return Result(cursor)

    def stream(self, key: str, params: dict[str, Any] | None = None) -> Iterator[Row]:
        """The rows of a large query, fetched in batches (a server-side cursor on PostgreSQL)."""
        sql, args = self._prepared(key, params)
        cursor = self._stream_cursor(self.connection) if self._stream_cursor else self.connection.cursor()
        cursor.execute(sql, args)
        yield from Result(cursor)

    def stream_tuples(self, key: str, params: dict[str, Any] | None = None) -> Iterator[tuple[Any, ...]]:
        """As :meth:`stream`, the rows as plain tuples in the statement's column order (the fastest form, for a
        pass over a whole table)."""
        sql, args = self._prepared(key, params)
        cursor = self._stream_cursor(self.connection) if self._stream_cursor else self.connection.cursor()
        cursor.execute(sql, args)
        yield from _batches(cursor)

    def stream_named(self, key: str, params: dict[str, Any] | None = None
                     ) -> tuple[tuple[str, ...], Iterator[tuple[Any, ...]]]:
        """As :meth:`stream_tuples`, with the column names the tuples follow (for a pass over a whole table)."""
        sql, args = self._prepared(key, params)
        cursor = self._stream_cursor(self.connection) if self._stream_cursor else self.connection.cursor()
        cursor.execute(sql, args)
        return tuple(d[0] for d in cursor.description), _batches(cursor)

    def exec_driver_sql(self, sql: str, params: Any = None) -> Result:
        """Run SQL text as written, on the driver (a PRAGMA, a GRANT, a LOCK TABLE)."""
        cursor = self.connection.cursor()
        cursor.execute(sql, params) if params is not None else cursor.execute(sql)
        return Result(cursor)


def _batches(cursor: Any) -> Iterator[tuple[Any, ...]]:
    """A cursor's rows as the driver gives them, fetched in batches; the cursor is closed after the last."""
    while True:
        batch = cursor.fetchmany(_STREAM_ROWS)
        if not batch:
            break
        yield from batch
    cursor.close()


def _positions(positions: Iterable[str], values: dict[str, Any]) -> Iterator[str]:
    """Placeholder order, with each expanded list's own parameters in its place."""
    for name in positions:
        order = values.get(f"__order_{name}")
        if order is None:
            yield name
        else:
            yield from order
