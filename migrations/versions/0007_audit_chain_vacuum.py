"""The audit chain's head vacuumed often (PostgreSQL): every change updates its one row.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    # Autovacuum's default waits for 50 dead versions plus 20 % of the table: for a
    # one-row table that is right, but a busy ente leaves thousands of dead versions of
    # the head between two passes, and every append walks past them. A fixed threshold
    # keeps the table to a few pages.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE audit_chain SET (autovacuum_vacuum_threshold = 1000, "
            "autovacuum_vacuum_scale_factor = 0)"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE audit_chain RESET (autovacuum_vacuum_threshold, "
            "autovacuum_vacuum_scale_factor)"
        )
