"""Notifications to beneficiaries: one row per message to send on one channel, and the
relay's place in the audit trail (see voucher.notifications)."""

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import created_at_column
from .beneficiary import Beneficiary
from .voucher import Voucher

NOTIFICATION_KINDS = ("issued", "redeemed", "reversed", "low_balance", "expiring", "revoked")
NOTIFICATION_CHANNELS = ("email", "io")
NOTIFICATION_STATUSES = ("pending", "sending", "sent", "failed", "skipped")


class Notification(db.Model):
    """A message to one person on one channel. `dedupe_key` names what it reports (the
    audit event, or the voucher and day of a scheduled notice) and the channel, so that no
    event is ever notified twice, however often the relay runs."""

    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('issued', 'redeemed', 'reversed', 'low_balance', 'expiring', 'revoked')",
            name="kind_known",
        ),
        CheckConstraint("channel IN ('email', 'io')", name="channel_known"),
        CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'skipped')", name="status_known"
        ),
        Index("ix_notification_due", "status", "next_attempt_at"),
        Index("ix_notification_voucher", "voucher_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(80), unique=True)
    event_seq: Mapped[int | None]  # the audit event it reports, if any
    kind: Mapped[str] = mapped_column(String(12))
    channel: Mapped[str] = mapped_column(String(8))
    voucher_id: Mapped[int] = mapped_column(ForeignKey("voucher.id"))
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    language: Mapped[str] = mapped_column(String(2), default="it")
    subject: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # While a worker sends it: after this moment another worker may try again.
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(500))
    external_id: Mapped[str | None] = mapped_column(String(120))  # IO's message id
    created_at: Mapped[datetime] = created_at_column()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    voucher: Mapped[Voucher] = relationship()
    beneficiary: Mapped[Beneficiary] = relationship()


class NotificationCursor(db.Model):
    """The last audit event the relay has turned into notifications (one row)."""

    __tablename__ = "notification_cursor"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(default=0)
