"""Accredited providers: registration, accreditations, suspension and API keys.

The admin manages them; staff and auditors read them; a provider sees only itself, and any
other provider is 404 to it. Payment data (codice fiscale, IBAN, DURC, dedicated account)
is shown to the admin, the ragioneria and the provider itself.
"""

from flask_smorest import Blueprint
from sqlalchemy import select

from ..errors import ValidationFailed
from ..extensions import db
from ..models import Accreditation, ApiKey, Provider
from ..services import payments, providers
from .fields import MAX_INT, ProblemSchema
from .schemas_providers import (
    AccreditationEndSchema,
    AccreditationInSchema,
    ApiKeyInSchema,
    ApiKeySchema,
    DurcNoticeSchema,
    NewApiKeySchema,
    ProviderInSchema,
    ProviderSchema,
    ProviderUpdateSchema,
    SuspendSchema,
)
from .security import BEARER_SECURITY, current_actor, load_in_reach, requires

blp = Blueprint("api_providers", __name__, description="Fornitori accreditati")

ONE = f"/providers/<int(max={MAX_INT}):provider_id>"
PROBLEM = "application/problem+json"


def _not_found():
    return blp.alt_response(
        404, schema=ProblemSchema, content_type=PROBLEM, description="Fornitore non trovato"
    )


def _conflict(description: str):
    return blp.alt_response(
        409, schema=ProblemSchema, content_type=PROBLEM, description=description
    )


def _provider(provider_id: int) -> Provider:
    return load_in_reach(Provider, provider_id, "Fornitore non trovato.")


def _shown(provider: Provider):
    """The provider as the signed-in person may read it: without its payment data for
    social workers and auditors, who have no use for them."""
    actor = current_actor()
    if actor.can("provider.payment_data") or actor.is_provider:
        return provider
    fields = ("id", "name", "vat_number", "email", "phone", "address", "status", "created_at")
    return {
        **{key: getattr(provider, key) for key in fields},
        "accreditations": provider.accreditations,
    }


@blp.route("/providers", methods=["POST"])
@requires("provider.manage")
@blp.arguments(ProviderInSchema)
@blp.response(201, ProviderSchema)
@_conflict("Partita IVA già registrata")
@blp.doc(security=BEARER_SECURITY)
def create_provider(data):
    """Register a provider with its accreditations; the partita IVA is checked."""
    return providers.create_provider(current_actor(), **data)


@blp.route("/providers")
@requires("provider.read")
@blp.response(200, ProviderSchema(many=True))
@blp.doc(security=BEARER_SECURITY)
def list_providers():
    """All providers, by name; a provider gets a list holding only itself."""
    actor = current_actor()
    return [_shown(p) for p in providers.list_providers() if actor.sees_provider(p.id)]


@blp.route("/providers/durc-notices")
@requires("provider.payment_data")
@blp.response(200, DurcNoticeSchema(many=True))
@blp.doc(security=BEARER_SECURITY)
def durc_notices():
    """Active providers whose DURC is missing, expired, or expires within 30 days, soonest
    first: a payment on a date past the DURC's expiry is blocked (durc_expired)."""
    return payments.durc_notices()


@blp.route(ONE)
@requires("provider.read")
@blp.response(200, ProviderSchema)
@_not_found()
@blp.doc(security=BEARER_SECURITY)
def get_provider(provider_id: int):
    """One provider with its accreditations."""
    return _shown(_provider(provider_id))


@blp.route(ONE, methods=["PATCH"])
@requires("provider.manage")
@blp.arguments(ProviderUpdateSchema)
@blp.response(200, ProviderSchema)
@_not_found()
@blp.doc(security=BEARER_SECURITY)
def update_provider(data, provider_id: int):
    """Change a provider's name, contacts or payment data (the partita IVA never changes).

    Payment data: `fiscal_code` (11 digits for a company, 16 characters for a person),
    `iban` (an Italian IBAN, check digits verified → 422 otherwise), `durc_valid_until` and
    `dedicated_account_declared` (L. 136/2010). Each change is audited with its old and
    new value."""
    provider = _provider(provider_id)
    payment = {key: data.pop(key) for key in payments.PAYMENT_FIELDS if key in data}
    actor = current_actor()
    if payment:
        payments.update_payment_data(actor, provider, **payment)
    if data:
        providers.update_provider(actor, provider, **data)
    return provider


