"""The main navigation: each role's areas, as links in the header and cards on the home page."""

from dataclasses import dataclass

from flask import request, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.routing import BuildError

from .security import current_actor


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
        "beneficiary.manage",
        "social.beneficiary_imports",
        _l("Importa beneficiari"),
        _l("Registra molte persone da un file CSV"),
        "social.beneficiary_import",
    ),
    NavItem(
        "beneficiary.manage",
        "social.isee_expiring",
        _l("ISEE in scadenza"),
        _l("Le persone il cui ISEE scade questo mese o il prossimo"),
        "social.isee_expiring",
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
        "statement.pay",
        "reports.finance",
        _l("Pagamenti ai fornitori"),
        _l("Rendiconti approvati da pagare, pagamenti bloccati e DURC in scadenza"),
        "reports.finance",
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
                "section": item.section,
            }
        )
    # One current item: the one whose section matches the page most closely.
    matching = [i for i in items if i["section"] and endpoint.startswith(i["section"])]
    current = max(matching, key=lambda i: len(i["section"]), default=None)
    for item in items:
        item["current"] = item is current
        del item["section"]
    return items
