"""The ledger: immutable redemptions and their compensating reversals."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import created_at_column
from .catalogue import Service
from .ente import Comune
from .provider import Provider
from .voucher import Voucher

ENTRY_KINDS = ("redemption", "reversal")


class LedgerEntry(db.Model):
    """One line of the ledger. Never updated or deleted: database triggers refuse both."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        UniqueConstraint("provider_id", "idempotency_key"),
        CheckConstraint("kind IN ('redemption', 'reversal')", name="kind_known"),
        CheckConstraint("public_cents + copay_cents = amount_cents", name="shares_add_up"),
        CheckConstraint(
            "(kind = 'redemption' AND amount_cents >= 0 AND public_cents >= 0 "
            "AND copay_cents >= 0 AND reverses_id IS NULL) OR "
            "(kind = 'reversal' AND amount_cents <= 0 AND public_cents <= 0 "
            "AND copay_cents <= 0 AND reverses_id IS NOT NULL)",
            name="sign_matches_kind",
        ),
        CheckConstraint("balance_after_cents >= 0", name="balance_after_not_negative"),
        Index("ix_ledger_entry_voucher", "voucher_id", "id"),
        Index("ix_ledger_entry_provider_date", "provider_id", "service_date"),
        Index("ix_ledger_entry_service_date", "service_date"),
        Index("ix_ledger_entry_voucher_date", "voucher_id", "service_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    voucher_id: Mapped[int] = mapped_column(ForeignKey("voucher.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"))
    service_code: Mapped[str] = mapped_column(ForeignKey("service.code"))
    service_date: Mapped[date] = mapped_column(Date)
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    # Hours of assistance a provider records on a euro-valued voucher (the FSC form asks).
    hours: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    # The Comune of competence on service_date. The one column a transfer may move (for
    # entries of periods still open); the triggers refuse any other change.
    comune_id: Mapped[int] = mapped_column(ForeignKey("comune.id"))
    amount_cents: Mapped[int]
    public_cents: Mapped[int]
    copay_cents: Mapped[int]
    balance_after_cents: Mapped[int]
    # A redemption is reversed at most once: the database refuses a second reversal.
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"), unique=True)
    reason: Mapped[str | None] = mapped_column(String(500))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    created_at: Mapped[datetime] = created_at_column()

    voucher: Mapped[Voucher] = relationship()
    provider: Mapped[Provider] = relationship()
    service: Mapped[Service] = relationship()
    reverses: Mapped["LedgerEntry | None"] = relationship(remote_side=[id])
    comune: Mapped[Comune] = relationship()
