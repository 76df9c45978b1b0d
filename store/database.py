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
from typing import Any, Iterator

from casework.errors import AlreadyExists, BadInput, CaseworkError, ConcurrentUpdate, LostRace, StoreNotReady

from .backends import WRITER_WAIT_SECONDS as _WRITER_WAIT_SECONDS
from .backends import Kept, PostgreSQL, SQLite, driver_error, sqlite_file
from .batch import Batch
from .link import Link

__all__ = ["Store", "Batch", "DEFAULT_URL", "resolve_url"]

DEFAULT_URL = "sqlite:///casework.db"
_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: what the application role may do, table by table (Store.grant_application_role)
_APPLICATION_GRANTS = (
    "SELECT, INSERT ON audit, facts, allocations, definitions",
    "SELECT, INSERT, UPDATE ON cases, markers, holders, staff",
    "SELECT ON settings, alembic_version",
    "SELECT, INSERT, DELETE ON due_dates, due_cases",
    "USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public",
)


def _quoted(role: str) -> str:
    """A role name as a PostgreSQL identifier, whatever it holds."""
    return '"' + role.replace('"', '""') + '"'


#: a role name casework will quote into GRANT statements
_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
#: the first bytes of every SQLite database file
_SQLITE_MAGIC = b"SQLite format 3\x00"
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")


_CORRUPT = ("The store {store} is damaged (not a readable SQLite database); nothing was written. Restore it from "
            "a backup, or check it with 'sqlite3 FILE \"PRAGMA integrity_check\"'.")


_NO_TABLES = "The store {store} has no casework tables: run 'casework init'."
_READ_ONLY = "The store {store} is read-only here: it can be read and verified, not written. Nothing was written."
#: what a driver error means, first match wins: (DB-API class, words in its message (none: any), our error, text)
_MEANINGS: tuple[tuple[str, tuple[str, ...], type[CaseworkError], str], ...] = (
    ("IntegrityError", ("uq_audit_chain_seq", "audit.chain"), LostRace,
     "Someone else changed this record at the same moment; nothing was written. Reload it and try again."),
    # two writers keeping the same protocol version at once (its first cases opened side by side): the loser's
    # unit of work is run again, and then finds the version kept
    ("IntegrityError", ("definitions_pkey", "definitions.digest"), LostRace,
     "Someone else kept this protocol version at the same moment; nothing was written. Try again."),
    ("IntegrityError", ("unique", "duplicate key"), AlreadyExists, "That already exists: {exc}"),
    ("IntegrityError", (), BadInput,
     "The store refused the change ({exc}); a required value is missing or invalid. Nothing was written."),
    ("OperationalError", ("could not serialize", "deadlock detected"), LostRace,
     "Another writer changed the same records at the same moment; nothing was written. Try again."),
    ("OperationalError", ("locked", "busy"), ConcurrentUpdate,
     "The store is busy with another writer; nothing was written. Try again."),
    ("OperationalError", ("no such table",), StoreNotReady, _NO_TABLES),
    ("OperationalError", ("readonly", "read-only"), StoreNotReady, _READ_ONLY),
    ("ProgrammingError", ("does not exist",), StoreNotReady, _NO_TABLES),
    ("ProgrammingError", ("permission denied",), StoreNotReady,
     "The store {store} does not let this database role do that ({exc}); nothing was written. An owner's "
     "operation such as 'audit rebuild' needs the role that owns the tables (the one that ran 'casework init')."),
    ("Error", ("malformed", "not a database", "corrupt"), StoreNotReady, _CORRUPT),
)


