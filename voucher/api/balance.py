"""Beneficiary self-service: balance, history and providers of a voucher, with its code and
PIN and no account."""

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..balance_limits import api_limit
from ..extensions import limiter
from ..services import selfservice, units
from .fields import Quantity, Text, problem_responses
from .schemas_vouchers import ServiceRefSchema

blp = Blueprint("api_balance", __name__, description="Saldo del buono per il beneficiario")


@blp.after_request
def _no_store(response):
    # The answer is for one person: never kept by a browser or a shared proxy.
    response.headers["Cache-Control"] = "no-store"
    return response


class BalanceRequestSchema(Schema):
    code = Text(100, min_length=1, trim=False, required=True)
    pin = Text(64, min_length=1, trim=False, required=True)


class BalanceEntrySchema(Schema):
    kind = fields.String(required=True)
    service_date = fields.Date(required=True)
    service_code = fields.String(required=True)
    service_name = fields.Function(lambda e: e.service.name_it, required=True)
    provider_name = fields.Function(lambda e: e.provider.name, required=True)
    quantity = Quantity(allow_none=True)
    amount_cents = fields.Integer(required=True)
    public_cents = fields.Integer(required=True)
    copay_cents = fields.Integer(required=True)


class BalanceProviderSchema(Schema):
    name = fields.String(required=True)
    services = fields.List(fields.Nested(ServiceRefSchema), required=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    address = fields.String(allow_none=True)


class BalanceSchema(Schema):
    code = fields.String(required=True)
    status = fields.String(required=True)
    balance_cents = fields.Integer(required=True)
    value_cents = fields.Integer(required=True)
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True)
    scheme_name = fields.String(required=True)
    unit = fields.String(required=True)
    unit_price_cents = fields.Integer(allow_none=True)
    coverage_percent = fields.Integer(required=True)
    balance_units = Quantity(
        allow_none=True,
        metadata={"description": "Per le misure a unità: quante unità (es. ore) restano."},
    )
    redemptions = fields.List(fields.Nested(BalanceEntrySchema), required=True)
    providers = fields.List(fields.Nested(BalanceProviderSchema), required=True)


@blp.route("/balance", methods=["POST"])
@limiter.limit(api_limit)
@blp.arguments(BalanceRequestSchema)
@blp.response(200, BalanceSchema)
@blp.doc(
    responses=problem_responses(
        {
            401: "`invalid_code_or_pin`: la stessa risposta per un codice o un PIN errati.",
            429: "`locked` dopo 5 PIN errati (per 15 minuti; `detail` dice chi chiamare "
            "per un nuovo PIN, con i contatti dei servizi sociali se l'ente li ha indicati); "
            "`rate_limited` per troppe richieste dallo stesso indirizzo (30 al minuto, di più "
            "dalle reti degli uffici dell'ente).",
        }
    )
)
def check_balance(data):
    """The voucher's balance, history and providers, for its code and PIN. A wrong code
    and a wrong PIN get the same 401; five wrong PINs lock the code for 15 minutes (429)."""
    # A refusal keeps its work: the failure count that stops PIN guessing.
    voucher = selfservice.sign_in(data["code"], data["pin"])
    summary = selfservice.voucher_summary(voucher)
    return {
        "code": voucher.code,
        "status": summary.status,
        "balance_cents": voucher.balance_cents,
        "value_cents": voucher.value_cents,
        "valid_from": voucher.valid_from,
        "valid_until": voucher.valid_until,
        "scheme_name": summary.scheme.name,
        "unit": summary.scheme.unit,
        "unit_price_cents": summary.scheme.unit_price_cents,
        "coverage_percent": units.units_coverage(voucher),
        "balance_units": summary.balance_units,
        "redemptions": summary.redemptions,
        "providers": summary.providers,
    }
