"""Connecting to the store: SQLite by default, PostgreSQL by URL; units of work; migrations.

Every driver error is translated here into casework's own exceptions, so nothing above
``store/`` ever catches a SQLAlchemy exception.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError, SQLAlchemyError

from workflow.errors import AlreadyExists, ConcurrentUpdate, StoreNotReady

__all__ = ["Store", "DEFAULT_URL", "resolve_url"]

DEFAULT_URL = "sqlite:///casework.db"
#: how long a writer waits for another writer of this process (SQLite's busy_timeout likewise)
_WRITER_WAIT_SECONDS = 30
_MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def resolve_url(db: str | None) -> str:
    """``--db`` / ``CASEWORK_DB``: a SQLAlchemy URL, or a plain path to a SQLite file."""
    db = db or os.environ.get("CASEWORK_DB") or DEFAULT_URL
    if "://" in db:
        return db.replace("postgresql://", "postgresql+psycopg://", 1) if db.startswith("postgresql://") else db
    return f"sqlite:///{Path(db).expanduser()}"


def _sqlite_setup(engine: Engine) -> None:
    """WAL with synchronous=FULL (a committed move survives a power cut); writers queue up."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # pragma: no cover - driver callback
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:  # pragma: no cover - driver callback
        immediate = conn.get_execution_options().get("casework_write", False)
        # straight to the driver: SQLAlchemy's recipe runs this through exec_driver_sql,
        # which costs a statement's worth of overhead on every unit of work
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Store:
    """A casework database. Use :meth:`write` for a unit of work, :meth:`read` for queries."""

    def __init__(self, url: str | None = None):
        self.url = resolve_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        try:
            self.engine = create_engine(self.url)
            self._writer = self.engine.execution_options(casework_write=True)
            self._held: Connection | None = None
            self._held_lock = threading.Lock()
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StoreNotReady(f"Cannot use the store {self.url!r}: {exc}") from None
        if self.is_sqlite:
            _sqlite_setup(self.engine)

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except IntegrityError as exc:
            text = str(exc.orig).lower()
            if "uq_audit_chain_seq" in text or "audit.chain" in text:
                raise ConcurrentUpdate("Someone else changed this case at the same moment; "
                                       "nothing was written. Reload it and try again.") from None
            raise AlreadyExists(f"That already exists: {exc.orig}") from None
        except OperationalError as exc:
            text = str(exc.orig).lower()
            if "locked" in text or "busy" in text or "could not serialize" in text:
                raise ConcurrentUpdate("The store is busy with another writer; nothing was written. "
                                       "Try again.") from None
            if "no such table" in text:
                raise StoreNotReady(f"The store {self} has no casework tables: run 'casework init'.") from None
            raise StoreNotReady(f"Cannot use the store {self}: {exc.orig}") from None
        except ProgrammingError as exc:
            if "does not exist" in str(exc.orig):
                raise StoreNotReady(f"The store {self} has no casework tables: run 'casework init'.") from None
            raise StoreNotReady(f"Cannot use the store {self}: {exc.orig}") from None
        except DBAPIError as exc:
            raise StoreNotReady(f"Cannot use the store {self}: {exc.orig}") from None

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One unit of work: everything inside commits together or not at all."""
        if self.is_sqlite:
            with self._sqlite_writer() as conn, self._translated(), conn.begin():
                yield conn
            return
        with self._translated(), self._writer.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _sqlite_writer(self) -> Iterator[Connection]:
        """The process's one SQLite writer connection, kept open between units of work.

        SQLite lets one writer at a time into a file, so one connection loses no
        concurrency, and keeping it spares each unit of work a pool checkout and return
        (about a quarter of a durable move). Writers of this process queue on a lock, as
        writers of other processes queue on the file's busy timeout.
        """
        if not self._held_lock.acquire(timeout=_WRITER_WAIT_SECONDS):
            raise ConcurrentUpdate("The store is busy with another writer; nothing was written. Try again.")
        try:
            if self._held is None:
                with self._translated():
                    self._held = self._writer.connect()
            conn = self._held
            try:
                yield conn
            finally:
                if conn.invalidated or conn.closed:
                    self._held = None
                    conn.close()
        finally:
            self._held_lock.release()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only connection (its transaction is rolled back at the end)."""
        with self._translated(), self.engine.connect() as conn:
            yield conn

    def upgrade(self) -> str:
        """Create or upgrade the schema to the newest migration; returns the revision."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self._translated(), self.engine.connect() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()
        return self.revision() or ""

    def revision(self) -> str | None:
        """The schema revision the store is at, or None before ``casework init``."""
        with self.read() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()

    def dispose(self) -> None:
        """Close the store's connections (embedding services call this on shutdown)."""
        with self._held_lock:
            if self._held is not None:
                self._held.close()
                self._held = None
        self.engine.dispose()
