"""Beneficiaries: registration from the codice fiscale, look-up and edits.

Special-category personal data (health, disability): staff only. Providers and auditors
get 403 on every operation here.
"""

from flask_smorest import Blueprint

from ..services import beneficiaries
from .fields import MAX_INT, ProblemSchema
from .schemas_beneficiaries import (
    BeneficiaryInSchema,
    BeneficiaryQuerySchema,
    BeneficiarySchema,
    BeneficiaryUpdateSchema,
)
from .security import BEARER_SECURITY, current_actor, requires

blp = Blueprint("api_beneficiaries", __name__, description="Beneficiari")

ONE = f"/beneficiaries/<int(max={MAX_INT}):beneficiary_id>"
PROBLEM = "application/problem+json"


def _not_found():
    return blp.alt_response(
        404, schema=ProblemSchema, content_type=PROBLEM, description="Beneficiario non trovato"
    )


@blp.route("/beneficiaries", methods=["POST"])
@requires("beneficiary.manage")
@blp.arguments(BeneficiaryInSchema)
@blp.response(201, BeneficiarySchema)
@blp.alt_response(
    409,
    schema=ProblemSchema,
    content_type=PROBLEM,
    description="Codice fiscale già registrato (duplicate_beneficiary)",
)
@blp.doc(security=BEARER_SECURITY)
def register_beneficiary(data):
    """Register a person; birth date and sex come from the codice fiscale."""
    return beneficiaries.register_beneficiary(current_actor(), **data)


@blp.route("/beneficiaries")
@requires("beneficiary.read")
@blp.arguments(BeneficiaryQuerySchema, location="query")
@blp.response(200, BeneficiarySchema(many=True))
@blp.doc(security=BEARER_SECURITY)
def find_beneficiaries(query):
    """The beneficiaries with this codice fiscale: a list of one, or empty."""
    person = beneficiaries.find_by_fiscal_code(query["fiscal_code"].replace(" ", ""))
    return [person] if person else []


@blp.route(ONE)
@requires("beneficiary.read")
@blp.response(200, BeneficiarySchema)
@_not_found()
@blp.doc(security=BEARER_SECURITY)
def get_beneficiary(beneficiary_id: int):
    """One beneficiary."""
    return beneficiaries.get_beneficiary(beneficiary_id)


@blp.route(ONE, methods=["PATCH"])
@requires("beneficiary.manage")
@blp.arguments(BeneficiaryUpdateSchema)
@blp.response(200, BeneficiarySchema)
@_not_found()
@blp.doc(security=BEARER_SECURITY)
def update_beneficiary(data, beneficiary_id: int):
    """Edit a beneficiary; the audit trail names the fields changed, never their values."""
    person = beneficiaries.get_beneficiary(beneficiary_id)
    beneficiaries.update_beneficiary(current_actor(), person, **data)
    return person
