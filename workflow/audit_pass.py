"""One pass over a part of the store for `audit verify`: every entry read once, checked, replayed and judged.

Each entry of the log is read once, as a plain tuple, in chain order: its link and hash are
checked (store.audit), its change is replayed into what the guarded tables must hold
(workflow.projections) and its principal is judged against who each login was when it was
written (workflow.attribution, from the staff and settings chains read first). Then the tables
are read once and compared with the replay, and the kept due dates with the cases as the
replay has them (workflow.due_dates), so no query is made per case.

A part is the cases from one id up to another (Span) with their chains and rows; the
part that reaches the end also holds the staff, settings and definitions chains and tables,
which sort after every case's. Parts share nothing but the store, so verifiers on several cores
each take one (workflow.verifying) and their findings are put together in one order.
"""
from __future__ import annotations

import gc
import json
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from casework.store import Connection, audit
from casework.store.parts import Span

from . import attribution, due_dates, projections
from .staff_actions import staff_rules_or_none
from .workspace import Casework

__all__ = ["PartFindings", "check_part"]


@dataclass(frozen=True)
class PartFindings:
    """What one part of the store was found to hold wrong (each list in the order audit verify reports it)."""

    #: entries checked
    checked: int
    #: each broken chain's first break (link, hash or payload), by chain
    breaks: list[audit.Broken]
    #: cases whose version does not match the changes their chain records
    versions: list[audit.Broken]
    #: (table, row, what the chain says, what the table holds) for each row that differs
    rows: list[tuple[str, Any, Any, Any]]
    #: entries not written by their actor's login, or staff changes the staff protocol refuses
    misattributed: list[audit.Broken]
    #: cases whose kept due dates differ from what their chain says
    due: list[audit.Broken]


def _roles(people: list[Any]) -> dict[str, frozenset[str]]:
    """Each person's roles as the staff chain last says them."""
    roles: dict[str, frozenset[str]] = {}
    for row in people:
        if row.chain == "staff" and row.action == "staff":
            try:
                payload = json.loads(row.payload)
                roles[payload["id"]] = frozenset(payload.get("roles") or ())
            except (TypeError, ValueError, KeyError, AttributeError):
                continue  # not a staff row casework writes: its chain or its attribution says so
    return roles


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic collector off while the pass builds its tables of millions of rows, which hold no cycles:
    otherwise it walks them again and again as they grow (a fifth of a pass over 1M entries)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def check_part(cw: Casework, conn: Connection, span: Span = (None, None)) -> PartFindings:
    """Everything audit verify checks of the part of the store in *span*, in one read of each table."""
    with _collector_paused():
        return _checked(cw, conn, span)


def _checked(cw: Casework, conn: Connection, span: Span) -> PartFindings:
    people = audit.people_entries(conn)
    holds_people = span[1] is None  # the staff, settings and definitions chains sort after every case's
    judged = attribution.Attribution(conn, staff_rules_or_none(cw, conn), people)
    misattributed = list(judged.found) if holds_people else []
    replay, judge = projections.Replay(), judged.judge

    def each(row: tuple[Any, ...]) -> str | None:
        wrong = judge(row[0], row[1], row[2], row[5], row[16])
        if wrong is not None:
            misattributed.append(wrong)
        return replay.row(row)

    checked, broken = audit.verify(conn, each, span)
    rows = projections.differences(replay.tables, projections.stored(conn, span, holds_people))
    due = due_dates.divergences(conn, cw, replay.cases, replay.markers, _roles(people), span)
    return PartFindings(checked, [b for b in broken if b.entry_id is not None],
                        [b for b in broken if b.entry_id is None], rows, misattributed, due)
