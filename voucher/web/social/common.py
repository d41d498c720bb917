"""Helpers shared by the social workers' pages."""

import secrets

from flask import g, make_response, render_template, session

_TOKENS = "social.once"
_MAX_TOKENS = 20


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
