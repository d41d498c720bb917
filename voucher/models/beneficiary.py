"""Beneficiaries and households. Special-category personal data: shown only to staff."""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    event,
    inspect,
    true,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

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
# Who may act for a beneficiary in the personal area: a minor's parent, a guardian (tutore),
# a support administrator (amministratore di sostegno) or a curator.
REPRESENTATIVE_ROLES = ("genitore", "tutore", "amministratore", "curatore")


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
        # The caseload list, by surname and name.
        Index("ix_beneficiary_name", "last_name", "first_name", "id"),
        CheckConstraint(
            "(representative_fiscal_code IS NULL AND representative_role IS NULL) OR "
            "(representative_fiscal_code IS NOT NULL AND representative_role IN "
            "('genitore', 'tutore', 'amministratore', 'curatore'))",
            name="representative_known",
        ),
        Index("ix_beneficiary_representative", "representative_fiscal_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_code: Mapped[str] = mapped_column(String(16), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    # The Comune of residence, anywhere in Italy: residence is a scheme's rule, not the registry's.
    comune_id: Mapped[int] = mapped_column(ForeignKey("comune.id"), index=True)
    # ISO 3166-1 alpha-2; SIUSS receives INPS's code for it (voucher/data/cittadinanze.csv).
    citizenship: Mapped[str] = mapped_column(String(2), default="IT", server_default="IT")
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The newest `ordinario` ISEE record, kept here as a shortcut (see IseeRecord).
    isee_cents: Mapped[int | None]
    isee_valid_until: Mapped[date | None] = mapped_column(Date)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = created_at_column()
    # Set by the retention job when the personal details beyond what the accounts need were
    # replaced by a pseudonym (voucher.services.retention).
    pseudonymised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Notifications (voucher.notifications): the channels the person accepts and the
    # language of the messages.
    notify_email: Mapped[bool] = mapped_column(default=True, server_default=true())
    notify_io: Mapped[bool] = mapped_column(default=True, server_default=true())
    notify_language: Mapped[str] = mapped_column(String(2), default="it", server_default="it")
    # Who acts for the person in the personal area (a minor's parent, a guardian, a support
    # administrator or a curator), by codice fiscale: signed in with SPID or CIE, they see
    # this person's vouchers beside their own. REPRESENTATIVE_ROLES names the roles.
    representative_fiscal_code: Mapped[str | None] = mapped_column(String(16))
    representative_role: Mapped[str | None] = mapped_column(String(16))

    comune: Mapped[Comune] = relationship()
    household: Mapped[Household | None] = relationship(back_populates="members")
    isee_records: Mapped[list["IseeRecord"]] = relationship(
        back_populates="beneficiary",
        order_by="[IseeRecord.id.desc()]",
    )

    @property
    def initials(self) -> str:
        return f"{self.first_name[:1]}.{self.last_name[:1]}.".upper()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


ISEE_TYPES = ("ordinario", "sociosanitario", "minorenni", "corrente")


class IseeRecord(db.Model):
    """One ISEE certificate (DPCM 159/2013) from a DSU: its type, value, the DSU's protocol
    and date, and its expiry. Records are kept: a renewal adds one, it never overwrites."""

    __tablename__ = "isee_record"
    __table_args__ = (
        CheckConstraint("value_cents >= 0", name="value_not_negative"),
        CheckConstraint(
            "type IN ('ordinario', 'sociosanitario', 'minorenni', 'corrente')", name="type_known"
        ),
        Index("ix_isee_record_beneficiary_type", "beneficiary_id", "type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"))
    type: Mapped[str] = mapped_column(String(16))
    value_cents: Mapped[int]
    # INPS-ISEE-YYYY-NNNNNNNNN-NN; null only on records made from the `isee_cents` shortcut.
    dsu_protocol: Mapped[str | None] = mapped_column(String(32))
    dsu_date: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = created_at_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    beneficiary: Mapped[Beneficiary] = relationship(back_populates="isee_records")


@event.listens_for(Session, "before_flush")
def _isee_shortcut_records(session, _context, _instances) -> None:
    """`isee_cents` and `isee_valid_until` are a shortcut: setting them (on a new person or
    a changed one) records an `ordinario` ISEE record of that value, so that what the
    eligibility rules read is always a record. A record entered in full sets the shortcut
    itself, and marks the person so that no second record is made."""
    for person in list(session.new) + list(session.dirty):
        if not isinstance(person, Beneficiary) or person.isee_cents is None:
            continue
        if person.__dict__.pop("_isee_from_record", False):
            continue
        state = inspect(person)
        changed = state.pending or any(
            state.attrs[name].history.has_changes() for name in ("isee_cents", "isee_valid_until")
        )
        if changed:
            person.isee_records.append(
                IseeRecord(
                    type="ordinario",
                    value_cents=person.isee_cents,
                    valid_until=person.isee_valid_until,
                )
            )