def known_revisions() -> list[str]:
    """The schema revisions this casework's migrations know, oldest first (file names start with them)."""
    return sorted(p.name.split("_", 1)[0] for p in (_MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def resolve_url(db: str | None) -> str:
    """``--db`` / ``CASEWORK_DB``: a SQLAlchemy URL, or a plain path to a SQLite file."""
    db = db or os.environ.get("CASEWORK_DB") or DEFAULT_URL
    if "://" in db:
        return db.replace("postgresql://", "postgresql+psycopg://", 1) if db.startswith("postgresql://") else db
    return f"sqlite:///{Path(db).expanduser()}"


class Store:
    """A casework database. Use :meth:`write` for a unit of work, :meth:`read` for queries."""

    def __init__(self, url: str | None = None):
        self.url = resolve_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        #: the SQLite file (None for PostgreSQL or an in-memory database)
        self.path = sqlite_file(self.url) if self.is_sqlite else None
        #: a SQLite file this process may read but not write (an auditor's copy): opened immutable
        self.read_only = self.path is not None and self.path.exists() and not os.access(self.path, os.W_OK)
        self._checked = False
        self.dialect = "sqlite" if self.is_sqlite else "postgresql"
        try:
            if self.is_sqlite:
                self._backend: SQLite | PostgreSQL = SQLite(self.url, self.path, self.read_only)
            elif self.url.startswith("postgresql"):
                self._backend = PostgreSQL(self.url)
            else:
                raise ValueError("casework stores are SQLite files or PostgreSQL databases")
        except Exception as exc:  # a bad URL or a missing driver, in whatever form the library reports it
            raise StoreNotReady(f"Cannot use the store {_shown(self.url)!r}: {exc}") from None
        self._errors = self._backend.driver
        #: the open batch (Store.batch) and the thread that holds it: its units of work are savepoints in it
        self._batch: Batch | None = None

    def __repr__(self) -> str:
        return f"Store({_shown(self.url)!r})"

    @contextmanager
    def _translated(self) -> Iterator[None]:
        errors = self._errors
        try:
            yield
        except errors.Error as exc:
            text = str(exc).lower()
            for kind, needles, meaning, message in _MEANINGS:
                if isinstance(exc, getattr(errors, kind)) and (not needles or any(n in text for n in needles)):
                    raise meaning(message.format(store=self, exc=exc)) from None
            raise StoreNotReady(f"Cannot use the store {self}: {exc}") from None

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
            _checksqlite_file(self.path, self)
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
    def write(self) -> Iterator[Link]:
        """One unit of work: everything inside commits together or not at all."""
        self._check_before_writing()
        with self._unit(write=True) as link:
            yield link

    @contextmanager
    def read(self) -> Iterator[Link]:
        """A read-only connection (its transaction is rolled back at the end)."""
        self._exists()
        with self._unit(write=False) as link:
            yield link

    @contextmanager
    def batch(self) -> Iterator["Batch"]:
        """Many units of work in one transaction, committed in groups by :meth:`Batch.commit`.

        Inside it every :meth:`write` and :meth:`read` of this thread runs on the batch's connection, each
        in a savepoint of its own: a unit that fails is rolled back alone and the others stand. What is
        not committed when the batch ends by an exception is rolled back; otherwise it is committed.
        """
        if self._batch is not None:
            raise RuntimeError("a batch is already open on this store")
        self._check_before_writing()
        with self._unit(write=True) as link:
            self._batch = Batch(link, threading.get_ident())
            try:
                yield self._batch
            finally:
                self._batch = None

    @contextmanager
    def _unit(self, write: bool) -> Iterator[Link]:
        batch = self._batch
        if batch is not None and batch.thread == threading.get_ident():
            with self._translated(), batch.savepoint(keep=write) as link:
                yield link
            return
        backend = self._backend
        if isinstance(backend, SQLite):
            with self._sqlite_unit(backend, write) as link:
                yield link
            return
        with self._translated():
            conn = backend.connect()
        failed = True
        try:
            link = Link(conn, "postgresql", self.url, stream_cursor=backend.stream_cursor, reopen=self.read)
            with self._translated():
                try:
                    yield link
                finally:
                    link.open = False
                conn.commit() if write else conn.rollback()
            failed = False
        finally:
            backend.release(conn, failed)

    @contextmanager
    def _sqlite_unit(self, backend: SQLite, write: bool) -> Iterator[Link]:
        shared = write or backend.memory
        if shared and not backend.lock.acquire(timeout=_WRITER_WAIT_SECONDS):
            raise ConcurrentUpdate("The store is busy with another writer; nothing was written. Try again.")
        try:
            with self._translated():
                conn = backend.writer() if write else backend.reader()
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                link = Link(conn, "sqlite", self.url, reopen=self.read)
                with self._translated():
                    try:
                        yield link
                    finally:
                        link.open = False
                    conn.execute("COMMIT" if write else "ROLLBACK")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        finally:
            if shared:
                backend.lock.release()

    def _alembic(self, work: Any) -> Any:
        """Run *work(connection)* on a SQLAlchemy connection of this store, in one transaction (migrations)."""
        from sqlalchemy import create_engine, event
        from sqlalchemy.exc import DBAPIError
        from sqlalchemy.pool import StaticPool

        backend = self._backend
        if isinstance(backend, SQLite):  # the store's own writer connection, BEGIN and COMMIT issued by us
            engine = create_engine("sqlite://", creator=lambda: Kept(backend.writer()), poolclass=StaticPool)
            event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        else:
            engine = create_engine(self.url)
        try:
            with self._held_writer(), engine.connect() as conn:
                with conn.begin():
                    return work(conn)
        except DBAPIError as exc:
            with self._translated():
                raise driver_error(exc) from None
        finally:
            engine.dispose()

    @contextmanager
    def _held_writer(self) -> Iterator[None]:
        backend = self._backend
        if not isinstance(backend, SQLite):
            yield
            return
        if not backend.lock.acquire(timeout=_WRITER_WAIT_SECONDS):
            raise ConcurrentUpdate("The store is busy with another writer; nothing was written. Try again.")
        try:
            yield
        finally:
            backend.lock.release()

    def upgrade(self) -> str:
        """Create or upgrade the schema to the newest migration; returns the revision."""
        from alembic import command
        from alembic.config import Config

        if self.read_only:
            raise StoreNotReady(f"The store {self} is read-only here: it cannot be created or upgraded.")
        if self.path is not None and self.path.exists():
            _checksqlite_file(self.path, self)
        current = self.revision() if self.path is None or self.path.exists() else None
        if current is not None and current not in known_revisions():
            raise StoreNotReady(f"The store {self} is at schema revision {current}, newer than this casework knows "
                                f"(up to {known_revisions()[-1]}): install a newer casework.")
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))

        def migrate(conn: Any) -> None:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

        self._alembic(migrate)
        self._checked = False
        return self.revision() or ""

    def revision(self) -> str | None:
        """The schema revision the store is at, or None before ``casework init``."""
        if self.path is not None and not self.path.exists():
            return None
        probe = ("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
                 if self.is_sqlite else "SELECT count(*) FROM pg_tables WHERE tablename = 'alembic_version' "
                                        "AND schemaname = current_schema()")
        with self._unit(write=False) as conn:
            if not conn.exec_driver_sql(probe).scalar():
                return None
            found = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            return str(found) if found is not None else None

    def application_roles(self) -> list[str]:
        """The roles granted the application's privileges (PostgreSQL; none on SQLite): granted, themselves, adding
        audit entries and changing cases, but not changing or removing entries, and not owning the log. A member of
        such a role is not one; nor is a role that may rewrite the log (an administrator's)."""
        if self.is_sqlite:
            return []
        with self._unit(write=False) as conn:
            rows = conn.exec_driver_sql(
                "SELECT g.grantee FROM information_schema.role_table_grants g WHERE g.table_schema = current_schema() "
                "AND g.grantee <> (SELECT tableowner FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename = 'audit') GROUP BY g.grantee "
                "HAVING bool_or(g.table_name = 'audit' AND g.privilege_type = 'INSERT') "
                "AND bool_or(g.table_name = 'cases' AND g.privilege_type = 'UPDATE') "
                "AND NOT bool_or(g.table_name = 'audit' AND g.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')) "
                "ORDER BY g.grantee").all()
        return [r[0] for r in rows]

    def extend_application_roles(self) -> dict[str, list[str]]:
        """After an upgrade, grant each application role (:meth:`application_roles`) what the application may do
        on casework's tables, a table the upgrade added included; nothing is revoked and no other table is
        touched. Role → the statements run."""
        done = {}
        for role in self.application_roles():
            statements = [f"GRANT {grant} TO {_quoted(role)}" for grant in _APPLICATION_GRANTS]
            with self._unit(write=True) as conn:
                for sql in statements:
                    conn.exec_driver_sql(sql)
            done[role] = statements
        return done

    def grant_application_role(self, role: str) -> list[str]:
        """Let *role* run casework and nothing more (PostgreSQL): the statements run, for the record.

        The role that runs ``init`` owns the tables; the application role may add audit entries,
        facts and allocations but never change or remove them, may change the projections
        casework keeps current (cases, markers, holders, staff), may only read the store's settings
        (so it cannot make a live store a training sandbox), and owns nothing.
        """
        if self.is_sqlite:
            raise BadInput("An application role is for PostgreSQL: a SQLite file belongs to whoever owns the file.")
        if not _ROLE.match(role):
            raise BadInput(f"{role!r} is not a plain PostgreSQL role name (letters, digits and '_').")
        statements = [
            f"GRANT USAGE ON SCHEMA public TO {_quoted(role)}",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {_quoted(role)}",
            *(f"GRANT {grant} TO {_quoted(role)}" for grant in _APPLICATION_GRANTS),
        ]
        with self._unit(write=True) as conn:
            exists = conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %(r)s", {"r": role}).first()
            if not exists:
                statements.insert(0, f"CREATE ROLE {_quoted(role)} LOGIN")
            for sql in statements:
                conn.exec_driver_sql(sql)
        return statements

    def damage(self) -> str | None:
        """What SQLite's own check finds wrong with the file (None when sound, or for PostgreSQL)."""
        if self.path is None:
            return None
        self._exists()
        try:
            _checksqlite_file(self.path, self)
        except StoreNotReady as exc:
            return str(exc)
        try:
            with self.read() as conn:
                found = [row[0] for row in conn.exec_driver_sql("PRAGMA quick_check").fetchall()]
        except StoreNotReady as exc:  # damaged where SQLite reads before it checks (the schema's own pages)
            return str(exc)
        return None if found == ["ok"] else "; ".join(found[:5])

    def dispose(self) -> None:
        """Close the store's connections (embedding services call this on shutdown)."""
        backend = self._backend
        if isinstance(backend, SQLite):
            with backend.lock:
                backend.close()
        else:
            backend.close()


def _shown(url: str) -> str:
    """*url* with any password hidden."""
    return _PASSWORD.sub(r"\1***@", url)


def _corrupt(store: "Store") -> str:
    return _CORRUPT.format(store=store)


def _checksqlite_file(path: Path, store: "Store") -> None:
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

