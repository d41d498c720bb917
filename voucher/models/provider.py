"""Accredited providers, their accreditations per service, and their API keys."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, String, and_, false, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import created_at_column
from .catalogue import Service


class Provider(db.Model):
    __tablename__ = "provider"
    __table_args__ = (CheckConstraint("status IN ('active', 'suspended')", name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    vat_number: Mapped[str] = mapped_column(String(11), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(10), default="active")
    # What a payment needs (see voucher.services.payments): the codice fiscale, the IBAN
    # payments go to, the DURC's expiry and the L. 136/2010 dedicated-account declaration.
    fiscal_code: Mapped[str | None] = mapped_column(String(16))
    iban: Mapped[str | None] = mapped_column(String(34))
    durc_valid_until: Mapped[date | None] = mapped_column(Date)
    dedicated_account_declared: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = created_at_column()
    accreditations: Mapped[list["Accreditation"]] = relationship(
        back_populates="provider",
        order_by="(Accreditation.service_code, Accreditation.valid_from)",
        cascade="all, delete-orphan",
    )


class Accreditation(db.Model):
    __tablename__ = "accreditation"
    __table_args__ = (
        CheckConstraint(
            "valid_until IS NULL OR valid_until >= valid_from", name="validity_ordered"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("provider.id", ondelete="CASCADE"), index=True
    )
    service_code: Mapped[str] = mapped_column(ForeignKey("service.code"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    provider: Mapped[Provider] = relationship(back_populates="accreditations")
    service: Mapped[Service] = relationship()

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    @classmethod
    def covering(cls, day):
        """covers() as an SQL condition; `day` is a date or a bound parameter."""
        return and_(cls.valid_from <= day, or_(cls.valid_until.is_(None), cls.valid_until >= day))


class ApiKey(db.Model):
    """A provider's API key. Only a SHA-256 digest is kept: the key has 256 random bits."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(12))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider: Mapped[Provider] = relationship()
