"""Provider statements (frozen lines), SIUSS flows and their outcomes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 10:30:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('statement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('total_amount_cents', sa.Integer(), nullable=False),
    sa.Column('total_public_cents', sa.Integer(), nullable=False),
    sa.Column('total_copay_cents', sa.Integer(), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('payment_reference', sa.String(length=100), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status <> 'paid' OR (paid_on IS NOT NULL AND payment_reference IS NOT NULL)", name=op.f('ck_statement_paid_has_reference')),
    sa.CheckConstraint("status IN ('approved', 'paid')", name=op.f('ck_statement_status_known')),
    sa.CheckConstraint('total_public_cents + total_copay_cents = total_amount_cents', name=op.f('ck_statement_totals_add_up')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['app_user.id'], name=op.f('fk_statement_approved_by_id_app_user')),
    sa.ForeignKeyConstraint(['paid_by_id'], ['app_user.id'], name=op.f('fk_statement_paid_by_id_app_user')),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_statement_provider_id_provider')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement')),
    sa.UniqueConstraint('provider_id', 'month', name=op.f('uq_statement_provider_id_month'))
    )
    op.create_table('statement_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('ledger_entry_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entry.id'], name=op.f('fk_statement_line_ledger_entry_id_ledger_entry')),
    sa.ForeignKeyConstraint(['statement_id'], ['statement.id'], name=op.f('fk_statement_line_statement_id_statement')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_line')),
    sa.UniqueConstraint('ledger_entry_id', name=op.f('uq_statement_line_ledger_entry_id'))
    )
    with op.batch_alter_table('statement_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_line_statement_id'), ['statement_id'], unique=False)

    op.create_table('siuss_flow',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('id_flusso', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('voucher_id', sa.Integer(), nullable=False),
    sa.Column('operation', sa.String(length=1), nullable=False),
    sa.Column('cancels_id', sa.Integer(), nullable=True),
    sa.Column('ts_ms', sa.BigInteger(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('public_cents', sa.Integer(), nullable=False),
    sa.Column('copay_cents', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('xml', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("operation IN ('I', 'C')", name=op.f('ck_siuss_flow_operation_known')),
    sa.ForeignKeyConstraint(['cancels_id'], ['siuss_flow.id'], name=op.f('fk_siuss_flow_cancels_id_siuss_flow')),
    sa.ForeignKeyConstraint(['voucher_id'], ['voucher.id'], name=op.f('fk_siuss_flow_voucher_id_voucher')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_siuss_flow')),
    sa.UniqueConstraint('cancels_id', name=op.f('uq_siuss_flow_cancels_id')),
    sa.UniqueConstraint('id_flusso', name=op.f('uq_siuss_flow_id_flusso')),
    sa.UniqueConstraint('ts_ms', name=op.f('uq_siuss_flow_ts_ms'))
    )
    with op.batch_alter_table('siuss_flow', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_siuss_flow_period'), ['period'], unique=False)
        batch_op.create_index(batch_op.f('ix_siuss_flow_voucher_id'), ['voucher_id'], unique=False)

    op.create_table('siuss_outcome',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flow_id', sa.Integer(), nullable=False),
    sa.Column('codice_esito', sa.String(length=20), nullable=False),
    sa.Column('descrizione_esito', sa.String(length=2000), nullable=True),
    sa.Column('id_acquisizione_siuss', sa.String(length=64), nullable=True),
    sa.Column('ts_acquisizione', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("codice_esito IN ('OK', 'DATI_NON_TROVATI', 'RICHIESTA_INVALIDA', 'ERRORE_GENERICO')", name=op.f('ck_siuss_outcome_codice_esito_known')),
    sa.ForeignKeyConstraint(['flow_id'], ['siuss_flow.id'], name=op.f('fk_siuss_outcome_flow_id_siuss_flow')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_siuss_outcome'))
    )
    with op.batch_alter_table('siuss_outcome', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_siuss_outcome_flow_id'), ['flow_id'], unique=False)

    make_append_only("statement_line")


def downgrade():
    drop_append_only("statement_line")
    with op.batch_alter_table('siuss_outcome', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_siuss_outcome_flow_id'))

    op.drop_table('siuss_outcome')
    with op.batch_alter_table('siuss_flow', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_siuss_flow_voucher_id'))
        batch_op.drop_index(batch_op.f('ix_siuss_flow_period'))

    op.drop_table('siuss_flow')
    with op.batch_alter_table('statement_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_line_statement_id'))

    op.drop_table('statement_line')
    op.drop_table('statement')


def make_append_only(table):
    """A frozen statement's lines are a legal record, like the ledger they point to."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger AS $$
            BEGIN
              RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'restrict_violation';
            END;
            $$ LANGUAGE plpgsql
        """)
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION refuse_change()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def drop_append_only(table):
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
