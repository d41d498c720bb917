"""The ente (a Comune or an Ambito Territoriale Sociale) and the Comuni it serves."""

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


class Ente(db.Model):
    __tablename__ = "ente"
    __table_args__ = (
        CheckConstraint(
            "retention_personal_years IS NULL OR retention_personal_years BETWEEN 1 AND 10",
            name="retention_personal_years_range",
        ),
        # Art. 2220 c.c.: accounting records are kept ten years; an ente may keep them longer.
        CheckConstraint(
            "retention_accounting_years IS NULL OR retention_accounting_years BETWEEN 10 AND 100",
            name="retention_accounting_years_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    fiscal_code: Mapped[str] = mapped_column(String(11))
    belfiore_code: Mapped[str | None] = mapped_column(String(4))
    # The ente code INPS assigned for SIUSS: no flow is generated until it is set.
    siuss_code: Mapped[str | None] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(300))
    # The privacy notice (GDPR art. 13(1)(a)-(b)): the controller's PEC and the DPO's contacts.
    pec: Mapped[str | None] = mapped_column(String(254))
    dpo_name: Mapped[str | None] = mapped_column(String(200))
    dpo_email: Mapped[str | None] = mapped_column(String(254))
    dpo_pec: Mapped[str | None] = mapped_column(String(254))
    # The social-services office families are told to call (the letter, /saldo's messages).
    office_phone: Mapped[str | None] = mapped_column(String(40))
    office_email: Mapped[str | None] = mapped_column(String(254))
    office_address: Mapped[str | None] = mapped_column(String(300))
    office_hours: Mapped[str | None] = mapped_column(String(300))
    # Retention in years, overriding the configuration's defaults when set
    # (voucher.services.retention).
    retention_personal_years: Mapped[int | None]
    retention_accounting_years: Mapped[int | None]
    comuni: Mapped[list["Comune"]] = relationship(
        back_populates="ente", order_by="Comune.name", cascade="save-update, merge"
    )


class Comune(db.Model):
    """An Italian Comune the records name: one the ente serves (`ente_id` set), or one
    where a beneficiary lives outside the ente (`ente_id` null), taken from ISTAT's list."""

    __tablename__ = "comune"

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int | None] = mapped_column(ForeignKey("ente.id"), index=True)
    istat_code: Mapped[str] = mapped_column(String(6), unique=True)
    belfiore_code: Mapped[str] = mapped_column(String(4), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    ente: Mapped[Ente | None] = relationship(back_populates="comuni")
