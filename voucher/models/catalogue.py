"""Reference data: the service catalogue, the funds and the INPS SIUSS prestazioni."""

from sqlalchemy import ForeignKey, String, true
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

AREAS = ("A", "B", "C", "P")
UNITS = ("EUR", "HOUR", "MEAL", "TRIP", "ACCESS")


class Service(db.Model):
    __tablename__ = "service"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    area: Mapped[str] = mapped_column(String(1))
    fund_hint: Mapped[str | None] = mapped_column(String(32))
    name_it: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    default_unit: Mapped[str] = mapped_column(String(8))
    # The mapping to SIUSS is the ente's own choice: the catalogue's default is editable.
    siuss_code: Mapped[str | None] = mapped_column(ForeignKey("siuss_prestazione.code"))
    # A service a family spends a voucher on. Traineeships (P1) and social emergency response
    # (P6) are the ente's own services, not bought with vouchers: no scheme may offer them.
    voucherable: Mapped[bool] = mapped_column(default=True, server_default=true())


class Fund(db.Model):
    __tablename__ = "fund"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_it: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(String(500))
    cup_required: Mapped[bool] = mapped_column(default=False)


class SiussPrestazione(db.Model):
    __tablename__ = "siuss_prestazione"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name_it: Mapped[str] = mapped_column(String(300))
