"""Protocol versions kept in the store: each resolved definition a case was opened under, by digest,
and the version each case is pinned to.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "definitions",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("lineage", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("kept_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_definitions_name", "definitions", ["name"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("policy_digest", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("policy_digest")
    op.drop_index("ix_definitions_name", "definitions")
    op.drop_table("definitions")
