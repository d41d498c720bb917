"""The providers a scheme is limited to. None listed: every provider accredited for the
scheme's services may take its vouchers. Some listed: only those (the ente chose them, by
a tender or an agreement), still each only for the services and dates it is accredited for.

Redemption reads the list in the same statement as the rest of its terms
(redemption_sql); the family's letter and balance page read it through
providers.providers_for_scheme."""

from datetime import date

from sqlalchemy import or_, select

from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..models import Accreditation, Provider, Scheme
from ..models.status import SchemeStatus
from . import Actor, audit, clock

MAX_LISTED = 500


def provider_ids(scheme: Scheme) -> list[int]:
    """The ids the scheme is limited to, in order; empty when it is open to all."""
    return sorted(p.id for p in scheme.providers)


def candidate_providers(scheme: Scheme, day: date | None = None) -> list[Provider]:
    """The providers that may be listed: accredited for at least one of the scheme's
    services, with an accreditation not ended before `day` (today); and those listed
    already, so that they can be taken off."""
    day = day or clock.today()
    query = (
        select(Provider)
        .join(Accreditation)
        .where(
            Accreditation.service_code.in_(scheme.service_codes),
            or_(Accreditation.valid_until.is_(None), Accreditation.valid_until >= day),
        )
        .distinct()
    )
    found = set(db.session.execute(query).scalars()) | set(scheme.providers)
    return sorted(found, key=lambda p: (p.name.casefold(), p.id))


def set_scheme_providers(
    actor: Actor, scheme: Scheme, ids: list[int], *, day: date | None = None
) -> bool:
    """Limit the scheme to these providers (an empty list opens it to every accredited
    provider again). Returns whether the list changed; each change is audited."""
    if scheme.status == SchemeStatus.CLOSED:
        raise Conflict("I fornitori di una misura chiusa non si modificano.")
    wanted = sorted(set(ids or []))
    if len(wanted) > MAX_LISTED:
        raise ValidationFailed(errors={"provider_ids": [f"Al massimo {MAX_LISTED} fornitori."]})
    allowed = {p.id: p for p in candidate_providers(scheme, day)}
    refused = [i for i in wanted if i not in allowed]
    if refused:
        raise ValidationFailed(
            errors={
                "provider_ids": [
                    "Fornitori sconosciuti o non accreditati per i servizi della misura: "
                    + ", ".join(str(i) for i in refused)
                    + "."
                ]
            }
        )
    old = provider_ids(scheme)
    if wanted == old:
        return False
    scheme.providers = [allowed[i] for i in wanted]
    db.session.flush()
    audit.record(
        actor,
        "scheme.providers_changed",
        "scheme",
        scheme.id,
        old_provider_ids=old,
        provider_ids=wanted,
    )
    return True
