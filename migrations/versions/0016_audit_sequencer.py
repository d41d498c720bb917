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


def _sqlite_triggers(create: bool) -> None:
    """SQLite's append-only triggers, which copying the table (batch mode) would lose."""
    for action in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS audit_event_no_{action}")
        if create:
            op.execute(f"CREATE TRIGGER audit_event_no_{action} BEFORE {action.upper()} ON "
                       "audit_event BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END")


def upgrade():
    if not _postgresql():
        _sqlite_triggers(create=False)
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("chained_at", sa.DateTime(timezone=True), nullable=True))
        for name, kind in (("seq", sa.Integer()), ("prev_hash", sa.String(64)),
                           ("hash", sa.String(64))):
            batch.alter_column(name, existing_type=kind, nullable=True)
        batch.create_check_constraint(
            "chained_whole",
            "(seq IS NULL) = (hash IS NULL) AND (hash IS NULL) = (prev_hash IS NULL)",
        )
    op.create_index("ix_audit_event_unchained", "audit_event", ["id"],
                    postgresql_where=sa.text("seq IS NULL"), sqlite_where=sa.text("seq IS NULL"))
    if not _postgresql():
        _sqlite_triggers(create=True)  # SQLite links each event as it is written
        return
    # The trigger's condition is checked in the server's C code, row by row, without calling
    # a function: chaining costs the sequencer no PL/pgSQL call.
    op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
    op.execute("CREATE TRIGGER audit_event_append_only BEFORE DELETE ON audit_event "
               "FOR EACH ROW EXECUTE FUNCTION refuse_change()")
    op.execute("CREATE TRIGGER audit_event_chain_only BEFORE UPDATE ON audit_event "
               f"FOR EACH ROW WHEN (NOT ({_CHAINING})) EXECUTE FUNCTION refuse_change()")


def downgrade():
    # Unchained events cannot be kept by the old schema: downgrade with the sequencer
    # stopped after it has chained them all (`flask --app voucher audit sequence --once`).
    if _postgresql():
        op.execute("DROP TRIGGER IF EXISTS audit_event_chain_only ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON "
                   "audit_event FOR EACH ROW EXECUTE FUNCTION refuse_change()")
    else:
        _sqlite_triggers(create=False)
    op.drop_index("ix_audit_event_unchained", table_name="audit_event")
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_constraint("chained_whole", type_="check")
        for name, kind in (("seq", sa.Integer()), ("prev_hash", sa.String(64)),
                           ("hash", sa.String(64))):
            batch.alter_column(name, existing_type=kind, nullable=False)
        batch.drop_column("chained_at")
    if not _postgresql():
        _sqlite_triggers(create=True)
