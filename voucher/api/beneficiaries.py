"""Beneficiaries: registration from the codice fiscale, look-up and edits.

Special-category personal data (health, disability): staff only. Providers and auditors
get 403 on every operation here. A social worker with Comuni assigned gets 404 for a person
outside them, as if they did not exist; break-glass access is asked for on the pages only,
and once granted it opens the person here too, until it ends. Every read is audited.
A codice fiscale is looked up in the body of a POST, never in a URL, which proxies, servers
and browsers keep in their logs and histories.

A beneficiary carries `warnings` (in the 201 of a registration and in every read): a list
of Italian sentences, empty when the codice fiscale agrees with the surname, the first name
and the sex its first name suggests (voucher.services.fiscal_match). A disagreement does not
refuse the registration, as the contract promises 201 for any valid code: integrators show
the warnings and correct the names with PATCH when they are wrong, which clears them. The
pages, instead, ask the social worker to confirm before saving.
"""

from flask_smorest import Blueprint

from ..services import beneficiaries, reach, read_audit
from .fields import MAX_INT, ProblemSchema
from .schemas_beneficiaries import (
    BeneficiaryInSchema,
    BeneficiaryQuerySchema,
    BeneficiarySchema,
    BeneficiarySearchSchema,
    BeneficiaryUpdateSchema,
)
from .security import BEARER_SECURITY, beneficiary_in_reach, current_actor, requires

blp = Blueprint("api_beneficiaries", __name__, description="Beneficiari")

ONE = f"/beneficiaries/<int(max={MAX_INT}):beneficiary_id>"
PROBLEM = "application/problem+json"
# The look-up by query string is deprecated (RFC 9745) now that the look-up by POST exists;
# it keeps working, as the contract says, and names its successor (RFC 8288, RFC 5829).
DEPRECATION = {
    "Deprecation": "@1796601600",  # 7 December 2026
    "Link": '</api/v1/beneficiaries/search>; rel="successor-version"',
}
DEPRECATION_DOC = {
    "Deprecation": {
        "description": "RFC 9745: deprecata da questa data; usare POST /beneficiaries/search",
        "schema": {"type": "string"},
    },
    "Link": {
        "description": "La nuova operazione: POST /beneficiaries/search",
        "schema": {"type": "string"},
    },
}


def _not_found():
    return blp.alt_response(
        404,
        schema=ProblemSchema,
        content_type=PROBLEM,
        description="Beneficiario non trovato, anche fuori dai Comuni assegnati all'assistente "
        "sociale (l'accesso straordinario si chiede solo dalle pagine)",
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
    """Register a person; birth date and sex come from the codice fiscale, and `warnings`
    says what in the code disagrees with the name."""
    return beneficiaries.register_beneficiary(current_actor(), **data)


def _with_fiscal_code(fiscal_code: str) -> list:
    """The beneficiaries with this codice fiscale: a list of one, or empty."""
    person = beneficiaries.find_by_fiscal_code(fiscal_code.replace(" ", ""))
    found = reach.keep_beneficiaries(current_actor(), [person] if person else [])
    read_audit.record_search(current_actor(), found, read_audit.SEARCH_BY_FISCAL_CODE)
    return found


@blp.route("/beneficiaries/search", methods=["POST"])
@requires("beneficiary.read")
@blp.arguments(BeneficiarySearchSchema)
@blp.response(200, BeneficiarySchema(many=True))
@blp.doc(security=BEARER_SECURITY)
def search_beneficiaries(data):
    """The beneficiaries with this codice fiscale: a list of one, or empty. The codice fiscale
    travels in the body, so that no log of a URL keeps it."""
    return _with_fiscal_code(data["fiscal_code"])


@blp.route("/beneficiaries")
@requires("beneficiary.read")
@blp.arguments(BeneficiaryQuerySchema, location="query")
@blp.response(200, BeneficiarySchema(many=True), headers=DEPRECATION_DOC)
@blp.doc(security=BEARER_SECURITY, deprecated=True)
def find_beneficiaries(query):
    """Deprecated: use POST /beneficiaries/search, which answers the same. A codice fiscale
    in a URL ends up in the logs of every proxy and server on the way. Answers with a
    `Deprecation` header."""
    return _with_fiscal_code(query["fiscal_code"]), 200, DEPRECATION


@blp.route(ONE)
@requires("beneficiary.read")
@blp.response(200, BeneficiarySchema)
@_not_found()
@blp.doc(security=BEARER_SECURITY)
def get_beneficiary(beneficiary_id: int):
    """One beneficiary."""
    person = beneficiary_in_reach(beneficiary_id)
    read_audit.record_read(current_actor(), person)
    return person


@blp.route(ONE, methods=["PATCH"])
@requires("beneficiary.manage")
@blp.arguments(BeneficiaryUpdateSchema)
@blp.response(200, BeneficiarySchema)
@_not_found()
@blp.doc(security=BEARER_SECURITY)
def update_beneficiary(data, beneficiary_id: int):
    """Edit a beneficiary; the audit trail names the fields changed, never their values."""
    person = beneficiary_in_reach(beneficiary_id)
    beneficiaries.update_beneficiary(current_actor(), person, **data)
    return person
