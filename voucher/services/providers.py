"""Providers, their accreditations per service, suspension, and API keys."""

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import current_app
from sqlalchemy import bindparam, or_, select

from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..models import Accreditation, ApiKey, Provider, Scheme, Service, scheme_provider
from ..models.status import ProviderStatus, allows
from . import Actor, audit
from .identifiers import normalise_vat

API_KEY_PREFIX = "vk_"
# How long each process trusts a key it has checked, without asking the database again.
# Revoking a key stops its redemptions at once (they check the key again in their own
# transaction) and everything else within this many seconds on every server process.
KEY_TRUSTED_SECONDS = 10
_MAX_TRUSTED_KEYS = 10_000


def _accreditation(item: dict, index: int) -> Accreditation:
    service = db.session.get(Service, item.get("service_code") or "")
    if service is None:
        raise ValidationFailed(
            errors={f"accreditations.{index}.service_code": ["Servizio sconosciuto."]}
        )
    vf, vu = item.get("valid_from"), item.get("valid_until")
    if vu is not None and vu < vf:
        raise ValidationFailed(
            errors={
                f"accreditations.{index}.valid_until": [
                    "La fine dell'accreditamento precede l'inizio."
                ]
            }
        )
    return Accreditation(service_code=service.code, valid_from=vf, valid_until=vu)


def create_provider(
    actor: Actor,
    *,
    name: str,
    vat_number: str,
    email: str | None = None,
    phone: str | None = None,
    address: str | None = None,
    accreditations: list[dict] | None = None,
) -> Provider:
    """Register a provider (its partita IVA unique) with its accreditations."""
    vat = normalise_vat(vat_number)
    if db.session.execute(select(Provider.id).where(Provider.vat_number == vat)).first():
        raise Conflict("Un fornitore con questa partita IVA è già registrato.")
    provider = Provider(
        name=name.strip(),
        vat_number=vat,
        email=email,
        phone=phone,
        address=address,
        status="active",
    )
    provider.accreditations = [_accreditation(a, i) for i, a in enumerate(accreditations or [])]
    db.session.add(provider)
    db.session.flush()
    audit.record(actor, "provider.created", "provider", provider.id, vat_number=vat)
    for acc in provider.accreditations:
        audit.record(
            actor,
            "provider.accredited",
            "provider",
            provider.id,
            service=acc.service_code,
            valid_from=acc.valid_from,
            valid_until=acc.valid_until,
        )
    return provider


def update_provider(actor: Actor, provider: Provider, **fields) -> Provider:
    """Change a provider's name or contacts (only the fields given)."""
    for key in ("name", "email", "phone", "address"):
        if key in fields:
            setattr(provider, key, fields[key])
    db.session.flush()
    audit.record(actor, "provider.updated", "provider", provider.id, fields=sorted(fields))
    return provider


