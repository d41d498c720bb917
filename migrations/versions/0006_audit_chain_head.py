"""The audit chain's head in one row, whose lock serialises appends.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade():
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )
    # The head as the trail stands: its newest event, or the genesis of an empty trail.
    op.execute(
        sa.text(
            "INSERT INTO audit_chain (id, seq, prev_hash, hash) "
            "SELECT 1, coalesce(max(e.seq), 0), "
            "coalesce(max(e.prev_hash), :genesis), coalesce(max(e.hash), :genesis) "
            "FROM (SELECT seq, prev_hash, hash FROM audit_event "
            "ORDER BY seq DESC LIMIT 1) e"
        ).bindparams(genesis=GENESIS)
    )


def downgrade():
    op.drop_table("audit_chain")
