"""Bearer authentication for the API: session tokens and provider API keys."""

from functools import wraps
from typing import TypeVar

from flask import abort, g, request

from ..errors import NotFound, VoucherNotFound
from ..extensions import db
from ..models import Beneficiary, Provider, Voucher
from ..services import Actor, beneficiaries, reach
from ..services.providers import actor_for_api_key, authenticate_api_key
from ..services.users import actor_for, resolve_token

BEARER_SECURITY = [{"bearerAuth": []}]
Row = TypeVar("Row")


def load_actor() -> None:
    """Before every API request: who is calling, if anyone."""
    g.actor = None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 512:
        return
    token = token.strip()
    holder = authenticate_api_key(token)
    if holder is not None:
        g.actor = actor_for_api_key(holder)
        return
    user = resolve_token(token)
    if user is not None:
        g.actor = actor_for(user)


def current_actor() -> Actor:
    """Who is calling; None without a valid token (`requires` answers 401 first)."""
    return g.actor


def load_in_reach(
    model: type[Row], row_id: int, message: str, *, of_provider: int | None = None
) -> Row:
    """The row with this id, or a 404 with `message`: also when it belongs to another
    provider than `of_provider`, or lies outside the caller's reach (a provider sees only
    its own, and anything else is as if it did not exist)."""
    row = db.session.get(model, row_id)
    owner = None if row is None else row.id if isinstance(row, Provider) else row.provider_id
    if (
        row is None
        or (of_provider is not None and owner != of_provider)
        or not current_actor().sees_provider(owner)
    ):
        raise NotFound(message)
    return row


def beneficiary_in_reach(beneficiary_id: int) -> Beneficiary:
    """The beneficiary, or a 404 also when they are outside the social worker's Comuni (as
    if they did not exist: break-glass access is asked for on the pages only, and once
    granted it opens the record here too)."""
    person = beneficiaries.get_beneficiary(beneficiary_id)
    if not reach.sees_beneficiary(current_actor(), person):
        raise NotFound("Beneficiario non trovato.")
    return person


def voucher_in_reach(voucher: Voucher) -> Voucher:
    """The voucher, or `voucher_not_found` when it is charged to a Comune outside the social
    worker's (see beneficiary_in_reach)."""
    if not reach.sees_voucher(current_actor(), voucher):
        raise VoucherNotFound("Nessun buono con questo codice.")
    return voucher


def requires(permission: str):
    """401 without a valid token; 403 when the role may not do this."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            actor = getattr(g, "actor", None)
            if actor is None:
                abort(401, "Token mancante, scaduto o non valido.")
            if not actor.can(permission):
                abort(403, "Il tuo ruolo non consente questa operazione.")
            return view(*args, **kwargs)

        wrapper._requires = permission
        return wrapper

    return decorator
