"""Scheme budgets as 64-bit integers (PostgreSQL; SQLite integers are 64-bit already).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        return  # SQLite's INTEGER already holds 64 bits
    with op.batch_alter_table("scheme", schema=None) as batch_op:
        batch_op.alter_column(
            "budget_cents",
            existing_type=sa.Integer(),
            type_=sa.BigInteger(),
            existing_nullable=False,
        )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        return
    with op.batch_alter_table("scheme", schema=None) as batch_op:
        batch_op.alter_column(
            "budget_cents",
            existing_type=sa.BigInteger(),
            type_=sa.Integer(),
            existing_nullable=False,
        )
