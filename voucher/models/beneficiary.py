"""Beneficiaries and households. Special-category personal data: shown only to staff."""

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import created_at_column
from .ente import Comune

CATEGORIES = (
    "elderly_self_sufficient",
    "elderly_dependent",
    "minor",
    "fragile_parenting",
    "disabled",
    "inclusion_household",
)


class Household(db.Model):
    __tablename__ = "household"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = created_at_column()
    members: Mapped[list["Beneficiary"]] = relationship(back_populates="household")


class Beneficiary(db.Model):
    __tablename__ = "beneficiary"
    __table_args__ = (
        CheckConstraint("sex IN ('M', 'F')", name="sex_known"),
        CheckConstraint("isee_cents IS NULL OR isee_cents >= 0", name="isee_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_code: Mapped[str] = mapped_column(String(16), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    comune_id: Mapped[int] = mapped_column(ForeignKey("comune.id"), index=True)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    isee_cents: Mapped[int | None]
    isee_valid_until: Mapped[date | None] = mapped_column(Date)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = created_at_column()

    comune: Mapped[Comune] = relationship()
    household: Mapped[Household | None] = relationship(back_populates="members")

    @property
    def initials(self) -> str:
        return f"{self.first_name[:1]}.{self.last_name[:1]}.".upper()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"
