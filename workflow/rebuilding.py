"""`audit rebuild`: put the tables the guards read back to what the audit chains say, in one unit of work.

The owner's repair after a direct edit of ``cases``, ``staff``, ``facts``, ``allocations``,
``markers``, ``settings`` or ``definitions`` (which ``audit verify`` reports): the chains are the
record, so each table is emptied and refilled from their replay (workflow.projections). It
refuses, writing nothing, when the store file is damaged, any chain does not verify, or any
entry is not its actor's to write (workflow.attribution): a rebuild would make it real.

A rebuild changes no recorded history, but putting rows right is itself worth a record: one
that corrected anything appends an entry to a chain of its own, ``rebuild``, saying how many
rows of each table it put right and what they were (the wrong rows are gone afterwards, so
this is the only trace of them). One that found nothing to put right records nothing.
"""
from __future__ import annotations

from casework.store import audit

from . import attribution, due_dates, identity
from .staff_actions import staff_rules_or_none
from .clock import to_text
from ..errors import AuditBroken
from .projections import Rebuilt, rebuild
from .workspace import Casework

__all__ = ["rebuild_projections", "REBUILD_CHAIN"]

#: the chain that records every rebuild that put rows right
REBUILD_CHAIN = "rebuild"
#: how many of the wrong rows the rebuild's audit entry quotes (the counts cover them all)
_QUOTED = 100


def rebuild_projections(cw: Casework, dry_run: bool = False) -> Rebuilt:
    """Rebuild every guarded table from the audit chains (AuditBroken if the log does not verify).

    With *dry_run*, only reports what a rebuild would put right; nothing is written or recorded.
    """
    damage = cw.store.damage()
    if damage is not None:
        raise AuditBroken([audit.Broken("(store file)", 0, None, damage)])
    with (cw.store.read() if dry_run else cw.store.write()) as conn:
        wrong = attribution.misattributed(conn, staff_rules_or_none(cw, conn))
        if wrong:  # rebuilding from entries their writers could not make would make them real
            raise AuditBroken(wrong)
        done = rebuild(conn, dry_run)
        if done.written:  # the cases may stand differently now: their due dates are made again
            due_dates.refresh_all(conn, cw)
        if done.written and done.changed:
            now = to_text(cw.clock())
            audit.append(conn, REBUILD_CHAIN, recorded_at=now, at=now, actor="(casework audit rebuild)",
                         action="rebuild", event="rebuild", principal=identity.running(conn),
                         payload={"entries": done.entries, "tables": done.tables, "kept": done.kept,
                                  "found": list(done.found[:_QUOTED]), "more": max(0, len(done.found) - _QUOTED)})
    if done.written:
        cw.snapshots.clear()  # what this process kept was read from the tables as they were
    return done
