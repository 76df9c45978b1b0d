"""Identity and staff governance: who authenticated each audit entry, a staff member's database
login, and the day their employment ended.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit") as batch:
        batch.add_column(sa.Column("principal", sa.String(200)))
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("login", sa.String(64)))
        batch.add_column(sa.Column("left_on", sa.String(10)))
    op.create_index("ix_staff_login", "staff", ["login"])


def downgrade() -> None:
    op.drop_index("ix_staff_login", "staff")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("left_on")
        batch.drop_column("login")
    with op.batch_alter_table("audit") as batch:
        batch.drop_column("principal")
