"""Due dates kept as rows: each open case's deadlines with the day they fall due, written with every change
to the case, so that `casework due` reads the items due (an indexed range) instead of judging every open case.

Rows are derived data (re-made from the case, its protocol version and England's bank holidays); a store
upgraded to this revision has none until 'casework init' fills them, and `due` computes any case without
rows itself meanwhile.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "due_dates",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("deadline", sa.String(64), primary_key=True),
        sa.Column("due_on", sa.String(10), nullable=False),
    )
    op.create_index("ix_due_dates_due_on", "due_dates", ["due_on"])
    op.create_table(
        "due_cases",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("calendar", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64)),
    )
    op.create_index("ix_cases_supervisor", "cases", ["supervisor_id", "state"])
    op.create_index("ix_cases_digest", "cases", ["policy_digest", "state"])


def downgrade() -> None:
    op.drop_index("ix_cases_digest", "cases")
    op.drop_index("ix_cases_supervisor", "cases")
    op.drop_table("due_cases")
    op.drop_index("ix_due_dates_due_on", "due_dates")
    op.drop_table("due_dates")
