"""Statements a move runs every time, compiled once and run straight on the driver.

SQLAlchemy's per-execution work (execution context, events, result wrapping) costs a
statement several times what SQLite itself spends on it; a durable move runs four
of them. A :class:`Prepared` statement is still written as SQLAlchemy Core and compiled
by SQLAlchemy for the store's dialect, once; only its execution goes to the DBAPI
cursor of the caller's connection, inside the caller's transaction. It accepts only
statements whose parameters and results need no type conversion (checked when it is
compiled), and driver errors come out as SQLAlchemy's, so the store translates them as
usual.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import Executable

__all__ = ["Prepared"]


class _Compiled:
    """One statement's SQL text for one dialect, with how to order its parameters."""

    def __init__(self, statement: Any, dialect: Dialect):
        compiled = statement.compile(dialect=dialect)
        for name, bind in compiled.binds.items():
            if bind.expanding or bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
                raise TypeError(f"parameter {name!r} needs SQLAlchemy at execution time; run it with conn.execute")
        for column in getattr(statement, "selected_columns", ()):
            if column.type.dialect_impl(dialect).result_processor(dialect, None) is not None:
                raise TypeError(f"column {column.name!r} needs SQLAlchemy at execution time; run it with conn.execute")
        if getattr(compiled, "escaped_bind_names", None):
            raise TypeError("parameter names need escaping; run it with conn.execute")
        self.sql = compiled.string
        #: values fixed in the statement itself (e.g. the literal 'staff' of the staff chain's head)
        self.fixed = {name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required}
        self.positions = tuple(compiled.positiontup) if compiled.positional else None
        self.names = tuple(compiled.binds)

    def parameters(self, params: dict[str, Any]) -> Any:
        """The driver's parameters: a tuple in placeholder order, or a mapping by name."""
        values = {**self.fixed, **params} if self.fixed else params
        try:
            if self.positions is not None:
                return tuple(values[name] for name in self.positions)
            return {name: values[name] for name in self.names}
        except KeyError as missing:
            raise TypeError(f"no value for parameter {missing}") from None


class Prepared:
    """A Core statement for the hot path of a move (see the module docstring)."""

    def __init__(self, statement: Executable):
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        key = f"{dialect.name}+{dialect.driver}"
        if key not in self._by_dialect:
            self._by_dialect[key] = _Compiled(self.statement, dialect)
        return self._by_dialect[key]

    def _run(self, conn: Connection, params: dict[str, Any] | list[dict[str, Any]]) -> Any:
        compiled = self._for(conn.dialect)
        many = isinstance(params, list)
        args = [compiled.parameters(p) for p in params] if many else compiled.parameters(params)
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            (cursor.executemany if many else cursor.execute)(compiled.sql, args)
        except conn.dialect.loaded_dbapi.Error as err:
            invalidated = conn.dialect.is_disconnect(err, conn.connection.dbapi_connection, cursor)
            if invalidated:
                conn.invalidate(err)
            raise DBAPIError.instance(compiled.sql, args, err, conn.dialect.loaded_dbapi.Error,
                                      connection_invalidated=invalidated, dialect=conn.dialect) from err
        return cursor

    def execute(self, conn: Connection, params: dict[str, Any]) -> int:
        """Run a write; returns the number of rows it changed."""
        cursor = self._run(conn, params)
        count = cursor.rowcount
        cursor.close()
        return count

    def execute_many(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Run a write once for each of *rows*, in one call to the driver (a bulk insert)."""
        self._run(conn, rows).close()

    def first(self, conn: Connection, params: dict[str, Any]) -> dict[str, Any] | None:
        """Run a query; returns its first row by column name, or None."""
        cursor = self._run(conn, params)
        row = cursor.fetchone()
        names = [d[0] for d in cursor.description]
        cursor.close()
        return dict(zip(names, row)) if row is not None else None
