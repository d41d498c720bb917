"""Vouchers: issue, read (one view per audience), print, revoke, replace, suspend, reset the
PIN; the public keys that verify QR codes and the list of revoked codes for offline scanners."""

from flask import Response, jsonify
from flask_smorest import Blueprint

from ..documents.signing import keyring
from ..errors import NotFound, ValidationFailed
from ..services import (
    beneficiaries,
    clock,
    competence,
    issuance,
    provider_access,
    providers,
    reach,
    read_audit,
    schemes,
    vouchers,
)
from ..services.redemption import resolve_voucher_code
from .fields import problem_responses
from .schemas_vouchers import (
    IssuedVoucherSchema,
    IssueVoucherSchema,
    JwksSchema,
    ProviderVoucherSchema,
    RevocationsQuerySchema,
    RevocationsSchema,
    TransferVoucherSchema,
    VoucherNoteSchema,
    VoucherPinSchema,
    VoucherReasonSchema,
    VoucherSchema,
)
from .security import BEARER_SECURITY, current_actor, requires, voucher_in_reach

blp = Blueprint("api_vouchers", __name__, description="Buoni servizio")

# Staff and providers read the same URL; each gets its own schema.
_VOUCHER_BY_AUDIENCE = {
    "200": {
        "description": "Il buono: completo per il personale dell'ente, ridotto per i fornitori.",
        "content": {
            "application/json": {"schema": {"oneOf": [VoucherSchema, ProviderVoucherSchema]}}
        },
    }
}
_NOT_FOUND = {
    404: "`voucher_not_found`: anche un buono a carico di un Comune non assegnato "
    "all'assistente sociale (l'accesso straordinario si chiede solo dalle pagine)."
}
_NOT_FOR_YOU = {
    403: "`not_accredited`: un fornitore non accreditato per nessuno dei servizi del buono "
    "(o sospeso) non ne vede nulla."
}
_STATE_CONFLICT = {409: "`conflict`: il buono non è in uno stato che lo consente."}


@blp.after_request
def _no_store(response):
    # PINs, balances and personal data: never kept by a browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
    return response


def find_voucher(ref: str):
    """A voucher by its code (case and dashes do not matter) or by its signed QR payload;
    one charged to a Comune outside the social worker's is not found."""
    voucher = vouchers.get_voucher(resolve_voucher_code(ref) if ref.count(".") == 2 else ref)
    return voucher_in_reach(voucher)


def _referenced(getter, identifier: int, field: str, message: str):
    try:
        return getter(identifier)
    except NotFound:
        raise ValidationFailed(errors={field: [message]}) from None


@blp.route("/vouchers", methods=["POST"])
@requires("voucher.issue")
@blp.arguments(IssueVoucherSchema)
@blp.response(201, IssuedVoucherSchema)
@blp.doc(
    security=BEARER_SECURITY,
    responses=problem_responses(
        {
            409: "`not_eligible` (il `detail` nomina la regola), `budget_exceeded`, "
            "`limit_reached`, `scheme_not_active`."
        }
    ),
)
def issue_voucher(data):
    """Issue a voucher of the scheme to the beneficiary; the PIN is shown only here.

    An unknown scheme or beneficiary is a 422 naming the field."""
    scheme = _referenced(schemes.get_scheme, data["scheme_id"], "scheme_id", "Misura sconosciuta.")
    person = _referenced(
        beneficiaries.get_beneficiary,
        data["beneficiary_id"],
        "beneficiary_id",
        "Beneficiario sconosciuto.",
    )
    if not reach.sees_beneficiary(current_actor(), person):  # outside the social worker's
        raise ValidationFailed(errors={"beneficiary_id": ["Beneficiario sconosciuto."]})
    voucher, pin = issuance.issue_voucher(
        current_actor(), scheme, person, comune_istat=data["comune_istat"]
    )
    return _WithPin(voucher, pin)


class _WithPin:
    """A voucher just made, with the PIN that is shown this once."""

    def __init__(self, voucher, pin: str):
        self._voucher, self.pin = voucher, pin

    def __getattr__(self, name):
        return getattr(self._voucher, name)


@blp.route("/vouchers/<code>")
@requires("voucher.read")
@blp.response(200, VoucherSchema)
@blp.doc(
    security=BEARER_SECURITY,
    responses={**_VOUCHER_BY_AUDIENCE, **problem_responses({**_NOT_FOUND, **_NOT_FOR_YOU})},
)
def get_voucher(code):
    """A voucher by code or QR payload. Providers see only what they need at the door, and a
    provider that may record none of its services sees nothing of it (403 not_accredited)."""
    voucher = find_voucher(code)
    if current_actor().is_provider:
        provider = providers.get_provider(current_actor().provider_id)
        provider_access.check_may_read(provider, voucher, clock.today())
        return jsonify(ProviderVoucherSchema().dump(voucher))
    read_audit.record_read(current_actor(), voucher)
    return voucher


