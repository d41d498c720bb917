"""Paying providers: the finance role, the provider's payment data, the scheme's legal
model and the FatturaPA invoices matched to statements.

Revision ID: 0008
Revises: 0007

What the upgrade fills in: existing providers have no codice fiscale, IBAN or DURC date and
no dedicated-account declaration, so their next payment is blocked until the admin records
them; existing schemes are `purchase` (the ente buys the service), the model the statements
assumed until now.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ROLES_BEFORE = "role IN ('admin', 'social_worker', 'provider', 'auditor')"
ROLES_AFTER = "role IN ('admin', 'social_worker', 'provider', 'auditor', 'finance')"


def _roles(condition: str) -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.drop_constraint(op.f("ck_app_user_role_known"), type_="check")
        batch.create_check_constraint("role_known", condition)


def upgrade():
    _roles(ROLES_AFTER)
    with op.batch_alter_table("provider") as batch:
        batch.add_column(sa.Column("fiscal_code", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("iban", sa.String(length=34), nullable=True))
        batch.add_column(sa.Column("durc_valid_until", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column(
                "dedicated_account_declared",
                sa.Boolean(),
                server_default=sa.false(),
                nullable=False,
            )
        )
    with op.batch_alter_table("scheme") as batch:
        batch.add_column(
            sa.Column(
                "legal_model", sa.String(length=12), server_default="purchase", nullable=False
            )
        )
        batch.create_check_constraint(
            "legal_model_known", "legal_model IN ('purchase', 'contribution')"
        )
    op.create_table(
        "statement_invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("sdi_id", sa.String(length=20), nullable=True),
        sa.Column("cup", sa.String(length=15), nullable=True),
        sa.Column("seller_vat_number", sa.String(length=28), nullable=False),
        sa.Column("document_type", sa.String(length=4), nullable=False),
        sa.Column("taxable_cents", sa.BigInteger(), nullable=False),
        sa.Column("vat_cents", sa.BigInteger(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("vat_treatment", sa.String(length=200), nullable=False),
        sa.Column("matched_cents", sa.BigInteger(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=True),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "taxable_cents + vat_cents = total_cents",
            name=op.f("ck_statement_invoice_total_adds_up"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["provider.id"], name=op.f("fk_statement_invoice_provider_id_provider")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["app_user.id"],
            name=op.f("fk_statement_invoice_uploaded_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_invoice")),
        sa.UniqueConstraint(
            "provider_id",
            "number",
            "issued_on",
            name=op.f("uq_statement_invoice_provider_id_number_issued_on"),
        ),
    )
    op.create_index(
        op.f("ix_statement_invoice_provider_id"), "statement_invoice", ["provider_id"]
    )


def downgrade():
    op.drop_index(op.f("ix_statement_invoice_provider_id"), table_name="statement_invoice")
    op.drop_table("statement_invoice")
    with op.batch_alter_table("scheme") as batch:
        batch.drop_constraint(op.f("ck_scheme_legal_model_known"), type_="check")
        batch.drop_column("legal_model")
    with op.batch_alter_table("provider") as batch:
        for column in ("dedicated_account_declared", "durc_valid_until", "iban", "fiscal_code"):
            batch.drop_column(column)
    # The finance office's accounts stay (the audit trail names them), disabled as auditors.
    op.execute("UPDATE app_user SET role = 'auditor', active = false WHERE role = 'finance'")
    _roles(ROLES_BEFORE)
