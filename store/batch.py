"""A batch of units of work in one transaction (Store.batch): savepoints inside, committed in groups."""
from __future__ import annotations

import itertools
from contextlib import contextmanager
from typing import Iterator

from .link import Link

__all__ = ["Batch"]


class Batch:
    """An open batch of units of work (Store.batch): one connection and transaction, savepoints inside."""

    def __init__(self, link: Link, thread: int):
        self.link, self.thread = link, thread
        self._names = itertools.count(1)

    @contextmanager
    def savepoint(self, keep: bool) -> Iterator[Link]:
        """One unit of work in the batch: kept (*keep*) or undone when it ends, and always undone on an error."""
        name = f"casework_unit_{next(self._names)}"
        self.link.exec_driver_sql(f"SAVEPOINT {name}")
        try:
            yield self.link
        except BaseException:
            self.link.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {name}")
            self.link.exec_driver_sql(f"RELEASE SAVEPOINT {name}")
            raise
        if not keep:
            self.link.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {name}")
        self.link.exec_driver_sql(f"RELEASE SAVEPOINT {name}")

    def commit(self) -> None:
        """Make everything so far durable, and go on in a new transaction."""
        if self.link.dialect == "sqlite":
            self.link.exec_driver_sql("COMMIT")
            self.link.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            self.link.connection.commit()
