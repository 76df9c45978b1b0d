"""`audit verify`: the store file, every hash chain, and every table and kept row the chains account for.

What it checks: SQLite's own check of the file; then, in one pass over the log
(workflow.audit_pass), each chain's links and hashes (store.audit), the guarded tables against a
replay of the chains (workflow.projections), who wrote each entry (workflow.attribution) and the
kept due dates against the cases (workflow.due_dates); and, with a signed checkpoint, every chain
head it covers (workflow.checkpoints). A large SQLite file is read in parts, one per core.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, replace

from casework.store import Store, audit
from casework.store.parts import Span

from ..errors import CaseworkError
from . import projections
from .audit_pass import PartFindings, check_part
from .checkpoints import Checkpoint, check_against
from .workspace import Casework

__all__ = ["AuditReport", "verify_audit"]


@dataclass(frozen=True)
class AuditReport:
    """Result of recomputing every hash chain (and comparing the store with a signed checkpoint, if given)."""

    entries: int
    broken: tuple[audit.Broken, ...]
    #: when the checkpoint compared was taken, and whether its key was one the auditor supplied
    checkpoint: str | None = None
    trusted_key: bool = False

    @property
    def ok(self) -> bool:
        return not self.broken



#: a store of fewer entries than this is verified in one pass here: a second process would cost more than it saves
PARALLEL_FROM = 100_000


def verify_audit(cw: Casework, checkpoint: "Checkpoint | None" = None, parts: int | None = None) -> AuditReport:
    """Check the store file itself, recompute every hash chain and report the first broken entry of each,
    then every row of the guarded tables that the chains do not account for (workflow.projections), every
    entry its login could not write (workflow.attribution) and every case whose kept due dates are not its
    own (workflow.due_dates); with a verified *checkpoint*, also every signed chain head it covers
    (workflow.checkpoints).

    A SQLite file is read in *parts* (by case), each in one pass (workflow.audit_pass) and all but the first
    in forked processes; None: one part per core (up to four) from PARALLEL_FROM entries, else one.
    PostgreSQL is read in one pass. Parts are read in transactions of their own, so a change committed while
    they run is seen whole by the part that holds its case, or by none. Forking is safe only while no other
    thread of the process is inside SQLite, so None means one part in a process with other threads (a service
    that verifies on a thread of its own passes *parts*)."""
    try:
        spans = _spans(cw, parts)
    except CaseworkError:  # the store cannot be read as far as its cases: the file's own check says why
        spans = [(None, None)]
    if len(spans) == 1:
        damage = cw.store.damage()
        if damage is not None:
            return _damaged(damage)
        found = _findings(cw, spans)
    else:
        damage, parts_found = _findings_beside_check(cw, spans)
        if damage is not None:
            return _damaged(damage)
        assert parts_found is not None  # the parts found nothing only when the file is damaged
        found = parts_found
    checked = sum(f.checked for f in found)
    broken = [b for f in found for b in f.breaks] + [b for f in found for b in f.versions]
    seen = {b.chain for b in broken}  # a broken chain's replay says nothing more
    rows = sorted((d for f in found for d in f.rows), key=lambda d: (_TABLE_ORDER.index(d[0]), str(d[1])))
    broken += [d for d in projections.broken_rows(rows) if d.chain not in seen]
    broken += sorted((m for f in found for m in f.misattributed if m.chain not in seen), key=lambda m: m.entry_id or 0)
    broken += [d for f in found for d in f.due if d.chain not in seen]
    if checkpoint is None:
        return AuditReport(checked, tuple(broken))
    against = [b for b in check_against(cw, checkpoint) if b.chain not in seen]
    return AuditReport(checked, tuple(broken + against), checkpoint.body.get("taken_at"), checkpoint.trusted_key)


def _damaged(damage: str) -> AuditReport:
    return AuditReport(0, (audit.Broken("(store file)", 0, None, damage),))


_TABLE_ORDER = ("cases", "staff", "facts", "allocations", "holders", "markers", "settings", "definitions")


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _spans(cw: Casework, parts: int | None) -> list[Span]:
    """The parts to read: the cases split into *parts* runs of about as many each (by id)."""
    import multiprocessing  # here, not at the top: every command imports this module, few verify

    if cw.store.path is None or "fork" not in multiprocessing.get_all_start_methods():
        return [(None, None)]  # PostgreSQL, or a store in memory: one pass, in one transaction
    with cw.store.read() as conn:
        if parts is None:
            large = (conn.execute("audit_extent").scalar() or 0) >= PARALLEL_FROM
            parts = min(_cores(), 4) if large and threading.active_count() == 1 else 1
        if parts <= 1:
            return [(None, None)]
        ids = [row[0] for row in conn.stream_tuples("case_ids")]
    if not all(isinstance(i, str) for i in ids):  # an id that is not text (an edit): cut nowhere it cannot sort
        return [(None, None)]
    cuts = sorted({ids[len(ids) * k // parts] for k in range(1, parts)} if ids else set())
    bounds: list[str | None] = [None, *cuts, None]
    return list(zip(bounds, bounds[1:], strict=False))


#: the workspace a forked verifier checks its part of (set before forking; processes share nothing else)
_FORKED: dict[str, Casework] = {}


def _check_forked(span: Span) -> PartFindings:
    """A forked process's part: on a store connection of its own (it never uses its parent's)."""
    cw = replace(_FORKED["cw"], store=Store(_FORKED["cw"].store.url))
    try:
        with cw.store.read() as conn:
            return check_part(cw, conn, span)
    finally:
        cw.store.dispose()


def _findings(cw: Casework, spans: list[Span]) -> list[PartFindings]:
    """The findings of the one part."""
    with cw.store.read() as conn:
        return [check_part(cw, conn, spans[0])]


def _findings_beside_check(cw: Casework, spans: list[Span]) -> tuple[str | None, list[PartFindings] | None]:
    """SQLite's check of the file (on a thread: it waits on the disk and in C), and each part's findings in the
    order of the parts, the first read here and the others in processes forked before the thread starts. What
    the check finds wrong with the file is all that is reported of it (a damaged file may fail the parts)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    _FORKED["cw"] = cw
    try:
        with ProcessPoolExecutor(len(spans) - 1, mp_context=multiprocessing.get_context("fork")) as pool:
            others = [pool.submit(_check_forked, span) for span in spans[1:]]  # forks every process now
            with ThreadPoolExecutor(1) as checker:
                damage = checker.submit(cw.store.damage)
                try:
                    with cw.store.read() as conn:
                        first = check_part(cw, conn, spans[0])
                    found = [first, *(f.result() for f in others)]
                except Exception:
                    if damage.result() is None:
                        raise
                    found = None
                return damage.result(), found
    finally:
        _FORKED.clear()
