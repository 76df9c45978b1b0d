"""Identity and staff governance: who authenticated each audit entry, a staff member's database
login, and the day their employment ended.

On PostgreSQL the server itself checks each new audit entry's principal: it must be this
session's login (``database-login:<session_user>``) or a principal this login vouches for
(``... via database-login:<session_user>``). A login that may append entries can therefore
not write one in another login's name, even with a copy of casework.

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
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PRINCIPAL_CHECK)
        op.execute("CREATE TRIGGER audit_principal BEFORE INSERT ON audit FOR EACH ROW "
                   "EXECUTE FUNCTION casework_audit_principal()")


_PRINCIPAL_CHECK = """
CREATE OR REPLACE FUNCTION casework_audit_principal() RETURNS trigger AS $$
DECLARE
  own text := 'database-login:' || session_user;
BEGIN
  IF NEW.principal IS NULL OR NOT (NEW.principal = own OR right(NEW.principal, length(own) + 5) = ' via ' || own) THEN
    RAISE EXCEPTION 'casework: an audit entry must carry this session''s login (%) as its principal, not %',
      own, coalesce(NEW.principal, 'none') USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql
"""


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_principal ON audit")
        op.execute("DROP FUNCTION IF EXISTS casework_audit_principal()")
    op.drop_index("ix_staff_login", "staff")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("left_on")
        batch.drop_column("login")
    with op.batch_alter_table("audit") as batch:
        batch.drop_column("principal")
