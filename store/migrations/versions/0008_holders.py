"""Who has held each slot of a case, kept as rows: judging an action reads one row per person who held a slot
(the former leads, when the slot last changed hands) instead of every allocation the case has had.

The rows are filled from the audit chains, as `audit verify` derives them (workflow.projections): each case's
version counts its changes, and an allocation that gives a slot to someone else dates their taking of it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""
import json
from typing import Any, Iterable

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

#: the actions that change a case (store.audit.CHANGES when this revision was written)
_CHANGES = ("open", "move", "fact", "allocate", "migrate", "transfer")
_SLOTS = ("lead", "supervisor", "worker")


def _holders(entries: Iterable[Any]) -> list[dict[str, object]]:
    taken: dict[tuple[str, str, str], dict[str, object]] = {}
    held: dict[str, dict[str, str | None]] = {}
    versions: dict[str, int] = {}
    for case_id, action, at, payload in entries:
        if action == "open":
            versions[case_id], held[case_id] = 1, dict.fromkeys(_SLOTS)
            continue
        if case_id not in versions:
            continue
        versions[case_id] += 1
        if action == "allocate":
            given = json.loads(payload)
            for slot in _SLOTS:
                if held[case_id][slot] != given[f"{slot}_id"]:
                    held[case_id][slot] = given[f"{slot}_id"]
                    taken[(case_id, slot, given[f"{slot}_id"] or "")] = {"version": versions[case_id], "at": at}
    return [{"case_id": c, "slot": s, "staff_id": p, **row} for (c, s, p), row in taken.items()]


def upgrade() -> None:
    holders = op.create_table(
        "holders",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("slot", sa.String(16), primary_key=True),
        sa.Column("staff_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
    )
    entries = op.get_bind().execute(sa.text(
        "SELECT case_id, action, at, payload FROM audit WHERE chain LIKE 'case:%' AND case_id IS NOT NULL "
        f"AND action IN ({', '.join(repr(a) for a in _CHANGES)}) ORDER BY chain, seq"))
    rows = _holders(entries)
    if rows:
        op.bulk_insert(holders, rows)


def downgrade() -> None:
    op.drop_table("holders")
