"""Connecting to the store: SQLite by default, PostgreSQL by URL; units of work; migrations.

Every driver error is translated here into casework's own exceptions, so nothing above
``store/`` ever catches a SQLAlchemy exception.
"""
from __future__ import annotations

import os
import re
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError, SQLAlchemyError

from workflow.errors import AlreadyExists, BadInput, ConcurrentUpdate, LostRace, StoreNotReady

__all__ = ["Store", "DEFAULT_URL", "resolve_url"]

DEFAULT_URL = "sqlite:///casework.db"
#: how long a writer waits for another writer of this process (SQLite's busy_timeout likewise)
_WRITER_WAIT_SECONDS = 30
_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: a role name casework will quote into GRANT statements
_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
#: the first bytes of every SQLite database file
_SQLITE_MAGIC = b"SQLite format 3\x00"


def known_revisions() -> list[str]:
    """The schema revisions this casework's migrations know, oldest first (file names start with them)."""
    return sorted(p.name.split("_", 1)[0] for p in (_MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def resolve_url(db: str | None) -> str:
    """``--db`` / ``CASEWORK_DB``: a SQLAlchemy URL, or a plain path to a SQLite file."""
    db = db or os.environ.get("CASEWORK_DB") or DEFAULT_URL
    if "://" in db:
        return db.replace("postgresql://", "postgresql+psycopg://", 1) if db.startswith("postgresql://") else db
    return f"sqlite:///{Path(db).expanduser()}"


def _sqlite_file(url: str) -> Path | None:
    database = url.split(":///", 1)[1] if ":///" in url else ""
    return Path(database) if database and database != ":memory:" and not database.startswith("file:") else None


def _read_only_url(path: Path | None) -> str:
    """A SQLite URL that opens *path* without writing anything (no journal, no -wal or -shm files)."""
    return f"sqlite:///file:{path}?immutable=1&uri=true"


def _sqlite_setup(engine: Engine, read_only: bool = False) -> None:
    """WAL with synchronous=FULL (a committed move survives a power cut); writers queue up."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # pragma: no cover - driver callback
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        if not read_only:
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
        #: the SQLite file (None for PostgreSQL or an in-memory database)
        self.path = _sqlite_file(self.url) if self.is_sqlite else None
        #: a SQLite file this process may read but not write (an auditor's copy): opened immutable
        self.read_only = self.path is not None and self.path.exists() and not os.access(self.path, os.W_OK)
        self._checked = False
        try:
            self.engine = create_engine(_read_only_url(self.path) if self.read_only else self.url)
            self._writer = self.engine.execution_options(casework_write=True)
            self._held: Connection | None = None
            self._held_lock = threading.Lock()
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StoreNotReady(f"Cannot use the store {self.url!r}: {exc}") from None
        if self.is_sqlite:
            _sqlite_setup(self.engine, self.read_only)

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except IntegrityError as exc:
            text = str(exc.orig).lower()
            if "uq_audit_chain_seq" in text or "audit.chain" in text:
                raise LostRace("Someone else changed this record at the same moment; "
                               "nothing was written. Reload it and try again.") from None
            if "unique" in text or "duplicate key" in text:
                raise AlreadyExists(f"That already exists: {exc.orig}") from None
            raise BadInput(f"The store refused the change ({exc.orig}); a required value is missing or invalid. "
                           "Nothing was written.") from None
        except OperationalError as exc:
            text = str(exc.orig).lower()
            if "could not serialize" in text or "deadlock detected" in text:
                raise LostRace("Another writer changed the same records at the same moment; nothing was "
                               "written. Try again.") from None
            if "locked" in text or "busy" in text:
                raise ConcurrentUpdate("The store is busy with another writer; nothing was written. "
                                       "Try again.") from None
            if "no such table" in text:
                raise StoreNotReady(f"The store {self} has no casework tables: run 'casework init'.") from None
            if "readonly" in text or "read-only" in text:
                raise StoreNotReady(f"The store {self} is read-only here: it can be read and verified, not "
                                    f"written. Nothing was written.") from None
            raise StoreNotReady(f"Cannot use the store {self}: {exc.orig}") from None
        except ProgrammingError as exc:
            if "does not exist" in str(exc.orig):
                raise StoreNotReady(f"The store {self} has no casework tables: run 'casework init'.") from None
            if "permission denied" in str(exc.orig):
                raise StoreNotReady(f"The store {self} does not let this database role do that ({exc.orig}); "
                                    f"nothing was written. An owner's operation such as 'audit rebuild' needs the "
                                    f"role that owns the tables (the one that ran 'casework init').") from None
            raise StoreNotReady(f"Cannot use the store {self}: {exc.orig}") from None
        except DBAPIError as exc:
            text = str(exc.orig).lower()
            if "malformed" in text or "not a database" in text or "corrupt" in text:
                raise StoreNotReady(_corrupt(self)) from None
            raise StoreNotReady(f"Cannot use the store {self}: {exc.orig}") from None

    def _exists(self) -> None:
        """A store is created by 'casework init' only: reading a missing SQLite file never makes one."""
        if self.path is not None and not self.path.exists():
            raise StoreNotReady(f"There is no store at {self.path}: create it with 'casework init' (with --db {self.path}); "
                                "nothing was created.")

    def _check_before_writing(self) -> None:
        """Once per store object: refuse a read-only, damaged or newer store before anything is written."""
        if self._checked:
            return
        self._exists()
        if self.read_only:
            raise StoreNotReady(f"The store {self} is read-only here: it can be read and verified, not written. "
                                "Nothing was written.")
        if self.path is not None:
            _check_sqlite_file(self.path, self)
        revision, newest = self.revision(), known_revisions()[-1]
        if revision is not None and revision not in known_revisions():
            raise StoreNotReady(f"The store {self} is at schema revision {revision}, newer than this casework "
                                f"knows (it knows up to {newest}): install the casework that made it (or a newer "
                                f"one) before writing. Nothing was written.")
        if revision is not None and revision != newest:
            raise StoreNotReady(f"The store {self} is at schema revision {revision}; this casework needs {newest}: "
                                f"run 'casework init' to upgrade it.")
        self._checked = True

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One unit of work: everything inside commits together or not at all."""
        self._check_before_writing()
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
        self._exists()
        with self._translated(), self.engine.connect() as conn:
            yield conn

    def upgrade(self) -> str:
        """Create or upgrade the schema to the newest migration; returns the revision."""
        from alembic import command
        from alembic.config import Config

        if self.read_only:
            raise StoreNotReady(f"The store {self} is read-only here: it cannot be created or upgraded.")
        if self.path is not None and self.path.exists():
            _check_sqlite_file(self.path, self)
        current = self.revision() if self.path is None or self.path.exists() else None
        if current is not None and current not in known_revisions():
            raise StoreNotReady(f"The store {self} is at schema revision {current}, newer than this casework knows "
                                f"(up to {known_revisions()[-1]}): install a newer casework.")
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self._translated(), self.engine.connect() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()
        self._checked = False
        return self.revision() or ""

    def revision(self) -> str | None:
        """The schema revision the store is at, or None before ``casework init``."""
        if self.path is not None and not self.path.exists():
            return None
        with self._translated(), self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()

    def grant_application_role(self, role: str) -> list[str]:
        """Let *role* run casework and nothing more (PostgreSQL): the statements run, for the record.

        The role that runs ``init`` owns the tables; the application role may add audit entries,
        facts and allocations but never change or remove them, may change the projections
        casework keeps current (cases, markers, staff), may only read the store's settings
        (so it cannot make a live store a training sandbox), and owns nothing.
        """
        if self.is_sqlite:
            raise BadInput("An application role is for PostgreSQL: a SQLite file belongs to whoever owns the file.")
        if not _ROLE.match(role):
            raise BadInput(f"{role!r} is not a plain PostgreSQL role name (letters, digits and '_').")
        statements = [
            f'GRANT USAGE ON SCHEMA public TO "{role}"',
            f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"',
            f'GRANT SELECT, INSERT ON audit, facts, allocations, definitions TO "{role}"',
            f'GRANT SELECT, INSERT, UPDATE ON cases, markers, staff TO "{role}"',
            f'GRANT SELECT ON settings, alembic_version TO "{role}"',
            f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"',
        ]
        with self._translated(), self.engine.connect() as conn:
            exists = conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %(r)s", {"r": role}).first()
            if not exists:
                statements.insert(0, f'CREATE ROLE "{role}" LOGIN')
            for sql in statements:
                conn.exec_driver_sql(sql)
            conn.commit()
        return statements

    def damage(self) -> str | None:
        """What SQLite's own check finds wrong with the file (None when sound, or for PostgreSQL)."""
        if self.path is None:
            return None
        self._exists()
        try:
            _check_sqlite_file(self.path, self)
        except StoreNotReady as exc:
            return str(exc)
        with self.read() as conn:
            found = [row[0] for row in conn.exec_driver_sql("PRAGMA quick_check").fetchall()]
        return None if found == ["ok"] else "; ".join(found[:5])

    def dispose(self) -> None:
        """Close the store's connections (embedding services call this on shutdown)."""
        with self._held_lock:
            if self._held is not None:
                self._held.close()
                self._held = None
        self.engine.dispose()


def _corrupt(store: "Store") -> str:
    return (f"The store {store} is damaged (not a readable SQLite database); nothing was written. Restore it from "
            f"a backup, or check it with 'sqlite3 FILE \"PRAGMA integrity_check\"'.")


def _check_sqlite_file(path: Path, store: "Store") -> None:
    """A damaged file is refused before a write lands in it: the header, and a size that matches its pages.

    SQLite itself reports a damaged page when a statement reads it; this catches what a write might not
    read first (a truncated file, or one overwritten from the start). `audit verify` runs the full check.
    """
    try:
        with path.open("rb") as file:
            header = file.read(100)
        size = path.stat().st_size
    except OSError as exc:
        raise StoreNotReady(f"Cannot read the store {store}: {exc.strerror}") from None
    if size == 0:
        return  # a file SQLite has just created, still empty
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        raise StoreNotReady(_corrupt(store))
    page_size = int.from_bytes(header[16:18], "big") or 65536
    pages = int.from_bytes(header[28:32], "big")
    size_valid = header[24:28] == header[92:96]  # SQLite trusts the page count only when these agree
    if pages and size_valid and size < pages * page_size:
        raise StoreNotReady(_corrupt(store))
