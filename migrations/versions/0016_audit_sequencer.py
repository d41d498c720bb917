"""The audit chain off the hot path (PostgreSQL): events are written unchained, each with
its id from a sequence, and one sequencer links the committed ones to the chain.

An event's place in the chain (seq), previous hash and hash stay empty until the sequencer
fills them, all three at once and once only: the append-only trigger lets that one change
through, and nothing else. A partial index finds the unchained tail. SQLite keeps linking
each event at commit, as before: its writers are serialised anyway.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# The columns an UPDATE may never change, chained or not.
_FROZEN = ("id", "at", "actor_type", "actor_id", "actor_label", "action", "object_type",
           "object_id")
# Only an unchained event may be chained, and only its chain columns and chained_at change.
_CHAINING = " AND ".join(
    ["OLD.seq IS NULL", "OLD.prev_hash IS NULL", "OLD.hash IS NULL", "OLD.chained_at IS NULL",
     "NEW.seq IS NOT NULL", "NEW.prev_hash IS NOT NULL", "NEW.hash IS NOT NULL",
     "NEW.data::text = OLD.data::text"]
    + [f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in _FROZEN]
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    # A plain ADD COLUMN, also on SQLite: a batch copy would lose the table's triggers.
    op.add_column("audit_event", sa.Column("chained_at", sa.DateTime(timezone=True)))
    if not _postgresql():
        return
    op.execute("ALTER TABLE audit_event ALTER COLUMN seq DROP NOT NULL, "
               "ALTER COLUMN prev_hash DROP NOT NULL, ALTER COLUMN hash DROP NOT NULL")
    op.execute("ALTER TABLE audit_event ADD CONSTRAINT ck_audit_event_chained_whole CHECK "
               "((seq IS NULL) = (hash IS NULL) AND (hash IS NULL) = (prev_hash IS NULL))")
    op.execute("CREATE INDEX ix_audit_event_unchained ON audit_event (id) WHERE seq IS NULL")
    # The trigger's condition is checked in the server's C code, row by row, without calling
    # a function: chaining costs the sequencer no PL/pgSQL call.
    op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
    op.execute("CREATE TRIGGER audit_event_append_only BEFORE DELETE ON audit_event "
               "FOR EACH ROW EXECUTE FUNCTION refuse_change()")
    op.execute("CREATE TRIGGER audit_event_chain_only BEFORE UPDATE ON audit_event "
               f"FOR EACH ROW WHEN (NOT ({_CHAINING})) EXECUTE FUNCTION refuse_change()")


def downgrade():
    if _postgresql():
        op.execute("DROP TRIGGER IF EXISTS audit_event_chain_only ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON "
                   "audit_event FOR EACH ROW EXECUTE FUNCTION refuse_change()")
        op.execute("DROP INDEX IF EXISTS ix_audit_event_unchained")
        op.execute("ALTER TABLE audit_event DROP CONSTRAINT IF EXISTS "
                   "ck_audit_event_chained_whole")
        # Unchained events cannot be kept by the old schema: downgrade with the sequencer
        # stopped after it has chained them all (`flask --app voucher audit sequence`).
        op.execute("ALTER TABLE audit_event ALTER COLUMN seq SET NOT NULL, "
                   "ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN hash SET NOT NULL")
    if _postgresql():
        op.drop_column("audit_event", "chained_at")
    # SQLite keeps the empty column: dropping it would copy the table and lose its triggers.
