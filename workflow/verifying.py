"""`audit verify`: the store file, every hash chain, and every table and kept row the chains account for.

What it checks, in order: SQLite's own check of the file; each chain's links and hashes
(store.audit); the guarded tables against a replay of the chains (workflow.projections); who
wrote each entry (workflow.attribution); the kept due dates against the cases (workflow.due_dates);
and, with a signed checkpoint, every chain head it covers (workflow.checkpoints).
"""
from __future__ import annotations

from dataclasses import dataclass

from casework.store import audit

from . import attribution, due_dates, projections
from .checkpoints import Checkpoint, check_against
from .staff_actions import staff_rules_or_none
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



def verify_audit(cw: Casework, checkpoint: "Checkpoint | None" = None) -> AuditReport:
    """Check the store file itself, recompute every hash chain and report the first broken entry of each,
    then every row of the guarded tables that the chains do not account for (workflow.projections); with a
    verified *checkpoint*, also every signed chain head it covers (workflow.checkpoints)."""
    damage = cw.store.damage()
    if damage is not None:
        return AuditReport(0, (audit.Broken("(store file)", 0, None, damage),))
    with cw.store.read() as conn:
        checked, broken = audit.verify(conn)
        seen = {b.chain for b in broken}  # a broken chain's replay says nothing more
        broken += [d for d in projections.divergences(conn) if d.chain not in seen]
        broken += [m for m in attribution.misattributed(conn, staff_rules_or_none(cw, conn)) if m.chain not in seen]
        broken += [d for d in due_dates.divergences(conn, cw) if d.chain not in seen]
    if checkpoint is None:
        return AuditReport(checked, tuple(broken))
    against = [b for b in check_against(cw, checkpoint) if b.chain not in seen]
    return AuditReport(checked, tuple(broken + against), checkpoint.body.get("taken_at"), checkpoint.trusted_key)
