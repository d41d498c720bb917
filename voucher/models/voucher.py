"""Vouchers (buoni servizio): a value and a balance, spendable only with accredited providers."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import created_at_column
from .beneficiary import Beneficiary
from .scheme import Scheme
from .status import VoucherStatus

VOUCHER_STATUSES = tuple(s.value for s in VoucherStatus)


class Voucher(db.Model):
    __tablename__ = "voucher"
    __table_args__ = (
        # The ledger's invariant, enforced by the database whatever the code does.
        CheckConstraint("balance_cents >= 0", name="balance_not_negative"),
        CheckConstraint("balance_cents <= value_cents", name="balance_within_value"),
        CheckConstraint(
            "coverage_percent >= 0 AND coverage_percent <= 100", name="coverage_percent_range"
        ),
        CheckConstraint(
            "status IN ('active', 'exhausted', 'expired', 'revoked', 'suspended')",
            name="status_known",
        ),
        Index("ix_voucher_scheme_status", "scheme_id", "status"),
        Index("ix_voucher_beneficiary_scheme", "beneficiary_id", "scheme_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"))
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"))
    value_cents: Mapped[int]
    balance_cents: Mapped[int]
    coverage_percent: Mapped[int]
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="active")
    pin_salt: Mapped[str] = mapped_column(String(32))
    pin_hash: Mapped[str] = mapped_column(String(64))
    pin_failures: Mapped[int] = mapped_column(default=0)
    pin_locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    qr_payload: Mapped[str] = mapped_column(String(1000))
    issued_at: Mapped[datetime] = created_at_column()
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    batch_id: Mapped[int | None] = mapped_column(index=True)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("voucher.id"), unique=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoke_reason: Mapped[str | None] = mapped_column(String(500))

    scheme: Mapped[Scheme] = relationship()
    beneficiary: Mapped[Beneficiary] = relationship()
    replaces: Mapped["Voucher | None"] = relationship(remote_side=[id])
