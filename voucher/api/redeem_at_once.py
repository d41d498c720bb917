"""POST /api/v1/redemptions at the cost of its SQL: the accepted case of a plain request
answered from one statement, without the schema machinery, the session or a transaction
of the ORM.

The view documented in voucher.api.redemptions stays the authority. This one stands in
front of it and takes only what it can answer exactly as that view would: a caller whose
role may redeem, a valid Idempotency-Key, a JSON body in the plainest form the schema
accepts (voucher, service_code, service_date, amount_cents), and a redemption the rules
accept. Everything else (a refusal, a replay, an error to explain, a quantity) goes to the
documented view, inside the request boundary's transaction, as if this one were not there.
tests/api/test_redeem_at_once.py checks that both answer alike.

In production (REDEEM_IN_AUTOCOMMIT) the statement runs in autocommit: it is its own
transaction, one round trip to PostgreSQL. The tests run it in the session's transaction.
"""

import json
import re
from datetime import UTC, date
from functools import wraps

from flask import current_app, g, request
from sqlalchemy.exc import DBAPIError

from ..db import autocommit_engine, run_in_transaction
from ..extensions import db
from ..services import audit, redemption
from ..services.redemption import RedemptionRequest
from .fields import MAX_INT
from .redemptions import IDEMPOTENCY_HEADER, plain_idempotency_key

_FIELDS = frozenset({"voucher", "service_code", "service_date", "amount_cents"})
# Stricter than the schema (so that whatever passes here, the schema accepts as it is):
# printable ASCII for a code or a signed QR payload, letters and digits for a service.
_VOUCHER = re.compile(r"[\x21-\x7e]{1,2000}")
_SERVICE = re.compile(r"[A-Za-z0-9]{1,8}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def plain_request(body: bytes) -> RedemptionRequest | None:
    """The request in a body of the plainest accepted form, or None."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if type(data) is not dict or not data.keys() <= _FIELDS or len(data) != len(_FIELDS):
        return None
    voucher, service, day, amount = (
        data["voucher"],
        data["service_code"],
        data["service_date"],
        data["amount_cents"],
    )
    if not (
        type(voucher) is str
        and _VOUCHER.fullmatch(voucher)
        and type(service) is str
        and _SERVICE.fullmatch(service)
        and type(day) is str
        and _DATE.fullmatch(day)
        and type(amount) is int
        and 1 <= amount <= MAX_INT
    ):
        return None
    try:
        service_date = date.fromisoformat(day)
    except ValueError:
        return None
    return RedemptionRequest(voucher, service, service_date, amount_cents=amount)


def as_json(entry) -> dict:
    """voucher.api.schemas_redemptions.RedemptionSchema's answer for a redemption in
    euros (no quantity)."""
    created = entry.created_at
    created = created.replace(tzinfo=UTC) if created.tzinfo is None else created.astimezone(UTC)
    return {
        "id": entry.id,
        "voucher_code": entry.voucher_code,
        "service_code": entry.service_code,
        "service_date": entry.service_date.isoformat(),
        "quantity": None,
        "hours": None,
        "amount_cents": entry.amount_cents,
        "public_cents": entry.public_cents,
        "copay_cents": entry.copay_cents,
        "balance_cents": entry.balance_after_cents,
        "provider_id": entry.provider_id,
        "created_at": created.isoformat(),
    }


def _recorded(actor, req: RedemptionRequest, key: str):
    """The redemption recorded at once, or None."""
    if current_app.config.get("REDEEM_IN_AUTOCOMMIT", True):
        try:
            with autocommit_engine().connect() as connection:
                return redemption.redeem_at_once(connection, actor, actor.provider_id, req, key)
        except DBAPIError:  # a lost race on the key, say: the documented view answers
            return None

    def work():
        entry = redemption.redeem_at_once(
            db.session.connection(), actor, actor.provider_id, req, key
        )
        if entry is not None:
            audit.wrote_event()
        return entry

    return run_in_transaction(work)


def in_front_of(documented):
    """The view of POST /redemptions: the accepted case at once, everything else by the
    documented view, in the request boundary's transaction."""

    @wraps(documented)
    def view(**kwargs):
        actor = getattr(g, "actor", None)
        key = request.headers.get(IDEMPOTENCY_HEADER, "")
        req = None
        if (
            actor is not None
            and actor.provider_id is not None
            and actor.can("redemption.create")
            and plain_idempotency_key(key)
            and request.mimetype == "application/json"
        ):
            req = plain_request(request.get_data(cache=True))
        entry = None if req is None else _recorded(actor, req, key)
        if entry is None:
            return current_app.dispatch_in_transaction(lambda: documented(**kwargs))
        response = current_app.json.response(as_json(entry))
        response.status_code = 201
        response.headers["Idempotent-Replayed"] = "false"
        return response

    view.own_transaction = True  # the request boundary leaves the transaction to it
    view.lean = True  # and runs only the hooks marked every_request
    return view
