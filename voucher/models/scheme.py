"""Schemes (misure): what a fund pays for, to whom, and under which constraints."""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import created_at_column
from .catalogue import Fund, Service
from .provider import Provider
from .status import SchemeStatus

SCHEME_STATUSES = tuple(s.value for s in SchemeStatus)

scheme_service = Table(
    "scheme_service",
    db.metadata,
    Column("scheme_id", ForeignKey("scheme.id", ondelete="CASCADE"), primary_key=True),
    Column("service_code", ForeignKey("service.code"), primary_key=True),
)

# The providers a scheme is limited to; none listed: every provider accredited for its
# services.
scheme_provider = Table(
    "scheme_provider",
    db.metadata,
    Column("scheme_id", ForeignKey("scheme.id", ondelete="CASCADE"), primary_key=True),
    Column("provider_id", ForeignKey("provider.id"), primary_key=True, index=True),
)


class Scheme(db.Model):
    __tablename__ = "scheme"
    __table_args__ = (
        CheckConstraint("face_value_cents > 0", name="face_value_positive"),
        CheckConstraint("budget_cents >= 0", name="budget_not_negative"),
        CheckConstraint("valid_until >= valid_from", name="validity_ordered"),
        CheckConstraint("status IN ('draft', 'active', 'closed')", name="status_known"),
        CheckConstraint("legal_model IN ('purchase', 'contribution')", name="legal_model_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(2000))
    fund_code: Mapped[str] = mapped_column(ForeignKey("fund.code"), index=True)
    year: Mapped[int]
    cup: Mapped[str | None] = mapped_column(String(15))
    area: Mapped[str] = mapped_column(String(1))
    unit: Mapped[str] = mapped_column(String(8))
    unit_price_cents: Mapped[int | None]
    face_value_cents: Mapped[int]
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    # 64-bit: a large Comune's yearly budget can pass the 32-bit ceiling (21.474.836,47 €).
    # SQLite's INTEGER is already 64-bit.
    budget_cents: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    eligible_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_age: Mapped[int | None]
    max_age: Mapped[int | None]
    isee_max_cents: Mapped[int | None]
    max_active_per_beneficiary: Mapped[int | None]
    max_redemption_cents: Mapped[int | None]
    # Eligibility: residence in one of the ente's Comuni; which ISEE type counts, and
    # whether a person without one is refused (otherwise the last band applies).
    residence_required: Mapped[bool] = mapped_column(default=True, server_default=true())
    isee_type: Mapped[str] = mapped_column(
        String(16), default="ordinario", server_default="ordinario"
    )
    isee_required: Mapped[bool] = mapped_column(default=False, server_default=false())
    # SIUSS: whether the service follows a presa in carico by the social service.
    presa_in_carico: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Who buys the service: the ente (`purchase`: the provider invoices it the public share)
    # or the family, with the ente paying its contribution on its behalf (`contribution`).
    legal_model: Mapped[str] = mapped_column(
        String(12), default="purchase", server_default="purchase"
    )
    status: Mapped[str] = mapped_column(String(8), default="draft")
    created_at: Mapped[datetime] = created_at_column()

    fund: Mapped[Fund] = relationship()
    services: Mapped[list[Service]] = relationship(secondary=scheme_service, order_by=Service.code)
    # Limited to these providers when any is listed (see scheme_provider).
    providers: Mapped[list[Provider]] = relationship(
        secondary=scheme_provider, order_by=Provider.name
    )
    copay_bands: Mapped[list["CopayBand"]] = relationship(
        order_by="CopayBand.isee_max_cents",
        cascade="all, delete-orphan",
        back_populates="scheme",
    )

    @property
    def service_codes(self) -> list[str]:
        return [s.code for s in self.services]


class CopayBand(db.Model):
    """An ISEE band: beneficiaries up to isee_max_cents get coverage_percent of each service."""

    __tablename__ = "copay_band"
    __table_args__ = (
        CheckConstraint(
            "coverage_percent >= 0 AND coverage_percent <= 100", name="coverage_percent_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id", ondelete="CASCADE"), index=True)
    isee_max_cents: Mapped[int]
    coverage_percent: Mapped[int]
    scheme: Mapped[Scheme] = relationship(back_populates="copay_bands")
