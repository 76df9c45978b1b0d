"""The first schema: staff, cases, allocations, facts and the hash-chained audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("roles", sa.Text, nullable=False),
        sa.Column("team", sa.String(100)),
        sa.Column("registration", sa.String(32)),
        sa.Column("registered_until", sa.String(10)),
        sa.Column("pcf_level", sa.Integer),
        sa.Column("training", sa.Text, nullable=False, server_default="[]"),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("policy", sa.String(64), nullable=False),
        sa.Column("team", sa.String(100), nullable=False),
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("opened_at", sa.String(32), nullable=False),
        sa.Column("state_entered_at", sa.String(32), nullable=False),
        sa.Column("allocated_at", sa.String(32)),
        sa.Column("lead_id", sa.String(64)),
        sa.Column("supervisor_id", sa.String(64)),
        sa.Column("worker_id", sa.String(64)),
        sa.Column("previous_lead_id", sa.String(64)),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_cases_state", "cases", ["state"])
    op.create_index("ix_cases_team", "cases", ["team"])
    op.create_table(
        "allocations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("lead_id", sa.String(64), nullable=False),
        sa.Column("supervisor_id", sa.String(64)),
        sa.Column("worker_id", sa.String(64)),
        sa.Column("by_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text),
    )
    op.create_index("ix_allocations_case", "allocations", ["case_id"])
    op.create_table(
        "facts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("by_id", sa.String(64), nullable=False),
        sa.Column("with_ids", sa.Text, nullable=False, server_default="[]"),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("state", sa.String(64), nullable=False),
    )
    op.create_index("ix_facts_case", "facts", ["case_id"])
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("chain", sa.String(80), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("case_id", sa.String(64)),
        sa.Column("event", sa.String(64)),
        sa.Column("from_state", sa.String(64)),
        sa.Column("to_state", sa.String(64)),
        sa.Column("policy", sa.String(64)),
        sa.Column("policy_version", sa.String(100)),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("chain", "seq", name="uq_audit_chain_seq"),
    )


def downgrade() -> None:
    for table in ("audit", "facts", "allocations", "cases", "staff"):
        op.drop_table(table)
