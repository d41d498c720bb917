"""A beneficiary's ISEE records: entered one by one (a renewal adds one, never overwrites),
listed newest first. Personal data: staff only, like the beneficiary itself."""

from flask_smorest import Blueprint

from ..services import isee, read_audit
from .fields import MAX_INT, ProblemSchema
from .schemas_isee import IseeRecordInSchema, IseeRecordSchema
from .security import BEARER_SECURITY, beneficiary_in_reach, current_actor, requires

blp = Blueprint("api_isee", __name__, description="ISEE dei beneficiari")

RECORDS = f"/beneficiaries/<int(max={MAX_INT}):beneficiary_id>/isee"
PROBLEM = "application/problem+json"


def _not_found():
    return blp.alt_response(
        404, schema=ProblemSchema, content_type=PROBLEM, description="Beneficiario non trovato"
    )


@blp.route(RECORDS, methods=["POST"])
@requires("beneficiary.manage")
@blp.arguments(IseeRecordInSchema)
@blp.response(201, IseeRecordSchema)
@_not_found()
@blp.doc(security=BEARER_SECURITY)
def add_isee_record(data, beneficiary_id: int):
    """Record an ISEE certificate; the person's open vouchers of schemes with bands that
    read its type change coverage from the month after the DSU date."""
    person = beneficiary_in_reach(beneficiary_id)
    return isee.add_isee_record(current_actor(), person, **data)


@blp.route(RECORDS)
@requires("beneficiary.read")
@blp.response(200, IseeRecordSchema(many=True))
@_not_found()
@blp.doc(security=BEARER_SECURITY)
def list_isee_records(beneficiary_id: int):
    """The person's ISEE records, newest first (by DSU date, then by entry)."""
    person = beneficiary_in_reach(beneficiary_id)
    read_audit.record_read(current_actor(), person)
    return isee.list_isee_records(person)
