"""The two kinds of store casework runs on, each on its own DB-API driver: SQLite and PostgreSQL.

store.database's Store takes units of work from one of these; this module only opens,
lends and closes connections.
"""
from __future__ import annotations

import itertools
import threading
from pathlib import Path
from typing import Any

__all__ = ["SQLite", "PostgreSQL", "Kept", "sqlite_file", "driver_error", "WRITER_WAIT_SECONDS"]

#: how long a writer waits for another writer of this process (SQLite's busy_timeout likewise)
WRITER_WAIT_SECONDS = 30


def _sqlite_database(url: str) -> str:
    """What follows ``sqlite:///`` ('' or ':memory:' for an in-memory store)."""
    return url.split(":///", 1)[1] if ":///" in url else ""


def sqlite_file(url: str) -> Path | None:
    database = _sqlite_database(url)
    return Path(database) if database and database != ":memory:" and not database.startswith("file:") else None


class SQLite:
    """SQLite on the standard library's driver: one writer connection, kept open; a reader per thread.

    SQLite lets one writer at a time into a file, so one connection loses no concurrency, and keeping
    it spares each unit of work a connect (about a quarter of a durable move). Writers of this process
    queue on a lock, as writers of other processes queue on the file's busy timeout. An in-memory store
    is one connection that readers share with the writer.
    """

    def __init__(self, url: str, path: Path | None, read_only: bool):
        import sqlite3

        self.driver = sqlite3
        self.url, self.path, self.read_only = url, path, read_only
        self.memory = path is None and not _sqlite_database(url).startswith("file:")
        self.lock = threading.Lock()
        self._writer: Any = None
        self._readers = threading.local()
        self._opened: list[Any] = []

    def connect(self) -> Any:
        if self.read_only and self.path is not None:  # an auditor's copy: no journal, no -wal or -shm files
            conn = self.driver.connect(f"{self.path.resolve().as_uri()}?immutable=1", uri=True,
                                       isolation_level=None, check_same_thread=False)
        else:
            database = _sqlite_database(self.url)
            conn = self.driver.connect(database or ":memory:", uri=database.startswith("file:"),
                                       isolation_level=None, check_same_thread=False, timeout=WRITER_WAIT_SECONDS)
        try:
            if not self.read_only:  # WAL with synchronous=FULL: a committed move survives a power cut
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
            conn.execute(f"PRAGMA busy_timeout={WRITER_WAIT_SECONDS * 1000}")
        except self.driver.Error:
            conn.close()
            raise
        self._opened.append(conn)
        return conn

    def writer(self) -> Any:
        if self._writer is None:
            self._writer = self.connect()
        return self._writer

    def reader(self) -> Any:
        if self.memory:
            return self.writer()
        conn = getattr(self._readers, "conn", None)
        if conn is None:
            conn = self._readers.conn = self.connect()
        return conn

    def close(self) -> None:
        for conn in self._opened:
            conn.close()
        self._opened.clear()
        self._writer = None
        self._readers = threading.local()


class PostgreSQL:
    """PostgreSQL on psycopg, its connections pooled by SQLAlchemy (imported only for a PostgreSQL store)."""

    def __init__(self, url: str):
        import psycopg
        from sqlalchemy import create_engine

        self.driver = psycopg
        self.engine = create_engine(url)
        self._names = itertools.count()

    def connect(self) -> Any:
        from sqlalchemy.exc import DBAPIError

        try:
            return self.engine.raw_connection()
        except DBAPIError as exc:  # connecting failed: the driver's own error, translated by the store
            raise driver_error(exc) from None

    def stream_cursor(self, conn: Any) -> Any:
        return conn.cursor(name=f"casework_stream_{next(self._names)}")

    def release(self, conn: Any, failed: bool) -> None:
        raw = conn.dbapi_connection
        if raw is not None and raw.closed:
            conn.invalidate()
        else:
            try:
                if failed:
                    conn.rollback()
            except self.driver.Error:
                conn.invalidate()
        conn.close()

    def close(self) -> None:
        self.engine.dispose()


class Kept:
    """The store's SQLite connection lent to SQLAlchemy for a migration: closing it leaves it open."""

    def __init__(self, conn: Any):
        self._conn = conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def close(self) -> None:
        """The store closes its own connections (Store.dispose)."""


def driver_error(exc: Any) -> BaseException:
    """The driver's own exception inside SQLAlchemy's wrapper (what the store translates)."""
    original: BaseException = exc.orig
    return original
