"""Vouchers (buoni servizio): a value and a balance, spendable only with accredited providers."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import created_at_column
from .beneficiary import Beneficiary, IseeRecord
from .ente import Comune
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
        # The caseload lists: vouchers by expiry, newest issued first.
        Index("ix_voucher_status_valid_until", "status", "valid_until"),
        Index("ix_voucher_issued_at", "issued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"))
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"))
    # The Comune of competence today (whose quota pays): frozen at issue, moved only by a
    # transfer. Its history, by date, is in voucher_competence.
    comune_id: Mapped[int] = mapped_column(ForeignKey("comune.id"), index=True)
    value_cents: Mapped[int]
    balance_cents: Mapped[int]
    # The coverage at issue; by date, as ISEE renewals change it, in voucher_coverage.
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
    comune: Mapped[Comune] = relationship()
    replaces: Mapped["Voucher | None"] = relationship(remote_side=[id])
    competences: Mapped[list["VoucherCompetence"]] = relationship(
        order_by="[VoucherCompetence.from_date, VoucherCompetence.id]",
        cascade="all, delete-orphan",
    )
    coverages: Mapped[list["VoucherCoverage"]] = relationship(
        order_by="[VoucherCoverage.from_date, VoucherCoverage.id]", cascade="all, delete-orphan"
    )


class VoucherCompetence(db.Model):
    """From `from_date` on, the voucher's redemptions count for `comune_id`. The first row
    is written at issue; each transfer adds one. The row in force on a day is the one with
    the latest from_date not after it (the newest, for equal dates)."""

    __tablename__ = "voucher_competence"
    __table_args__ = (Index("ix_voucher_competence_voucher", "voucher_id", "from_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(ForeignKey("voucher.id"))
    comune_id: Mapped[int] = mapped_column(ForeignKey("comune.id"))
    from_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = created_at_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    comune: Mapped[Comune] = relationship()


class VoucherCoverage(db.Model):
    """From `from_date` on, the voucher covers `coverage_percent` of each service: written
    at issue, and again when a new ISEE record changes the band (from the month after its
    DSU date). `isee_record_id` is the record that set it (none without an ISEE)."""

    __tablename__ = "voucher_coverage"
    __table_args__ = (
        CheckConstraint(
            "coverage_percent >= 0 AND coverage_percent <= 100", name="coverage_percent_range"
        ),
        Index("ix_voucher_coverage_voucher", "voucher_id", "from_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(ForeignKey("voucher.id"))
    coverage_percent: Mapped[int]
    from_date: Mapped[date] = mapped_column(Date)
    isee_record_id: Mapped[int | None] = mapped_column(ForeignKey("isee_record.id"))
    created_at: Mapped[datetime] = created_at_column()

    isee_record: Mapped[IseeRecord | None] = relationship()