@blp.route(f"{ONE}/suspend", methods=["POST"])
@requires("provider.manage")
@blp.arguments(SuspendSchema, required=False)
@blp.response(200, ProviderSchema)
@_not_found()
@_conflict("Fornitore già sospeso")
@blp.doc(security=BEARER_SECURITY)
def suspend_provider(data, provider_id: int):
    """Suspend a provider: it may not redeem vouchers until reinstated."""
    provider = _provider(provider_id)
    providers.suspend_provider(current_actor(), provider, data.get("reason"))
    return provider


@blp.route(f"{ONE}/reinstate", methods=["POST"])
@requires("provider.manage")
@blp.response(200, ProviderSchema)
@_not_found()
@_conflict("Fornitore non sospeso")
@blp.doc(security=BEARER_SECURITY)
def reinstate_provider(provider_id: int):
    """Lift a suspension."""
    provider = _provider(provider_id)
    providers.reinstate_provider(current_actor(), provider)
    return provider


@blp.route(f"{ONE}/accreditations", methods=["POST"])
@requires("provider.manage")
@blp.arguments(AccreditationInSchema)
@blp.response(201, ProviderSchema)
@_not_found()
@blp.doc(security=BEARER_SECURITY)
def add_accreditation(data, provider_id: int):
    """Accredit the provider for one more service, from a date (and up to one)."""
    provider = _provider(provider_id)
    try:
        providers.accredit(current_actor(), provider, **data)
    except ValidationFailed as error:
        # The service names fields as in a provider's list of accreditations.
        errors = {k.removeprefix("accreditations.0."): v for k, v in (error.errors or {}).items()}
        raise ValidationFailed(error.detail, errors=errors) from None
    return provider


@blp.route(f"{ONE}/accreditations/<int(max={MAX_INT}):accreditation_id>", methods=["PATCH"])
@requires("provider.manage")
@blp.arguments(AccreditationEndSchema)
@blp.response(200, ProviderSchema)
@_not_found()
@blp.doc(security=BEARER_SECURITY)
def end_accreditation(data, provider_id: int, accreditation_id: int):
    """End an accreditation on a date; redemptions after it are refused."""
    provider = _provider(provider_id)
    accreditation = load_in_reach(
        Accreditation, accreditation_id, "Accreditamento non trovato.", of_provider=provider.id
    )
    providers.end_accreditation(current_actor(), accreditation, data["valid_until"])
    return provider


@blp.route(f"{ONE}/api-keys", methods=["POST"])
@requires("provider.manage")
@blp.arguments(ApiKeyInSchema, required=False)
@blp.response(201, NewApiKeySchema)
@_not_found()
@blp.doc(security=BEARER_SECURITY)
def create_api_key(data, provider_id: int):
    """A new API key for the provider's software, shown only in this response."""
    provider = _provider(provider_id)
    key = providers.create_api_key(current_actor(), provider, data.get("label"))
    record = providers.resolve_api_key(key)
    return {"api_key": key, "id": record.id, "prefix": record.prefix, "label": record.label}


@blp.route(f"{ONE}/api-keys")
@requires("provider.manage")
@blp.response(200, ApiKeySchema(many=True))
@_not_found()
@blp.doc(security=BEARER_SECURITY)
def list_api_keys(provider_id: int):
    """The provider's API keys, by prefix; the keys themselves are never stored."""
    provider = _provider(provider_id)
    query = select(ApiKey).where(ApiKey.provider_id == provider.id).order_by(ApiKey.id)
    return db.session.execute(query).scalars().all()


@blp.route(f"{ONE}/api-keys/<int(max={MAX_INT}):key_id>", methods=["DELETE"])
@requires("provider.manage")
@blp.response(204)
@_not_found()
@blp.doc(security=BEARER_SECURITY)
def revoke_api_key(provider_id: int, key_id: int):
    """Revoke an API key at once (a lost or leaked key)."""
    provider = _provider(provider_id)
    api_key = load_in_reach(ApiKey, key_id, "Chiave non trovata.", of_provider=provider.id)
    if api_key.revoked_at is None:
        providers.revoke_api_key(current_actor(), api_key)
