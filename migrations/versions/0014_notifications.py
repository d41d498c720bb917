"""Notifications to beneficiaries: the outbox of messages per channel, the relay's cursor
over the audit trail, and each person's channels and language.

Revision ID: 0014
Revises: 0013

Existing people accept e-mail and App IO messages in Italian (their contacts decide what
reaches them). The relay starts at the current end of the audit trail: no message is sent
for what happened before notifications existed.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("beneficiary") as batch:
        batch.add_column(
            sa.Column("notify_email", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch.add_column(
            sa.Column("notify_io", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch.add_column(
            sa.Column("notify_language", sa.String(length=2), server_default="it", nullable=False)
        )
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=80), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("voucher_id", sa.Integer(), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("external_id", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('issued', 'redeemed', 'reversed', 'low_balance', 'expiring', 'revoked')",
            name=op.f("ck_notification_kind_known"),
        ),
        sa.CheckConstraint(
            "channel IN ('email', 'io')", name=op.f("ck_notification_channel_known")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'skipped')",
            name=op.f("ck_notification_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"], ["voucher.id"], name=op.f("fk_notification_voucher_id_voucher")
        ),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["beneficiary.id"],
            name=op.f("fk_notification_beneficiary_id_beneficiary"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notification_dedupe_key")),
    )
    op.create_index(
        op.f("ix_notification_beneficiary_id"), "notification", ["beneficiary_id"], unique=False
    )
    op.create_index("ix_notification_due", "notification", ["status", "next_attempt_at"])
    op.create_index("ix_notification_voucher", "notification", ["voucher_id", "id"])
    op.create_table(
        "notification_cursor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_notification_cursor_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_cursor")),
    )
    op.execute(
        "INSERT INTO notification_cursor (id, last_seq)"
        " SELECT 1, COALESCE(MAX(seq), 0) FROM audit_event"
    )


def downgrade():
    op.drop_table("notification_cursor")
    op.drop_index("ix_notification_voucher", table_name="notification")
    op.drop_index("ix_notification_due", table_name="notification")
    op.drop_index(op.f("ix_notification_beneficiary_id"), table_name="notification")
    op.drop_table("notification")
    with op.batch_alter_table("beneficiary") as batch:
        batch.drop_column("notify_language")
        batch.drop_column("notify_io")
        batch.drop_column("notify_email")
