"""The Comune of competence on vouchers and ledger entries, ISEE records, and the fields
SIUSS needs (the ente's code, citizenship, presa in carico).

Revision ID: 0007
Revises: 0006

What the upgrade fills in, so that existing records keep their meaning:
- every voucher's Comune of competence is its beneficiary's residence *as it stands at
  the upgrade* (the only Comune the records knew), from the voucher's first day;
- every ledger entry's Comune of competence is its voucher's;
- every voucher's coverage history starts with its coverage at issue, from its first day;
- every beneficiary with an ISEE gets one `ordinario` record of that value and expiry,
  without a DSU protocol or date (the records never had them);
- citizenship is Italian (`IT`) for everyone, as the SIUSS flow assumed until now;
- Comuni may now exist outside the ente (`ente_id` null): where a beneficiary lives;
- the catalogue's default SIUSS mappings are corrected where the ente has not changed
  them: A2 "Pasti a domicilio" to A2.07 (home care, not a canteen), B4 court-ordered
  assistance to A3.02 (removals are residential placements); P1 (traineeships) and P6
  (social emergency response) are marked not voucherable.

The ledger stays append-only. The one change its triggers now let through is a new
`comune_id`: a transfer moves the attribution of entries in periods still open.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

LEDGER_COLUMNS_FROZEN = (
    "id, kind, voucher_id, provider_id, service_code, service_date, quantity, hours, "
    "amount_cents, public_cents, copay_cents, balance_after_cents, reverses_id, reason, "
    "idempotency_key, request_hash, user_id, api_key_id, created_at"
)
LEDGER_COLUMNS_BEFORE = LEDGER_COLUMNS_FROZEN.replace("hours, ", "")


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    with op.batch_alter_table("comune") as batch:
        batch.alter_column("ente_id", existing_type=sa.Integer(), nullable=True)
    op.add_column("ente", sa.Column("siuss_code", sa.String(length=16), nullable=True))
    op.add_column(
        "beneficiary",
        sa.Column("citizenship", sa.String(length=2), server_default="IT", nullable=False),
    )
    for name in ("residence_required",):
        op.add_column(
            "scheme", sa.Column(name, sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    op.add_column(
        "scheme",
        sa.Column("isee_type", sa.String(length=16), server_default="ordinario", nullable=False),
    )
    for name in ("isee_required", "presa_in_carico"):
        op.add_column(
            "scheme", sa.Column(name, sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    op.add_column(
        "service", sa.Column("voucherable", sa.Boolean(), server_default=sa.true(), nullable=False)
    )
    op.execute("UPDATE service SET voucherable = false WHERE code IN ('P1', 'P6')")
    op.execute("UPDATE service SET siuss_code = 'A2.07' WHERE code = 'A2' AND siuss_code = 'A2.01'")
    op.execute("UPDATE service SET siuss_code = 'A3.02' WHERE code = 'B4' AND siuss_code = 'A2.02'")

    op.create_table(
        "isee_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("value_cents", sa.Integer(), nullable=False),
        sa.Column("dsu_protocol", sa.String(length=32), nullable=True),
        sa.Column("dsu_date", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "type IN ('ordinario', 'sociosanitario', 'minorenni', 'corrente')",
            name=op.f("ck_isee_record_type_known"),
        ),
        sa.CheckConstraint("value_cents >= 0", name=op.f("ck_isee_record_value_not_negative")),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"], ["beneficiary.id"],
            name=op.f("fk_isee_record_beneficiary_id_beneficiary"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["app_user.id"], name=op.f("fk_isee_record_created_by_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_isee_record")),
    )
    op.create_index(
        "ix_isee_record_beneficiary_type", "isee_record", ["beneficiary_id", "type"]
    )
    op.execute(
        "INSERT INTO isee_record (beneficiary_id, type, value_cents, valid_until, created_at) "
        "SELECT id, 'ordinario', isee_cents, isee_valid_until, created_at FROM beneficiary "
        "WHERE isee_cents IS NOT NULL"
    )

    op.add_column("voucher", sa.Column("comune_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE voucher SET comune_id = "
        "(SELECT b.comune_id FROM beneficiary b WHERE b.id = voucher.beneficiary_id)"
    )
    with op.batch_alter_table("voucher") as batch:
        batch.alter_column("comune_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(
            batch.f("fk_voucher_comune_id_comune"), "comune", ["comune_id"], ["id"]
        )
        batch.create_index(batch.f("ix_voucher_comune_id"), ["comune_id"])

    op.create_table(
        "voucher_competence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("voucher_id", sa.Integer(), nullable=False),
        sa.Column("comune_id", sa.Integer(), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["comune_id"], ["comune.id"], name=op.f("fk_voucher_competence_comune_id_comune")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["app_user.id"],
            name=op.f("fk_voucher_competence_created_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"], ["voucher.id"], name=op.f("fk_voucher_competence_voucher_id_voucher")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_competence")),
    )
    op.create_index(
        "ix_voucher_competence_voucher", "voucher_competence", ["voucher_id", "from_date"]
    )
    op.execute(
        "INSERT INTO voucher_competence (voucher_id, comune_id, from_date, created_at) "
        "SELECT id, comune_id, valid_from, issued_at FROM voucher"
    )
    op.create_table(
        "voucher_coverage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("voucher_id", sa.Integer(), nullable=False),
        sa.Column("coverage_percent", sa.Integer(), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=False),
        sa.Column("isee_record_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "coverage_percent >= 0 AND coverage_percent <= 100",
            name=op.f("ck_voucher_coverage_coverage_percent_range"),
        ),
        sa.ForeignKeyConstraint(
            ["isee_record_id"], ["isee_record.id"],
            name=op.f("fk_voucher_coverage_isee_record_id_isee_record"),
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"], ["voucher.id"], name=op.f("fk_voucher_coverage_voucher_id_voucher")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_coverage")),
    )
    op.create_index(
        "ix_voucher_coverage_voucher", "voucher_coverage", ["voucher_id", "from_date"]
    )
    op.execute(
        "INSERT INTO voucher_coverage (voucher_id, coverage_percent, from_date, created_at) "
        "SELECT id, coverage_percent, valid_from, issued_at FROM voucher"
    )

    _drop_ledger_triggers()
    op.add_column("ledger_entry", sa.Column("hours", sa.Numeric(10, 2), nullable=True))
    op.add_column("ledger_entry", sa.Column("comune_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE ledger_entry SET comune_id = "
        "(SELECT v.comune_id FROM voucher v WHERE v.id = ledger_entry.voucher_id)"
    )
    with op.batch_alter_table("ledger_entry") as batch:
        batch.alter_column("comune_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(
            batch.f("fk_ledger_entry_comune_id_comune"), "comune", ["comune_id"], ["id"]
        )
        batch.create_index("ix_ledger_entry_voucher_date", ["voucher_id", "service_date"])
    _create_ledger_triggers(LEDGER_COLUMNS_FROZEN, allow_comune=True)


def downgrade():
    _drop_ledger_triggers()
    with op.batch_alter_table("ledger_entry") as batch:
        batch.drop_index("ix_ledger_entry_voucher_date")
        batch.drop_constraint(batch.f("fk_ledger_entry_comune_id_comune"), type_="foreignkey")
        batch.drop_column("comune_id")
        batch.drop_column("hours")
    _create_ledger_triggers(LEDGER_COLUMNS_BEFORE, allow_comune=False)
    op.drop_index("ix_voucher_coverage_voucher", table_name="voucher_coverage")
    op.drop_table("voucher_coverage")
    op.drop_index("ix_voucher_competence_voucher", table_name="voucher_competence")
    op.drop_table("voucher_competence")
    with op.batch_alter_table("voucher") as batch:
        batch.drop_index(batch.f("ix_voucher_comune_id"))
        batch.drop_constraint(batch.f("fk_voucher_comune_id_comune"), type_="foreignkey")
        batch.drop_column("comune_id")
    op.drop_index("ix_isee_record_beneficiary_type", table_name="isee_record")
    op.drop_table("isee_record")
    op.execute("UPDATE service SET siuss_code = 'A2.01' WHERE code = 'A2' AND siuss_code = 'A2.07'")
    op.execute("UPDATE service SET siuss_code = 'A2.02' WHERE code = 'B4' AND siuss_code = 'A3.02'")
    with op.batch_alter_table("service") as batch:
        batch.drop_column("voucherable")
    with op.batch_alter_table("scheme") as batch:
        for name in ("presa_in_carico", "isee_required", "isee_type", "residence_required"):
            batch.drop_column(name)
    with op.batch_alter_table("beneficiary") as batch:
        batch.drop_column("citizenship")
    with op.batch_alter_table("ente") as batch:
        batch.drop_column("siuss_code")
    op.execute("DELETE FROM comune WHERE ente_id IS NULL")
    with op.batch_alter_table("comune") as batch:
        batch.alter_column("ente_id", existing_type=sa.Integer(), nullable=False)


def _drop_ledger_triggers():
    if _postgresql():
        op.execute("DROP TRIGGER IF EXISTS ledger_entry_append_only ON ledger_entry")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS ledger_entry_no_{action}")


def _create_ledger_triggers(frozen_columns: str, *, allow_comune: bool):
    """The ledger refuses DELETE, and any UPDATE but (with allow_comune) of comune_id."""
    if _postgresql():
        if allow_comune:
            op.execute("""
                CREATE OR REPLACE FUNCTION refuse_ledger_change() RETURNS trigger AS $$
                BEGIN
                  IF TG_OP = 'UPDATE' AND NEW.comune_id IS DISTINCT FROM OLD.comune_id
                     AND to_jsonb(NEW) - 'comune_id' = to_jsonb(OLD) - 'comune_id' THEN
                    RETURN NEW;
                  END IF;
                  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'restrict_violation';
                END;
                $$ LANGUAGE plpgsql
            """)
            function = "refuse_ledger_change"
        else:
            function = "refuse_change"
        op.execute("CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE "
                   f"ON ledger_entry FOR EACH ROW EXECUTE FUNCTION {function}()")
        if not allow_comune:
            op.execute("DROP FUNCTION IF EXISTS refuse_ledger_change()")
    else:
        op.execute(f"CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE OF {frozen_columns} "
                   "ON ledger_entry BEGIN SELECT RAISE(ABORT, 'ledger_entry is append-only'); END")
        op.execute("CREATE TRIGGER ledger_entry_no_delete BEFORE DELETE ON ledger_entry "
                   "BEGIN SELECT RAISE(ABORT, 'ledger_entry is append-only'); END")
