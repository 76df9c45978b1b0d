"""Indexes for work that does not grow with the store: facts by case, name and time (a guard reads the latest
fact of each name, joined to its marker, or the facts of one name, never the case's whole history), and cases
by lead and by worker (a caseload is counted from the person's own cases, not from every open case).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


#: the latest fact of each name is found through its marker: a store from before markers were kept (0002)
#: gets the markers its facts imply, and a marker never lags its latest fact
_BACKFILL = (
    "INSERT INTO markers (case_id, marker, at) SELECT f.case_id, 'fact:' || f.name, max(f.at) FROM facts f "
    "WHERE NOT EXISTS (SELECT 1 FROM markers m WHERE m.case_id = f.case_id AND m.marker = 'fact:' || f.name) "
    "GROUP BY f.case_id, f.name",
    "UPDATE markers SET at = (SELECT max(f.at) FROM facts f WHERE f.case_id = markers.case_id "
    "AND 'fact:' || f.name = markers.marker) WHERE markers.marker LIKE 'fact:%' AND markers.at < "
    "(SELECT max(f.at) FROM facts f WHERE f.case_id = markers.case_id AND 'fact:' || f.name = markers.marker)",
)


def upgrade() -> None:
    op.create_index("ix_facts_case_name_at", "facts", ["case_id", "name", "at"])
    op.create_index("ix_cases_lead", "cases", ["lead_id", "state"])
    op.create_index("ix_cases_worker", "cases", ["worker_id", "state"])
    for statement in _BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    op.drop_index("ix_cases_worker", "cases")
    op.drop_index("ix_cases_lead", "cases")
    op.drop_index("ix_facts_case_name_at", "facts")
