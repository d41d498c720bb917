"""Accredited providers: registration, accreditations, suspension and API keys.

The admin manages them; staff and auditors read them; a provider sees only itself, and any
other provider is 404 to it.
"""

from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..models import Accreditation, ApiKey, Provider
from ..services import providers
from .fields import MAX_INT, ProblemSchema
from .schemas_providers import (
    AccreditationEndSchema,
    AccreditationInSchema,
    ApiKeyInSchema,
    ApiKeySchema,
    NewApiKeySchema,
    ProviderInSchema,
    ProviderSchema,
    ProviderUpdateSchema,
    SuspendSchema,
)
from .security import BEARER_SECURITY, current_actor, requires

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


def _provider_in_reach(provider_id: int) -> Provider:
    """The provider, if the caller may see it: a provider sees only itself."""
    actor = current_actor()
    if actor.is_provider and actor.provider_id != provider_id:
        raise NotFound("Fornitore non trovato.")
    return providers.get_provider(provider_id)


@blp.route("/providers", methods=["POST"])
@requires("provider.manage")
@blp.arguments(ProviderInSchema)
@blp.response(201, ProviderSchema)
@_conflict("Partita IVA già registrata")
@blp.doc(security=BEARER_SECURITY)
def create_provider(data):
    """Register a provider with its accreditations; the partita IVA is checked."""
    provider = providers.create_provider(current_actor(), **data)
    try:
        db.session.commit()
    except IntegrityError:
        # Two registrations of the same partita IVA at once: the database keeps one.
        db.session.rollback()
        raise Conflict("Un fornitore con questa partita IVA è già registrato.") from None
    return provider


@blp.route("/providers")
@requires("provider.read")
@blp.response(200, ProviderSchema(many=True))
@blp.doc(security=BEARER_SECURITY)
def list_providers():
    """All providers, by name; a provider gets a list holding only itself."""
    actor = current_actor()
    if actor.is_provider:
        return [providers.get_provider(actor.provider_id)]
    return providers.list_providers()


@blp.route(ONE)
@requires("provider.read")
@blp.response(200, ProviderSchema)
@_not_found()
@blp.doc(security=BEARER_SECURITY)
def get_provider(provider_id: int):
    """One provider with its accreditations."""
    return _provider_in_reach(provider_id)


@blp.route(ONE, methods=["PATCH"])
@requires("provider.manage")
@blp.arguments(ProviderUpdateSchema)
@blp.response(200, ProviderSchema)
@_not_found()
@blp.doc(security=BEARER_SECURITY)
def update_provider(data, provider_id: int):
    """Change a provider's name or contacts (the partita IVA never changes)."""
    provider = providers.get_provider(provider_id)
    if data:
        providers.update_provider(current_actor(), provider, **data)
        db.session.commit()
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
    provider = providers.get_provider(provider_id)
    providers.suspend_provider(current_actor(), provider, data.get("reason"))
    db.session.commit()
    return provider


@blp.route(f"{ONE}/reinstate", methods=["POST"])
@requires("provider.manage")
@blp.response(200, ProviderSchema)
@_not_found()
@_conflict("Fornitore non sospeso")
@blp.doc(security=BEARER_SECURITY)
def reinstate_provider(provider_id: int):
    """Lift a suspension."""
    provider = providers.get_provider(provider_id)
    providers.reinstate_provider(current_actor(), provider)
    db.session.commit()
    return provider


@blp.route(f"{ONE}/accreditations", methods=["POST"])
@requires("provider.manage")
@blp.arguments(AccreditationInSchema)
@blp.response(201, ProviderSchema)
@_not_found()
@blp.doc(security=BEARER_SECURITY)
def add_accreditation(data, provider_id: int):
    """Accredit the provider for one more service, from a date (and up to one)."""
    provider = providers.get_provider(provider_id)
    try:
        providers.accredit(current_actor(), provider, **data)
    except ValidationFailed as error:
        # The service names fields as in a provider's list of accreditations.
        errors = {k.removeprefix("accreditations.0."): v for k, v in (error.errors or {}).items()}
        raise ValidationFailed(error.detail, errors=errors) from None
    db.session.commit()
    return provider


@blp.route(f"{ONE}/accreditations/<int(max={MAX_INT}):accreditation_id>", methods=["PATCH"])
@requires("provider.manage")
@blp.arguments(AccreditationEndSchema)
@blp.response(200, ProviderSchema)
@_not_found()
@blp.doc(security=BEARER_SECURITY)
def end_accreditation(data, provider_id: int, accreditation_id: int):
    """End an accreditation on a date; redemptions after it are refused."""
    provider = providers.get_provider(provider_id)
    accreditation = db.session.get(Accreditation, accreditation_id)
    if accreditation is None or accreditation.provider_id != provider.id:
        raise NotFound("Accreditamento non trovato.")
    providers.end_accreditation(current_actor(), accreditation, data["valid_until"])
    db.session.commit()
    return provider


@blp.route(f"{ONE}/api-keys", methods=["POST"])
@requires("provider.manage")
@blp.arguments(ApiKeyInSchema, required=False)
@blp.response(201, NewApiKeySchema)
@_not_found()
@blp.doc(security=BEARER_SECURITY)
def create_api_key(data, provider_id: int):
    """A new API key for the provider's software, shown only in this response."""
    provider = providers.get_provider(provider_id)
    key = providers.create_api_key(current_actor(), provider, data.get("label"))
    record = providers.resolve_api_key(key)
    db.session.commit()
    return {"api_key": key, "id": record.id, "prefix": record.prefix, "label": record.label}


@blp.route(f"{ONE}/api-keys")
@requires("provider.manage")
@blp.response(200, ApiKeySchema(many=True))
@_not_found()
@blp.doc(security=BEARER_SECURITY)
def list_api_keys(provider_id: int):
    """The provider's API keys, by prefix; the keys themselves are never stored."""
    provider = providers.get_provider(provider_id)
    query = select(ApiKey).where(ApiKey.provider_id == provider.id).order_by(ApiKey.id)
    return db.session.execute(query).scalars().all()


@blp.route(f"{ONE}/api-keys/<int(max={MAX_INT}):key_id>", methods=["DELETE"])
@requires("provider.manage")
@blp.response(204)
@_not_found()
@blp.doc(security=BEARER_SECURITY)
def revoke_api_key(provider_id: int, key_id: int):
    """Revoke an API key at once (a lost or leaked key)."""
    provider = providers.get_provider(provider_id)
    api_key = db.session.get(ApiKey, key_id)
    if api_key is None or api_key.provider_id != provider.id:
        raise NotFound("Chiave non trovata.")
    if api_key.revoked_at is None:
        providers.revoke_api_key(current_actor(), api_key)
        db.session.commit()
