"""Helpers shared by the social workers' pages."""

import secrets

from flask import abort, g, make_response, render_template, session
from flask_babel import lazy_gettext as _l

from ...errors import NotFound
from ...services.letters import value_text

_TOKENS = "social.once"
_MAX_TOKENS = 20

STATUS_LABELS = {
    "active": (_l("Attivo"), "success"),
    "exhausted": (_l("Esaurito"), "secondary"),
    "expired": (_l("Scaduto"), "secondary"),
    "revoked": (_l("Revocato"), "danger"),
    "suspended": (_l("Sospeso"), "warning"),
}

BATCH_STATUS_LABELS = {
    "draft": (_l("Da confermare"), "secondary"),
    "queued": (_l("In coda"), "info"),
    "running": (_l("In elaborazione"), "primary"),
    "done": (_l("Completato"), "success"),
    "failed": (_l("Interrotto da un errore"), "danger"),
}

SEX_LABELS = {"F": _l("Femmina"), "M": _l("Maschio")}

AUDIT_LABELS = {
    "voucher.issued": _l("Emissione"),
    "voucher.replaced": _l("Emissione in sostituzione"),
    "voucher.revoked": _l("Revoca"),
    "voucher.suspended": _l("Sospensione"),
    "voucher.reactivated": _l("Riattivazione"),
    "voucher.pin_reset": _l("Nuovo PIN"),
    "voucher.pin_locked": _l("Blocco per PIN errati"),
    "voucher.redeemed": _l("Prestazione registrata"),
    "voucher.redemption_reversed": _l("Storno di una prestazione"),
    "voucher.expired": _l("Scadenza"),
}


def one_time_token() -> str:
    """A token for a form that must be sent once only (issuing, a new PIN): a second send,
    a reload or a double click finds it used."""
    token = secrets.token_urlsafe(16)
    tokens = [*session.get(_TOKENS, []), token][-_MAX_TOKENS:]
    session[_TOKENS] = tokens
    return token


def use_token(token: str | None) -> bool:
    tokens = list(session.get(_TOKENS, []))
    if not token or token not in tokens:
        return False
    tokens.remove(token)
    session[_TOKENS] = tokens
    return True


def or_404(load, *args):
    """Call a service lookup; its NotFound becomes the 404 page."""
    try:
        return load(*args)
    except NotFound:
        abort(404)


def units_text(cents: int, scheme) -> str:
    """Euro, and units for unit schemes: "12,5 ore (250,00 €)"."""
    return value_text(cents, scheme.unit, scheme.unit_price_cents)


def no_store(response):
    """Pages that show a PIN: never cached, never shown again from history."""
    g.no_store = True
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def render_pin_page(voucher, pin: str, heading, *, replaced=None):
    """The one response that shows a PIN."""
    from .forms import PinLetterForm

    html = render_template(
        "social/pin.html",
        voucher=voucher,
        pin=pin,
        heading=heading,
        replaced=replaced,
        letter_form=PinLetterForm(pin=pin),
    )
    return no_store(make_response(html))


def pdf_response(data: bytes, filename: str):
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return no_store(response)
