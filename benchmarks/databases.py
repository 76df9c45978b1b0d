"""PostgreSQL databases for a benchmark: the server given, or a throwaway one started the way the tests do."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

__all__ = ["postgres_databases"]


@contextmanager
def postgres_databases(given: str | None, *names: str) -> Iterator[dict[str, str]]:
    """A URL for each of *names*: *given* for all of them, else a new database each on a server of its own,
    stopped when the benchmark is done."""
    if given:
        yield {name: given for name in names}
        return
    from tests.pg_server import PostgresServer

    server = PostgresServer()
    server.start()
    try:
        for name in names:
            server.admin(f"CREATE DATABASE {name}")
        yield {name: server.url(name) for name in names}
    finally:
        server.stop()
