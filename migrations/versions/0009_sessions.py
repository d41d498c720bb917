"""Sign-in and self-service sessions that end when they should.

Revision ID: 0009
Revises: 0008

Self-service (/saldo) sessions move to the server, in `beneficiary_session`, so that
sign-out, a PIN reset and a revocation end them at once. Staff sign-in is throttled by
username and address in `rate_limit_counter` instead of by account, so the account's own
failure count and lock go. Open /saldo sessions end with the upgrade (their cookies name
no server-side session); a lock in force is lifted.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "beneficiary_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("voucher_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["voucher_id"],
            ["voucher.id"],
            name=op.f("fk_beneficiary_session_voucher_id_voucher"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_beneficiary_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_beneficiary_session_token_hash")),
    )
    with op.batch_alter_table("beneficiary_session") as batch:
        batch.create_index(
            batch.f("ix_beneficiary_session_voucher_id"), ["voucher_id"], unique=False
        )
        batch.create_index(
            batch.f("ix_beneficiary_session_expires_at"), ["expires_at"], unique=False
        )
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("failed_logins")
        batch.drop_column("locked_until")


def downgrade():
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(
            sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("beneficiary_session") as batch:
        batch.drop_index(batch.f("ix_beneficiary_session_expires_at"))
        batch.drop_index(batch.f("ix_beneficiary_session_voucher_id"))
    op.drop_table("beneficiary_session")
