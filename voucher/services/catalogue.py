"""Reference data shipped with the package (from the FSC rules, the funds and INPS)."""

import csv
from importlib import resources

from sqlalchemy import select

from ..extensions import db
from ..models import Fund, Service
from . import audit

# Funds whose rules require a CUP (Codice Unico di Progetto) on every scheme.
CUP_REQUIRED = {"PNRR", "PON_INCLUSIONE", "REACT_EU"}


def read_reference(name: str) -> list[dict]:
    """Rows of one of the CSV files in voucher/data."""
    text = resources.files("voucher.data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def reference_rows() -> dict[str, list[dict]]:
    """The rows to load into the siuss_prestazione, fund and service tables."""
    siuss = [
        {"code": r["code"], "name_it": r["name_it"]}
        for r in read_reference("siuss_prestazioni.csv")
    ]
    funds = [
        {
            "code": r["code"],
            "name_it": r["name_it"],
            "name_en": r["name_en"],
            "note": r["note"] or None,
            "cup_required": r["code"] in CUP_REQUIRED,
        }
        for r in read_reference("funds.csv")
    ]
    services = [
        {
            "code": r["code"],
            "area": r["area"],
            "fund_hint": r["fund_hint"] or None,
            "name_it": r["name_it"],
            "name_en": r["name_en"],
            "default_unit": r["default_unit"],
            "siuss_code": r["siuss_code"] or None,
        }
        for r in read_reference("services.csv")
    ]
    return {"siuss_prestazione": siuss, "fund": funds, "service": services}


def list_services() -> list[Service]:
    """Every service of the catalogue, by code."""
    return list(db.session.execute(select(Service).order_by(Service.code)).scalars())


def list_funds() -> list[Fund]:
    """Every fund, by code."""
    return list(db.session.execute(select(Fund).order_by(Fund.code)).scalars())


def set_siuss_code(service: Service, siuss_code: str | None, actor) -> None:
    """The SIUSS mapping is the ente's own choice."""
    old = service.siuss_code
    service.siuss_code = siuss_code
    db.session.flush()
    audit.record(actor, "service.siuss_mapped", "service", service.code, old=old, new=siuss_code)
