"""Schemes (misure): the admin creates and manages them; staff and auditors read them,
with the budget committed and redeemed so far."""

from flask_smorest import Blueprint

from ..models import Scheme
from ..services import scheme_changes, scheme_providers, schemes
from .fields import MAX_INT, ProblemSchema
from .schemas_schemes import (
    BudgetChangeSchema,
    SchemeInSchema,
    SchemeProvidersSchema,
    SchemeQuerySchema,
    SchemeSchema,
    SchemeUpdateSchema,
    ValidityExtensionSchema,
)
from .security import BEARER_SECURITY, current_actor, requires

blp = Blueprint("api_schemes", __name__, description="Misure (schemi di buoni)")

ONE = f"/schemes/<int(max={MAX_INT}):scheme_id>"
PROBLEM = "application/problem+json"


def _not_found():
    return blp.alt_response(
        404, schema=ProblemSchema, content_type=PROBLEM, description="Misura non trovata"
    )


def _conflict(description: str):
    return blp.alt_response(
        409, schema=ProblemSchema, content_type=PROBLEM, description=description
    )


COMPUTED_FIELDS = ("committed_cents", "redeemed_cents", "available_cents", "provider_ids")
SCHEME_FIELDS = tuple(f for f in SchemeSchema().fields if f not in COMPUTED_FIELDS)


def _with_budget(scheme: Scheme) -> dict:
    """The scheme with its budget position (committed, redeemed and still available) and
    the providers it is limited to."""
    committed = schemes.committed_cents(scheme.id)
    return {
        **{field: getattr(scheme, field) for field in SCHEME_FIELDS},
        "provider_ids": scheme_providers.provider_ids(scheme),
        "committed_cents": committed,
        "redeemed_cents": schemes.redeemed_cents(scheme.id),
        "available_cents": scheme.budget_cents - committed,
    }


@blp.route("/schemes", methods=["POST"])
@requires("scheme.manage")
@blp.arguments(SchemeInSchema)
@blp.response(201, SchemeSchema)
@blp.doc(security=BEARER_SECURITY)
def create_scheme(data):
    """Create a scheme; it is active at once unless the body says `"status": "draft"`."""
    status = data.pop("status")
    scheme = schemes.create_scheme(current_actor(), data, status=status)
    return _with_budget(scheme)


@blp.route("/schemes")
@requires("scheme.read")
@blp.arguments(SchemeQuerySchema, location="query")
@blp.response(200, SchemeSchema(many=True))
@blp.doc(security=BEARER_SECURITY)
def list_schemes(query):
    """Schemes, newest year first, optionally of one status or one year."""
    found = schemes.list_schemes(query.get("status"))
    if "year" in query:
        found = [s for s in found if s.year == query["year"]]
    return [_with_budget(s) for s in found]


@blp.route(ONE)
@requires("scheme.read")
@blp.response(200, SchemeSchema)
@_not_found()
@blp.doc(security=BEARER_SECURITY)
def get_scheme(scheme_id: int):
    """One scheme with committed_cents, redeemed_cents and available_cents."""
    return _with_budget(schemes.get_scheme(scheme_id))


@blp.route(ONE, methods=["PATCH"])
@requires("scheme.manage")
@blp.arguments(SchemeUpdateSchema)
@blp.response(200, SchemeSchema)
@_not_found()
@_conflict("Solo una misura in bozza si modifica")
@blp.doc(security=BEARER_SECURITY)
def update_scheme(data, scheme_id: int):
    """Edit a draft scheme: only the fields given change."""
    scheme = schemes.get_scheme(scheme_id)
    schemes.update_scheme(current_actor(), scheme, data)
    return _with_budget(scheme)


@blp.route(f"{ONE}/activate", methods=["POST"])
@requires("scheme.manage")
@blp.response(200, SchemeSchema)
@_not_found()
@_conflict("La misura non è in bozza")
@blp.doc(security=BEARER_SECURITY)
def activate_scheme(scheme_id: int):
    """Open a draft scheme: vouchers may be issued from now on."""
    scheme = schemes.get_scheme(scheme_id)
    schemes.activate_scheme(current_actor(), scheme)
    return _with_budget(scheme)


@blp.route(f"{ONE}/close", methods=["POST"])
@requires("scheme.manage")
@blp.response(200, SchemeSchema)
@_not_found()
@_conflict("La misura è già chiusa")
@blp.doc(security=BEARER_SECURITY)
def close_scheme(scheme_id: int):
    """Close a scheme: no new vouchers; those issued stay spendable until they expire."""
    scheme = schemes.get_scheme(scheme_id)
    schemes.close_scheme(current_actor(), scheme)
    return _with_budget(scheme)


def _validation_error():
    return blp.alt_response(
        422, schema=ProblemSchema, content_type=PROBLEM, description="`validation_error`"
    )


@blp.route(f"{ONE}/budget", methods=["POST"])
@requires("scheme.manage")
@blp.arguments(BudgetChangeSchema)
@blp.response(200, SchemeSchema)
@_not_found()
@_conflict(
    "`conflict`: la misura non è attiva, o il nuovo budget è sotto l'impegnato (`detail` "
    "riporta entrambi gli importi, anche come `budget_cents` e `committed_cents`)"
)
@_validation_error()
@blp.doc(security=BEARER_SECURITY)
def change_budget(data, scheme_id: int):
    """Top up an active scheme's budget, or lower it no further than what is committed."""
    scheme = schemes.get_scheme(scheme_id)
    scheme_changes.change_budget(current_actor(), scheme, data["budget_cents"], data["reason"])
    return _with_budget(scheme)


@blp.route(f"{ONE}/validity", methods=["POST"])
@requires("scheme.manage")
@blp.arguments(ValidityExtensionSchema)
@blp.response(200, SchemeSchema)
@_not_found()
@_conflict("`conflict`: la misura non è attiva")
@_validation_error()
@blp.doc(security=BEARER_SECURITY)
def extend_validity(data, scheme_id: int):
    """Extend an active scheme's validity to a later `valid_until` (at most five years from
    its start). Vouchers issued from now on last until then; with `extend_vouchers`, so do
    the vouchers still valid that end with the scheme, with a new `qr_payload`."""
    scheme = schemes.get_scheme(scheme_id)
    scheme_changes.extend_validity(
        current_actor(),
        scheme,
        data["valid_until"],
        data["reason"],
        extend_vouchers=data["extend_vouchers"],
    )
    return _with_budget(scheme)


@blp.route(f"{ONE}/providers", methods=["PUT"])
@requires("scheme.manage")
@blp.arguments(SchemeProvidersSchema)
@blp.response(200, SchemeSchema)
@_not_found()
@_conflict("`conflict`: la misura è chiusa")
@_validation_error()
@blp.doc(security=BEARER_SECURITY)
def set_providers(data, scheme_id: int):
    """Limit the scheme to these providers; an empty list opens it to every provider
    accredited for its services. Others get 403 `not_accredited` on a redemption."""
    scheme = schemes.get_scheme(scheme_id)
    scheme_providers.set_scheme_providers(current_actor(), scheme, data["provider_ids"])
    return _with_budget(scheme)
