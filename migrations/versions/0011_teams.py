"""Social workers' teams (the Comuni they serve) and break-glass access.

Revision ID: 0011
Revises: 0010

What the upgrade fills in: nothing. A social worker with no Comune assigned sees every
Comune, so existing accounts keep the view they had until the admin assigns their Comuni.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "team_comune",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("comune_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_team_comune_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["comune_id"],
            ["comune.id"],
            name=op.f("fk_team_comune_comune_id_comune"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "comune_id", name=op.f("pk_team_comune")),
    )
    op.create_table(
        "break_glass_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("object_type", sa.String(length=12), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "object_type IN ('beneficiary', 'voucher')",
            name=op.f("ck_break_glass_grant_object_type_known"),
        ),
        sa.CheckConstraint(
            "expires_at > granted_at", name=op.f("ck_break_glass_grant_expires_after_granted")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_break_glass_grant_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_break_glass_grant")),
    )
    op.create_index(
        "ix_break_glass_grant_user_object",
        "break_glass_grant",
        ["user_id", "object_type", "object_id"],
    )
    op.create_index(op.f("ix_break_glass_grant_granted_at"), "break_glass_grant", ["granted_at"])


def downgrade():
    op.drop_index(op.f("ix_break_glass_grant_granted_at"), table_name="break_glass_grant")
    op.drop_index("ix_break_glass_grant_user_object", table_name="break_glass_grant")
    op.drop_table("break_glass_grant")
    op.drop_table("team_comune")
