"""Who acts for a beneficiary in the personal area: a parent, a guardian (tutore), a support
administrator (amministratore di sostegno) or a curator, by their codice fiscale.

Revision ID: 0015
Revises: 0014

A person signed in with SPID or CIE sees their own vouchers and those of the people whose
record names them as representative (voucher.web.citizen).
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("beneficiary") as batch:
        batch.add_column(sa.Column("representative_fiscal_code", sa.String(length=16)))
        batch.add_column(sa.Column("representative_role", sa.String(length=16)))
        batch.create_check_constraint(
            op.f("ck_beneficiary_representative_known"),
            "(representative_fiscal_code IS NULL AND representative_role IS NULL) OR "
            "(representative_fiscal_code IS NOT NULL AND representative_role IN "
            "('genitore', 'tutore', 'amministratore', 'curatore'))",
        )
        batch.create_index("ix_beneficiary_representative", ["representative_fiscal_code"])


def downgrade():
    with op.batch_alter_table("beneficiary") as batch:
        batch.drop_index("ix_beneficiary_representative")
        batch.drop_constraint(op.f("ck_beneficiary_representative_known"), type_="check")
        batch.drop_column("representative_role")
        batch.drop_column("representative_fiscal_code")
