"""A casework workspace: the store, the definitions on offer and the clock, held together.

Every service function takes one, so that an embedding service opens it once and the
CLI opens it per command.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Sequence

from casework.store import Store

from .clock import utc_now
from .definition import Definition
from .engine import Engine
from .identity import Principal
from .loader import Policies
from .snapshots import Snapshots
from .versions import Versions

__all__ = ["Casework", "open_casework"]


@dataclass
class Casework:
    """What every action needs: where cases live, which protocols exist, and 'now'."""

    store: Store
    policies: Policies
    clock: Callable[[], datetime] = utc_now
    #: the clock is a simulated one (CLI --clock): allowed only on a training sandbox store
    simulated: bool = False
    #: a principal this service verified (e.g. from a token), checked and recorded in every audit entry;
    #: None: the store authenticates the caller itself (workflow.identity)
    principal: Principal | None = None
    #: what this process read before, reused while the case's version is unchanged
    snapshots: Snapshots = field(default_factory=Snapshots, repr=False)
    _engines: dict[str, Engine] = field(default_factory=dict, repr=False)
    #: the store was seen to be a training sandbox (a store never stops being one: see init_store)
    sandbox_seen: bool = field(default=False, repr=False)
    #: every protocol version met, from the files or the store (a case runs under the one it is pinned to)
    versions: Versions = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.versions = Versions(self.policies)

    def engine(self, definition: Definition) -> Engine:
        """The shared engine for one protocol version, compiled once per workspace."""
        if definition.digest not in self._engines:
            self._engines[definition.digest] = Engine(definition)
        return self._engines[definition.digest]


def open_casework(db: str | None = None, machines: Sequence[str | Path] = (),
                  clock: Callable[[], datetime] | None = None, simulated: bool = False) -> Casework:
    """Open a workspace on *db* (URL or SQLite path; default ``./casework.db`` or CASEWORK_DB).

    *simulated* marks *clock* as a pretend "now" (training): writes then need a sandbox store.
    """
    return Casework(Store(db), Policies(machines), clock or utc_now, simulated)