def accredit(
    actor: Actor,
    provider: Provider,
    service_code: str,
    valid_from: date,
    valid_until: date | None = None,
) -> Accreditation:
    """Accredit a provider for a service from `valid_from` (open-ended without `valid_until`)."""
    acc = _accreditation(
        {"service_code": service_code, "valid_from": valid_from, "valid_until": valid_until}, 0
    )
    provider.accreditations.append(acc)
    db.session.flush()
    audit.record(
        actor,
        "provider.accredited",
        "provider",
        provider.id,
        service=service_code,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    return acc


def end_accreditation(actor: Actor, accreditation: Accreditation, valid_until: date) -> None:
    """End an accreditation on `valid_until`, which may not precede its start."""
    if valid_until < accreditation.valid_from:
        raise ValidationFailed(errors={"valid_until": ["Data precedente all'inizio."]})
    accreditation.valid_until = valid_until
    db.session.flush()
    audit.record(
        actor,
        "provider.accreditation_ended",
        "provider",
        accreditation.provider_id,
        service=accreditation.service_code,
        valid_until=valid_until,
    )


def suspend_provider(actor: Actor, provider: Provider, reason: str | None = None) -> Provider:
    """Suspend a provider: it may record no service until reinstated."""
    if not allows("provider", provider.status, "suspend"):
        raise Conflict("Il fornitore è già sospeso.")
    provider.status = ProviderStatus.SUSPENDED
    db.session.flush()
    audit.record(actor, "provider.suspended", "provider", provider.id, reason=reason)
    return provider


def reinstate_provider(actor: Actor, provider: Provider) -> Provider:
    """Reinstate a suspended provider."""
    if not allows("provider", provider.status, "reinstate"):
        raise Conflict("Il fornitore non è sospeso.")
    provider.status = ProviderStatus.ACTIVE
    db.session.flush()
    audit.record(actor, "provider.reinstated", "provider", provider.id)
    return provider


def scheme_open_to(scheme: Scheme, provider_id: int) -> bool:
    """A scheme that lists chosen providers is open only to them; one that lists none, to
    every provider accredited for its services."""
    return not scheme.providers or any(p.id == provider_id for p in scheme.providers)


def is_accredited(
    provider: Provider, service_code: str, day: date, scheme: Scheme | None = None
) -> bool:
    """May the provider redeem for this service on this date (and, given the voucher's
    scheme, is the provider among those the scheme is limited to)? What a redemption
    checks in SQL (redemption_sql), for the pages that show a voucher to a provider."""
    if not allows("provider", provider.status, "redeem"):
        return False
    if scheme is not None and not scheme_open_to(scheme, provider.id):
        return False
    return any(a.service_code == service_code and a.covers(day) for a in provider.accreditations)


def get_provider(provider_id: int) -> Provider:
    """The provider with this id, or NotFound."""
    provider = db.session.get(Provider, provider_id)
    if provider is None:
        raise NotFound("Fornitore non trovato.")
    return provider


def list_providers() -> list[Provider]:
    """Every provider, by name."""
    return list(db.session.execute(select(Provider).order_by(Provider.name)).scalars())


def providers_for_services(
    service_codes: list[str], day: date, scheme_id: int | None = None
) -> list[Provider]:
    """Active providers accredited on `day` for at least one of the services; given a
    scheme limited to chosen providers (scheme_provider), only those, in the same query."""
    query = (
        select(Provider)
        .join(Accreditation)
        .where(
            Provider.status == "active",
            Accreditation.service_code.in_(service_codes),
            Accreditation.covering(day),
        )
        .distinct()
        .order_by(Provider.name)
    )
    if scheme_id is not None:
        listed = select(scheme_provider.c.provider_id).where(
            scheme_provider.c.scheme_id == scheme_id
        )
        query = query.where(or_(~listed.exists(), Provider.id.in_(listed)))
    return list(db.session.execute(query).scalars())


def providers_for_scheme(scheme: Scheme, day: date) -> list[Provider]:
    """Where the scheme's vouchers may be spent on `day`: the active providers accredited
    for one of its services, limited to those it lists when it lists any. The one list a
    family reads, on the letter and on the balance page."""
    return providers_for_services(scheme.service_codes, day, scheme_id=scheme.id)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(actor: Actor, provider: Provider, label: str | None = None) -> str:
    """A new key, returned once: only its digest is stored."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKey(provider_id=provider.id, prefix=key[:10], key_hash=_digest(key), label=label)
    db.session.add(record)
    db.session.flush()
    audit.record(
        actor,
        "provider.api_key_created",
        "provider",
        provider.id,
        key_id=record.id,
        prefix=record.prefix,
    )
    return key


def revoke_api_key(actor: Actor, api_key: ApiKey) -> None:
    """Revoke an API key at once, in this process's cache of trusted keys too."""
    api_key.revoked_at = datetime.now(UTC)
    _trusted_keys().pop(api_key.key_hash, None)
    db.session.flush()
    audit.record(
        actor, "provider.api_key_revoked", "provider", api_key.provider_id, key_id=api_key.id
    )


@dataclass(frozen=True)
class KeyHolder:
    """Who holds a valid API key: enough to authorise a request."""

    id: int
    provider_id: int
    prefix: str


_VALID_KEY = select(ApiKey.id, ApiKey.provider_id, ApiKey.prefix).where(
    ApiKey.key_hash == bindparam("digest"), ApiKey.revoked_at.is_(None)
)


def _trusted_keys() -> dict[str, tuple[float, KeyHolder]]:
    """This process's valid keys, by digest: until when each is trusted, and its holder."""
    return current_app.extensions.setdefault("voucher.trusted_api_keys", {})


def authenticate_api_key(key: str) -> KeyHolder | None:
    """The holder of a valid (unrevoked) key, or None. It runs before every provider
    request, so a valid key is trusted for KEY_TRUSTED_SECONDS before it is looked up
    again; an unknown or revoked key is looked up every time."""
    if not key.startswith(API_KEY_PREFIX):
        return None
    digest = _digest(key)
    trusted = _trusted_keys()
    now = time.monotonic()
    known = trusted.get(digest)
    if known is not None and known[0] > now:
        return known[1]
    row = db.session.connection().execute(_VALID_KEY, {"digest": digest}).first()
    if row is None:
        trusted.pop(digest, None)
        return None
    if len(trusted) >= _MAX_TRUSTED_KEYS:
        trusted.clear()
    holder = KeyHolder(*row)
    trusted[digest] = (now + KEY_TRUSTED_SECONDS, holder)
    return holder


def actor_for_api_key(holder: KeyHolder) -> Actor:
    """The Actor of a request made with a provider's API key."""
    return Actor(
        type="api_key",
        id=holder.id,
        label=f"api-key:{holder.prefix}",
        role="provider",
        provider_id=holder.provider_id,
        api_key_id=holder.id,
    )


def resolve_api_key(key: str) -> ApiKey | None:
    """The row of a key that authenticate_api_key() accepts, or None."""
    holder = authenticate_api_key(key)
    return None if holder is None else db.session.get(ApiKey, holder.id)
