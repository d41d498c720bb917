"""Staff at work: the ente's office contacts, schemes limited to chosen providers, bulk
import of beneficiaries, and the indexes of the caseload lists.

Revision ID: 0013
Revises: 0012

The ente gains the office families are told to call (phone, e-mail, address, hours). A
scheme may be limited to some providers (`scheme_provider`; none listed: every provider
accredited for its services, as before). A bulk import of beneficiaries keeps its dry run
row by row until confirmed. Nothing existing changes.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ente") as batch:
        batch.add_column(sa.Column("office_phone", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("office_email", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("office_address", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("office_hours", sa.String(length=300), nullable=True))

    op.create_table(
        "scheme_provider",
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scheme_id"],
            ["scheme.id"],
            name=op.f("fk_scheme_provider_scheme_id_scheme"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["provider.id"], name=op.f("fk_scheme_provider_provider_id_provider")
        ),
        sa.PrimaryKeyConstraint("scheme_id", "provider_id", name=op.f("pk_scheme_provider")),
    )
    op.create_index(
        op.f("ix_scheme_provider_provider_id"), "scheme_provider", ["provider_id"], unique=False
    )

    op.create_table(
        "beneficiary_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("planned", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("registered", sa.Integer(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'done', 'discarded')",
            name=op.f("ck_beneficiary_import_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_beneficiary_import_created_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_beneficiary_import")),
    )
    op.create_table(
        "beneficiary_import_row",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("fiscal_code", sa.String(length=16), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("message", sa.String(length=300), nullable=True),
        sa.Column("warning", sa.String(length=300), nullable=True),
        sa.Column("beneficiary_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('register', 'refused')",
            name=op.f("ck_beneficiary_import_row_outcome_known"),
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["beneficiary_import.id"],
            name=op.f("fk_beneficiary_import_row_import_id_beneficiary_import"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["beneficiary.id"],
            name=op.f("fk_beneficiary_import_row_beneficiary_id_beneficiary"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_beneficiary_import_row")),
    )
    op.create_index(
        "ix_beneficiary_import_row_import_line",
        "beneficiary_import_row",
        ["import_id", "line"],
        unique=False,
    )

    op.create_index("ix_beneficiary_name", "beneficiary", ["last_name", "first_name", "id"])
    op.create_index("ix_voucher_status_valid_until", "voucher", ["status", "valid_until"])
    op.create_index("ix_voucher_issued_at", "voucher", ["issued_at"])


def downgrade():
    op.drop_index("ix_voucher_issued_at", table_name="voucher")
    op.drop_index("ix_voucher_status_valid_until", table_name="voucher")
    op.drop_index("ix_beneficiary_name", table_name="beneficiary")
    op.drop_index("ix_beneficiary_import_row_import_line", table_name="beneficiary_import_row")
    op.drop_table("beneficiary_import_row")
    op.drop_table("beneficiary_import")
    op.drop_index(op.f("ix_scheme_provider_provider_id"), table_name="scheme_provider")
    op.drop_table("scheme_provider")
    with op.batch_alter_table("ente") as batch:
        batch.drop_column("office_hours")
        batch.drop_column("office_address")
        batch.drop_column("office_email")
        batch.drop_column("office_phone")
