"""Bulk issuance: batches, their rows and their letters.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('issue_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scheme_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('planned', sa.Integer(), nullable=False),
    sa.Column('processed', sa.Integer(), nullable=False),
    sa.Column('issued', sa.Integer(), nullable=False),
    sa.Column('refused', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=1000), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'queued', 'running', 'done', 'failed')", name=op.f('ck_issue_batch_status_known')),
    sa.CheckConstraint('processed <= planned', name=op.f('ck_issue_batch_processed_within_planned')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['app_user.id'], name=op.f('fk_issue_batch_confirmed_by_id_app_user')),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_issue_batch_created_by_id_app_user')),
    sa.ForeignKeyConstraint(['scheme_id'], ['scheme.id'], name=op.f('fk_issue_batch_scheme_id_scheme')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issue_batch'))
    )
    with op.batch_alter_table('issue_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issue_batch_scheme_id'), ['scheme_id'], unique=False)
        batch_op.create_index('ix_issue_batch_status_lease', ['status', 'lease_until'], unique=False)

    op.create_table('issue_batch_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('letters_part', 'letters')", name=op.f('ck_issue_batch_document_kind_known')),
    sa.ForeignKeyConstraint(['batch_id'], ['issue_batch.id'], name=op.f('fk_issue_batch_document_batch_id_issue_batch'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issue_batch_document')),
    sa.UniqueConstraint('batch_id', 'kind', 'seq', name=op.f('uq_issue_batch_document_batch_id_kind_seq'))
    )
    with op.batch_alter_table('issue_batch_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issue_batch_document_batch_id'), ['batch_id'], unique=False)

    op.create_table('issue_batch_row',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('fiscal_code', sa.String(length=32), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('beneficiary_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('message', sa.String(length=300), nullable=True),
    sa.Column('result', sa.String(length=8), nullable=True),
    sa.Column('voucher_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(result = 'issued') = (voucher_id IS NOT NULL)", name=op.f('ck_issue_batch_row_issued_has_voucher')),
    sa.CheckConstraint("outcome IN ('issue', 'refused')", name=op.f('ck_issue_batch_row_outcome_known')),
    sa.CheckConstraint("result IS NULL OR result IN ('issued', 'refused')", name=op.f('ck_issue_batch_row_result_known')),
    sa.ForeignKeyConstraint(['batch_id'], ['issue_batch.id'], name=op.f('fk_issue_batch_row_batch_id_issue_batch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'], name=op.f('fk_issue_batch_row_beneficiary_id_beneficiary')),
    sa.ForeignKeyConstraint(['voucher_id'], ['voucher.id'], name=op.f('fk_issue_batch_row_voucher_id_voucher')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issue_batch_row')),
    sa.UniqueConstraint('batch_id', 'line', name=op.f('uq_issue_batch_row_batch_id_line')),
    sa.UniqueConstraint('voucher_id', name=op.f('uq_issue_batch_row_voucher_id'))
    )
    with op.batch_alter_table('issue_batch_row', schema=None) as batch_op:
        batch_op.create_index('ix_issue_batch_row_pending', ['batch_id', 'result', 'line'], unique=False)


def downgrade():
    with op.batch_alter_table('issue_batch_row', schema=None) as batch_op:
        batch_op.drop_index('ix_issue_batch_row_pending')

    op.drop_table('issue_batch_row')
    with op.batch_alter_table('issue_batch_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issue_batch_document_batch_id'))

    op.drop_table('issue_batch_document')
    with op.batch_alter_table('issue_batch', schema=None) as batch_op:
        batch_op.drop_index('ix_issue_batch_status_lease')
        batch_op.drop_index(batch_op.f('ix_issue_batch_scheme_id'))

    op.drop_table('issue_batch')
