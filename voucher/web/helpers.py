"""Shared view helpers: the template context, Jinja filters, and domain errors on forms."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.routing import BuildError

from ..extensions import db
from ..services.ente import get_ente
from ..services.money import format_euro
from .security import current_actor

ROME = ZoneInfo("Europe/Rome")
SERVICE_NAME = _l("Buoni servizio sociali")

ROLE_LABELS = {
    "admin": _l("Amministratore dell'ente"),
    "social_worker": _l("Assistente sociale"),
    "provider": _l("Operatore del fornitore"),
    "auditor": _l("Revisore / ufficio finanziario"),
}

CATEGORY_LABELS = {
    "elderly_self_sufficient": _l("Anziano autosufficiente"),
    "elderly_dependent": _l("Anziano non autosufficiente"),
    "minor": _l("Minore"),
    "fragile_parenting": _l("Genitorialità fragile"),
    "disabled": _l("Persona con disabilità"),
    "inclusion_household": _l("Nucleo in percorso di inclusione"),
}

UNIT_LABELS = {
    "EUR": _l("Euro (importo della prestazione)"),
    "HOUR": _l("Ore"),
    "MEAL": _l("Pasti"),
    "TRIP": _l("Trasporti"),
    "ACCESS": _l("Accessi"),
}

AREA_LABELS = {
    "A": _l("Area A — Anziani a domicilio"),
    "B": _l("Area B — Minori e genitorialità fragile"),
    "C": _l("Area C — Persone con disabilità"),
    "P": _l("Fondo Povertà — Servizi per l'inclusione"),
}

# (label, Bootstrap colour) for each status: the text carries the meaning, not the colour.
SCHEME_STATUS_LABELS = {
    "draft": (_l("Bozza"), "secondary"),
    "active": (_l("Attiva"), "success"),
    "closed": (_l("Chiusa"), "dark"),
}
PROVIDER_STATUS_LABELS = {
    "active": (_l("Attivo"), "success"),
    "suspended": (_l("Sospeso"), "danger"),
}


@dataclass(frozen=True)
class NavItem:
    """A link of the main navigation, shown to the roles that hold `permission`."""

    permission: str
    endpoint: str
    label: object  # a lazy string, resolved in the reader's language
    description: object = ""
    # Any page whose endpoint starts with this prefix marks the item as current.
    section: str = ""


# The areas of each role. An item whose endpoint is not (yet) registered is left out.
NAV: tuple[NavItem, ...] = (
    NavItem(
        "ente.manage",
        "admin.ente",
        _l("Ente e Comuni"),
        _l("Dati dell'ente e Comuni serviti"),
        "admin.ente",
    ),
    NavItem(
        "scheme.manage",
        "admin.schemes",
        _l("Misure"),
        _l("Misure, budget e regole"),
        "admin.scheme",
    ),
    NavItem(
        "provider.manage",
        "admin.providers",
        _l("Fornitori"),
        _l("Fornitori, accreditamenti e chiavi API"),
        "admin.provider",
    ),
    NavItem(
        "user.manage",
        "admin.users",
        _l("Utenti"),
        _l("Utenti e ruoli"),
        "admin.user",
    ),
    NavItem(
        "beneficiary.manage",
        "social.beneficiaries",
        _l("Beneficiari"),
        _l("Cerca e registra i beneficiari"),
        "social.beneficiar",
    ),
    NavItem(
        "voucher.issue",
        "social.vouchers",
        _l("Buoni"),
        _l("Emetti, stampa, revoca e sostituisci i buoni"),
        "social.voucher",
    ),
    NavItem(
        "redemption.create",
        "provider.scan",
        _l("Registra una prestazione"),
        _l("Leggi il QR code o digita il codice del buono"),
        "provider.scan",
    ),
    NavItem(
        "redemption.create",
        "provider.redemptions",
        _l("Prestazioni registrate"),
        _l("Storico delle prestazioni e rendiconti mensili"),
        "provider.redemption",
    ),
    NavItem(
        "redemption.create",
        "reports.my_statements",
        _l("Rendiconti mensili"),
        _l("I rendiconti mensili del fornitore, il loro stato e il pagamento"),
        "reports.",
    ),
    NavItem(
        "report.read",
        "reports.index",
        _l("Rendiconti"),
        _l("Rendiconti dei fondi, FSC, SIUSS e registro delle operazioni"),
        "reports.",
    ),
)


def _url(endpoint: str) -> str | None:
    try:
        return url_for(endpoint)
    except BuildError:
        return None


def nav_items() -> list[dict]:
    """The navigation of the signed-in person's role: label, url, description, current."""
    actor = current_actor()
    if actor is None:
        return []
    items = []
    endpoint = request.endpoint or ""
    for item in NAV:
        if not actor.can(item.permission):
            continue
        url = _url(item.endpoint)
        if url is None:
            continue
        items.append(
            {
                "label": item.label,
                "url": url,
                "description": item.description,
                "current": bool(item.section) and endpoint.startswith(item.section),
            }
        )
    return items


