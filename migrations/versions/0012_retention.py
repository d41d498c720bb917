"""Retention and the ente's privacy settings.

Revision ID: 0012
Revises: 0011

The ente gains the contacts its privacy notice names (its PEC, the DPO's name, e-mail and
PEC) and its own retention periods, which override the configuration's defaults when set;
a beneficiary gains the moment the retention job pseudonymised them. Nothing is filled in:
existing entes use the defaults, and nobody is pseudonymised until the job runs.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

PERSONAL_RANGE = "retention_personal_years IS NULL OR retention_personal_years BETWEEN 1 AND 10"
ACCOUNTING_RANGE = (
    "retention_accounting_years IS NULL OR retention_accounting_years BETWEEN 10 AND 100"
)


def upgrade():
    with op.batch_alter_table("ente") as batch:
        batch.add_column(sa.Column("pec", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("dpo_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("dpo_email", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("dpo_pec", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("retention_personal_years", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("retention_accounting_years", sa.Integer(), nullable=True))
        batch.create_check_constraint("retention_personal_years_range", PERSONAL_RANGE)
        batch.create_check_constraint("retention_accounting_years_range", ACCOUNTING_RANGE)
    with op.batch_alter_table("beneficiary") as batch:
        batch.add_column(sa.Column("pseudonymised_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("beneficiary") as batch:
        batch.drop_column("pseudonymised_at")
    with op.batch_alter_table("ente") as batch:
        batch.drop_constraint(op.f("ck_ente_retention_accounting_years_range"), type_="check")
        batch.drop_constraint(op.f("ck_ente_retention_personal_years_range"), type_="check")
        batch.drop_column("retention_accounting_years")
        batch.drop_column("retention_personal_years")
        batch.drop_column("dpo_pec")
        batch.drop_column("dpo_email")
        batch.drop_column("dpo_name")
        batch.drop_column("pec")
