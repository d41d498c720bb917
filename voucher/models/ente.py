"""The ente (a Comune or an Ambito Territoriale Sociale) and the Comuni it serves."""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


class Ente(db.Model):
    __tablename__ = "ente"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    fiscal_code: Mapped[str] = mapped_column(String(11))
    belfiore_code: Mapped[str | None] = mapped_column(String(4))
    # The ente code INPS assigned for SIUSS: no flow is generated until it is set.
    siuss_code: Mapped[str | None] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(300))
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