def current_ente():
    """The ente (None until it is set up, or while the database cannot be read: the error
    pages must still render)."""
    try:
        return get_ente()
    except SQLAlchemyError:
        db.session.rollback()
        return None


def template_context() -> dict:
    """What every template may use: ente, actor, nav, role label, locale, service name,
    and the labels of the domain's codes (categories, units, areas, roles, statuses)."""
    actor = current_actor()
    return {
        "ente": current_ente(),
        "actor": actor,
        "nav": nav_items(),
        "role_label": ROLE_LABELS.get(actor.role, "") if actor else "",
        "current_locale": str(get_locale() or "it"),
        "service_name": SERVICE_NAME,
        "category_labels": CATEGORY_LABELS,
        "unit_labels": UNIT_LABELS,
        "area_labels": AREA_LABELS,
        "role_labels": ROLE_LABELS,
        "scheme_status_labels": SCHEME_STATUS_LABELS,
        "provider_status_labels": PROVIDER_STATUS_LABELS,
    }


def localized_name(obj) -> str:
    """Jinja filter: a catalogue row's name (service, fund) in the reader's language."""
    if obj is None:
        return ""
    lang = str(get_locale() or "it")
    return getattr(obj, f"name_{lang}", None) or obj.name_it


def euro(cents: int | None) -> str:
    """Jinja filter: integer cents as Italian euro (1.234,56 €); a dash when missing."""
    return "—" if cents is None else format_euro(int(cents))


def euro_input(cents: int | None) -> str:
    """Integer cents as typed in a form (1.234,56, no currency sign)."""
    return "" if cents is None else format_euro(int(cents)).removesuffix(" €")


def date_it(value: date | datetime | None) -> str:
    """Jinja filter: dd/mm/yyyy (datetimes in Italian local time)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = _local(value)
    return value.strftime("%d/%m/%Y")


def datetime_it(value: datetime | None) -> str:
    """Jinja filter: dd/mm/yyyy hh:mm in Italian local time."""
    if value is None:
        return "—"
    return _local(value).strftime("%d/%m/%Y %H:%M")


def _local(value: datetime) -> datetime:
    # Naive timestamps come from SQLite, which stores them in UTC.
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(ROME)


FILTERS = {
    "euro": euro,
    "money": euro,
    "euro_input": euro_input,
    "date_it": date_it,
    "datetime_it": datetime_it,
    "localized_name": localized_name,
}


def option_groups(field) -> list[tuple[str | None, list]]:
    """A choice field's options (the subfields it yields) in their optgroups, in order."""
    options = list(field)
    if not field.has_groups():
        return [(None, options)]
    by_value = {str(o.data): o for o in options}
    return [
        (label, [by_value[str(c.value)] for c in choices if str(c.value) in by_value])
        for label, choices in field.iter_groups()
    ]


GLOBALS = {"option_groups": option_groups}
