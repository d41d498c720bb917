"""A person's notification preferences: the channels they accept and the language of the
messages (voucher.notifications reads them when it composes and delivers)."""

from ..errors import ValidationFailed
from ..extensions import db
from ..models import Beneficiary
from . import Actor, audit
from .wording import N_

LANGUAGES = ("it", "en")


def update(actor: Actor, person: Beneficiary, *, email: bool, io: bool, language: str) -> list:
    """Set the preferences; the audit names the fields changed, never their values."""
    if language not in LANGUAGES:
        raise ValidationFailed(errors={"notify_language": [N_("Lingua non disponibile.")]})
    changed = []
    for key, value in (("notify_email", email), ("notify_io", io), ("notify_language", language)):
        if getattr(person, key) != value:
            setattr(person, key, value)
            changed.append(key)
    db.session.flush()
    if changed:
        audit.record(
            actor, "beneficiary.preferences_changed", "beneficiary", person.id, fields=changed
        )
    return changed
