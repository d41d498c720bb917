"""Redemptions: providers record services delivered (idempotently); everyone reads the
ledger within reach; staff reverse a wrong redemption, and a provider cancels its own on
the day it recorded it."""

from functools import wraps

from flask import g, request, url_for
from flask_smorest import Blueprint

from ..errors import NotFound, ValidationFailed
from ..hooks import every_request
from ..services import cancellation, ledger, redemption
from ..services.redemption import RedemptionRequest
from .fields import MAX_INT, problem_responses
from .problems import problem
from .schemas_redemptions import (
    LedgerEntrySchema,
    LedgerQuerySchema,
    RedemptionRequestSchema,
    RedemptionSchema,
    ReversalRequestSchema,
)
from .security import BEARER_SECURITY, current_actor, requires

blp = Blueprint("api_redemptions", __name__, description="Riscatti e storni")

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
_PAGE_FILTERS = ("voucher", "provider_id", "from", "to", "limit")  # carried to the next page
_IDEMPOTENCY_DOC = {
    "in": "header",
    "name": IDEMPOTENCY_HEADER,
    "required": True,
    "description": "Una chiave scelta dal fornitore (caratteri ASCII stampabili), unica per ogni "
    "prestazione: ripetere la richiesta con la stessa chiave restituisce la risposta originale "
    "senza riscattare due volte.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
}


@blp.after_request
@every_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def plain_idempotency_key(raw: str) -> bool:
    """A key the header check below takes as it is: no surrounding blanks to strip, not too
    long, printable ASCII."""
    return (
        raw == raw.strip()
        and 0 < len(raw) <= MAX_KEY_LENGTH
        and raw.isascii()
        and raw.isprintable()
    )


def idempotency_key_required(view):
    """The Idempotency-Key header, checked before the body: missing is 400, too long 422."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
        if not key:
            return problem(
                400,
                "idempotency_key_required",
                f"L'intestazione {IDEMPOTENCY_HEADER} è obbligatoria: una chiave unica per "
                "ogni prestazione, ripetuta identica solo per ritentare la stessa richiesta.",
            )
        if len(key) > MAX_KEY_LENGTH:
            raise ValidationFailed(
                errors={IDEMPOTENCY_HEADER: [f"Al massimo {MAX_KEY_LENGTH} caratteri."]}
            )
        if not (key.isascii() and key.isprintable()):
            raise ValidationFailed(
                errors={IDEMPOTENCY_HEADER: ["Solo caratteri ASCII stampabili."]}
            )
        g.idempotency_key = key
        return view(*args, **kwargs)

    return wrapper


@blp.route("/redemptions", methods=["POST"])
@requires("redemption.create")
@idempotency_key_required
# An instance, not the class: webargs would build a new schema for every request.
@blp.arguments(RedemptionRequestSchema())
@blp.response(201, RedemptionSchema)
@blp.doc(
    security=BEARER_SECURITY,
    parameters=[_IDEMPOTENCY_DOC],
    responses=problem_responses(
        {
            400: "`idempotency_key_required`; `invalid_signature` (`qr_payload` alterato o "
            "firmato da altri).",
            403: "`not_accredited` (non accreditato per il servizio alla data, o sospeso); "
            "`forbidden` per chi non è un fornitore.",
            404: "`voucher_not_found`.",
            409: "`insufficient_balance`, `voucher_expired`, `voucher_not_yet_valid`, "
            "`voucher_revoked`, `voucher_suspended`, `voucher_exhausted`.",
            422: "`validation_error` (anche una data futura o fuori validità), "
            "`service_not_in_scheme`, `over_redemption_limit`, `idempotency_conflict`.",
        }
    ),
)
def create_redemption(data):
    """Record a service delivered with a voucher (by code or by its signed QR payload).

    A retry with the same Idempotency-Key and body returns the original answer and changes
    nothing; the same key with a different body is 422 `idempotency_conflict`."""
    actor = current_actor()
    req = RedemptionRequest(
        voucher=data["voucher"],
        service_code=data["service_code"],
        service_date=data["service_date"],
        amount_cents=data.get("amount_cents"),
        quantity=data.get("quantity"),
        hours=data.get("hours"),
    )
    # A lost race on the key makes the request boundary run this view again: the retry
    # then finds the winner's entry and replays it.
    entry, replayed = redemption.redeem(actor, actor.provider_id, req, g.idempotency_key)
    return entry, 201, {"Idempotent-Replayed": "true" if replayed else "false"}


@blp.route("/redemptions")
@requires("redemption.read")
@blp.arguments(LedgerQuerySchema, location="query")
@blp.response(200, LedgerEntrySchema(many=True))
@blp.doc(security=BEARER_SECURITY)
def list_redemptions(query):
    """Ledger entries (redemptions and reversals) by voucher, provider and service dates.

    A provider sees only its own. At most `limit` entries, by id; when a page is full, the
    `Link` header (rel="next") names the next one."""
    actor = current_actor()
    provider_id = query.get("provider_id")
    if provider_id is not None and not actor.sees_provider(provider_id):
        return []
    if actor.is_provider:  # without a filter, a provider's list holds only its own
        provider_id = actor.provider_id
    entries = ledger.list_ledger(
        ledger.LedgerFilter(
            voucher_code=query.get("voucher"),
            provider_id=provider_id,
            date_from=query.get("date_from"),
            date_to=query.get("date_to"),
        ),
        after_id=query.get("after_id"),
        limit=query["limit"],
    )
    headers = {}
    if len(entries) == query["limit"]:
        args = {k: v for k, v in request.args.items() if k in _PAGE_FILTERS}
        following = url_for("api_redemptions.list_redemptions", **args, after_id=entries[-1].id)
        headers["Link"] = f'<{following}>; rel="next"'
    return entries, 200, headers


@blp.route("/redemptions/<int:entry_id>/reversal", methods=["POST"])
@requires("redemption.correct")
@blp.arguments(ReversalRequestSchema)
@blp.response(201, LedgerEntrySchema)
@blp.doc(
    security=BEARER_SECURITY,
    responses=problem_responses(
        {
            403: "`forbidden`: un fornitore annulla una propria prestazione solo il giorno in "
            "cui l'ha registrata (ora di Roma); dal giorno dopo la storna l'ente.",
            404: "`not_found`: nessun riscatto con questo id (per un fornitore: nessun suo "
            "riscatto).",
            409: "`already_reversed`; `period_closed` (per un fornitore: il mese della "
            "prestazione ha un rendiconto già approvato).",
            422: "`validation_error` (anche lo storno di uno storno).",
        }
    ),
)
def reverse_redemption(data, entry_id):
    """Compensate a wrong redemption: a negated ledger entry, the balance restored.

    Staff reverse any redemption. A provider cancels one of its own on the day it recorded
    it, unless its month is on an approved statement; the audit trail names it a provider's
    cancellation."""
    if entry_id > MAX_INT:
        raise NotFound("Riscatto non trovato.")
    actor = current_actor()
    if actor.is_provider:
        return cancellation.cancel_own_redemption(actor, entry_id, data["reason"])
    return redemption.reverse_redemption(actor, entry_id, data["reason"])
