"""One-time form tokens kept on the server, and batch letters that expire.

Revision ID: 0010
Revises: 0009

`form_token` holds the digests of the one-time tokens of the forms that create money or
vouchers (issue, replace, new PIN). `issue_batch` records when a batch's letters left the
server, by whom and why (downloaded, deleted by hand, expired). Letters already stored stay
until they are downloaded or the nightly job finds them older than BATCH_LETTERS_KEEP_DAYS.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "form_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "purpose IN ('issue', 'replace', 'reset_pin')",
            name=op.f("ck_form_token_purpose_known"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_form_token_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_token")),
        sa.UniqueConstraint("digest", name=op.f("uq_form_token_digest")),
    )
    op.create_index(op.f("ix_form_token_created_at"), "form_token", ["created_at"])
    op.create_index(
        "ix_form_token_user_id_purpose_subject", "form_token", ["user_id", "purpose", "subject"]
    )
    with op.batch_alter_table("issue_batch") as batch:
        batch.add_column(sa.Column("letters_removed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("letters_removed_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("letters_removed_reason", sa.String(length=12), nullable=True))
        batch.create_foreign_key(
            op.f("fk_issue_batch_letters_removed_by_id_app_user"),
            "app_user",
            ["letters_removed_by_id"],
            ["id"],
        )
        batch.create_check_constraint(
            "letters_removed_reason_known",
            "letters_removed_reason IS NULL"
            " OR letters_removed_reason IN ('downloaded', 'deleted', 'expired')",
        )


def downgrade():
    with op.batch_alter_table("issue_batch") as batch:
        batch.drop_constraint(op.f("ck_issue_batch_letters_removed_reason_known"), type_="check")
        batch.drop_constraint(
            op.f("fk_issue_batch_letters_removed_by_id_app_user"), type_="foreignkey"
        )
        for column in ("letters_removed_reason", "letters_removed_by_id", "letters_removed_at"):
            batch.drop_column(column)
    op.drop_index("ix_form_token_user_id_purpose_subject", table_name="form_token")
    op.drop_index(op.f("ix_form_token_created_at"), table_name="form_token")
    op.drop_table("form_token")
