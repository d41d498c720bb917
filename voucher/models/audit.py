"""The audit trail: append-only, hash-chained events."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class AuditEvent(db.Model):
    """One change of state. `hash` covers the event and the previous event's hash."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_object", "object_type", "object_id"),
        # The unchained tail, which the sequencer reads (voucher.services.audit_sequencer).
        Index(
            "ix_audit_event_unchained",
            "id",
            postgresql_where=text("seq IS NULL"),
            sqlite_where=text("seq IS NULL"),
        ),
        CheckConstraint(
            "(seq IS NULL) = (hash IS NULL) AND (hash IS NULL) = (prev_hash IS NULL)",
            name="chained_whole",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Its place in the chain, the previous hash and its hash: empty until the sequencer
    # links it (PostgreSQL), set as it is written on SQLite.
    seq: Mapped[int | None] = mapped_column(unique=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None]
    actor_label: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    chained_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditChain(db.Model):
    """The head of the chain, in one row: the newest event's seq, previous hash and hash.
    Appending an event updates this row, so concurrent transactions take their turns on
    its lock (held until they commit) and build one unbroken chain."""

    __tablename__ = "audit_chain"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