@blp.route("/vouchers/<code>/pdf")
@requires("voucher.print")
@blp.doc(
    security=BEARER_SECURITY,
    responses={
        "200": {
            "description": "La lettera del buono, in PDF.",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        },
        **problem_responses(
            {403: "`forbidden`: solo il personale dei servizi stampa i buoni.", **_NOT_FOUND}
        ),
    },
)
def voucher_pdf(code):
    """The printable voucher letter; its QR code encodes exactly `qr_payload`. Staff only."""
    voucher = find_voucher(code)
    read_audit.record_read(
        current_actor(), voucher, read_audit.LETTER, action="voucher.letter_read"
    )
    # Imported here so that reportlab loads only when a letter is printed.
    from ..documents.letter import letters_pdf
    from ..services.letters import letter_for

    pdf = letters_pdf([letter_for(voucher)])
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="buono-{voucher.code}.pdf"'},
    )


@blp.route("/vouchers/<code>/revoke", methods=["POST"])
@requires("voucher.manage")
@blp.arguments(VoucherReasonSchema)
@blp.response(200, VoucherSchema)
@blp.doc(security=BEARER_SECURITY, responses=problem_responses({**_NOT_FOUND, **_STATE_CONFLICT}))
def revoke_voucher(data, code):
    """Revoke a voucher; its unspent balance returns to the scheme's budget."""
    voucher = vouchers.revoke_voucher(current_actor(), find_voucher(code), data["reason"])
    return voucher


@blp.route("/vouchers/<code>/transfer", methods=["POST"])
@requires("voucher.manage")
@blp.arguments(TransferVoucherSchema)
@blp.response(200, VoucherSchema)
@blp.doc(
    security=BEARER_SECURITY,
    responses=problem_responses(
        {
            **_NOT_FOUND,
            409: "`period_closed`: dalla data indicata ci sono prestazioni in un rendiconto "
            "approvato o in un mese già trasmesso al SIUSS.",
        }
    ),
)
def transfer_voucher(data, code):
    """Move the voucher to another of the ente's Comuni: redemptions with a service date
    from `from_date` on count for it, those already recorded included."""
    return competence.transfer(
        current_actor(),
        find_voucher(code),
        data["comune_istat"],
        data["from_date"],
        data["reason"],
    )


@blp.route("/vouchers/<code>/replace", methods=["POST"])
@requires("voucher.manage")
@blp.arguments(VoucherReasonSchema)
@blp.response(201, IssuedVoucherSchema)
@blp.doc(security=BEARER_SECURITY, responses=problem_responses({**_NOT_FOUND, **_STATE_CONFLICT}))
def replace_voucher(data, code):
    """Replace a lost voucher: the old code is revoked and a new one carries its balance."""
    new, pin = vouchers.replace_voucher(current_actor(), find_voucher(code), data["reason"])
    return _WithPin(new, pin)


@blp.route("/vouchers/<code>/reset-pin", methods=["POST"])
@requires("voucher.manage")
@blp.arguments(VoucherNoteSchema, required=False)
@blp.response(200, VoucherPinSchema)
@blp.doc(security=BEARER_SECURITY, responses=problem_responses(_NOT_FOUND))
def reset_pin(data, code):
    """A new PIN for the beneficiary (the old one stops working); also lifts a lockout."""
    voucher = find_voucher(code)
    pin = vouchers.reset_pin(current_actor(), voucher, data.get("reason"))
    return {"code": voucher.code, "pin": pin}


@blp.route("/vouchers/<code>/suspend", methods=["POST"])
@requires("voucher.manage")
@blp.arguments(VoucherNoteSchema)
@blp.response(200, VoucherSchema)
@blp.doc(security=BEARER_SECURITY, responses=problem_responses({**_NOT_FOUND, **_STATE_CONFLICT}))
def suspend_voucher(data, code):
    """Suspend an active voucher: providers cannot redeem it until it is reactivated."""
    voucher = vouchers.suspend_voucher(current_actor(), find_voucher(code), data["reason"])
    return voucher


@blp.route("/vouchers/<code>/reactivate", methods=["POST"])
@requires("voucher.manage")
@blp.arguments(VoucherNoteSchema, required=False)
@blp.response(200, VoucherSchema)
@blp.doc(security=BEARER_SECURITY, responses=problem_responses({**_NOT_FOUND, **_STATE_CONFLICT}))
def reactivate_voucher(data, code):
    """Lift a suspension."""
    voucher = vouchers.reactivate_voucher(current_actor(), find_voucher(code), data.get("reason"))
    return voucher


@blp.route("/public-keys")
@blp.response(200, JwksSchema)
def public_keys():
    """The Ed25519 public keys (JWK) that verify every voucher's `qr_payload`. No sign-in."""
    return keyring().jwks()


@blp.route("/revocations")
@requires("revocation.read")
@blp.arguments(RevocationsQuerySchema, location="query")
@blp.response(200, RevocationsSchema)
@blp.doc(security=BEARER_SECURITY)
def list_revocations(query):
    """Codes revoked at or after `since` (ISO 8601), for scanners that work offline."""
    rows = vouchers.list_revocations(query.get("since"))
    return {"revoked": [{"code": code, "revoked_at": at} for code, at in rows]}
