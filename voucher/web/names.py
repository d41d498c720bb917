"""The catalogue's names of services and funds, by code, in the reader's language: for the
pages that show a report's rows, which carry the code and the official Italian name (the
exports are Italian documents) while an English reader reads the catalogue's English name."""

from flask import g
from flask_babel import get_locale
from sqlalchemy import select

from ..extensions import db
from ..models import Fund, Service


def _names(model) -> dict[str, str]:
    """Code -> name in the reader's language, read once per request."""
    cache = g.setdefault("catalogue_names", {})
    lang = str(get_locale() or "it")
    key = (model.__name__, lang)
    if key not in cache:
        column = getattr(model, f"name_{lang}", model.name_it)
        cache[key] = dict(db.session.execute(select(model.code, column)).all())
    return cache[key]


def service_name(code: str | None, default: str = "") -> str:
    """Jinja filter `service_label`: the catalogue's name of the service `code`."""
    return _names(Service).get(code) or default


def fund_name(code: str | None, default: str = "") -> str:
    """Jinja filter `fund_label`: the catalogue's name of the fund `code`."""
    return _names(Fund).get(code) or default
