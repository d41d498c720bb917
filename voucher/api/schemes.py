"""Schemes (misure): the admin creates and manages them; staff and auditors read them,
with the budget committed and redeemed so far."""

from flask_smorest import Blueprint

from ..models import Scheme
from ..services import schemes
from .fields import MAX_INT, ProblemSchema
from .schemas_schemes import (
    SchemeInSchema,
    SchemeQuerySchema,
    SchemeSchema,
    SchemeUpdateSchema,
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


BUDGET_FIELDS = ("committed_cents", "redeemed_cents", "available_cents")
SCHEME_FIELDS = tuple(f for f in SchemeSchema().fields if f not in BUDGET_FIELDS)


def _with_budget(scheme: Scheme) -> dict:
    """The scheme with its budget position: committed, redeemed and still available."""
    committed = schemes.committed_cents(scheme.id)
    return {
        **{field: getattr(scheme, field) for field in SCHEME_FIELDS},
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
