"""The ente's privacy settings: the contacts its privacy notice names (GDPR art. 13(1)(a)-(b))
and how long each class of data is kept, read by the notice and by the retention job.

The retention periods come from the configuration (RETENTION_PERSONAL_YEARS,
RETENTION_ACCOUNTING_YEARS); the ente may set its own, within the limits below.
"""

import re
from dataclasses import dataclass

from flask import current_app

from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..models import Ente
from . import Actor, audit
from .ente import get_ente

# Art. 2220 c.c.: accounting records are kept ten years. Never less, whatever is configured.
MIN_ACCOUNTING_YEARS = 10
MAX_ACCOUNTING_YEARS = 100
# Personal details beyond the accounts: at least one year, and never longer than the
# accounts they explain.
MIN_PERSONAL_YEARS = 1
MAX_PERSONAL_YEARS = 10
CONTACTS = ("pec", "dpo_name", "dpo_email", "dpo_pec")
YEARS = ("retention_personal_years", "retention_accounting_years")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A setting that the caller leaves out: it stays as it is.
KEEP = object()


@dataclass(frozen=True)
class PrivacySettings:
    """The contacts (None when not set) and the retention periods in force, in years."""

    pec: str | None
    dpo_name: str | None
    dpo_email: str | None
    dpo_pec: str | None
    retention_personal_years: int
    retention_accounting_years: int
    # The configuration's periods, in force where the ente has set none.
    retention_personal_years_default: int
    retention_accounting_years_default: int
    # Batch letters with PINs: days kept at most (voucher.services.batch_files).
    letters_keep_days: int


def default_personal_years() -> int:
    configured = int(current_app.config.get("RETENTION_PERSONAL_YEARS", 5))
    return min(MAX_PERSONAL_YEARS, max(MIN_PERSONAL_YEARS, configured))


def default_accounting_years() -> int:
    configured = int(current_app.config.get("RETENTION_ACCOUNTING_YEARS", MIN_ACCOUNTING_YEARS))
    return min(MAX_ACCOUNTING_YEARS, max(MIN_ACCOUNTING_YEARS, configured))


def privacy_settings(ente: Ente | None = None) -> PrivacySettings:
    """The settings in force: the ente's where it has set them, the defaults otherwise."""
    ente = ente or get_ente()
    personal, accounting = default_personal_years(), default_accounting_years()
    return PrivacySettings(
        pec=ente.pec if ente else None,
        dpo_name=ente.dpo_name if ente else None,
        dpo_email=ente.dpo_email if ente else None,
        dpo_pec=ente.dpo_pec if ente else None,
        retention_personal_years=(ente and ente.retention_personal_years) or personal,
        retention_accounting_years=(ente and ente.retention_accounting_years) or accounting,
        retention_personal_years_default=personal,
        retention_accounting_years_default=accounting,
        letters_keep_days=max(0, int(current_app.config.get("BATCH_LETTERS_KEEP_DAYS", 7))),
    )


def _clean_text(value, limit: int) -> str | None:
    text = " ".join(str(value or "").split())
    return text[:limit] or None


def _years(name: str, value) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(errors={name: ["Indicare un numero intero di anni."]}) from None


def _check(values: dict) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name in ("pec", "dpo_email", "dpo_pec"):
        value = values.get(name)
        if value is not None and not _EMAIL.match(value):
            errors[name] = ["Indirizzo di posta elettronica non valido (es. dpo@comune.it)."]
    personal = values.get("retention_personal_years")
    if personal is not None and not MIN_PERSONAL_YEARS <= personal <= MAX_PERSONAL_YEARS:
        errors["retention_personal_years"] = [
            f"I dati personali si conservano da {MIN_PERSONAL_YEARS} a {MAX_PERSONAL_YEARS} "
            "anni dalla fine dell'ultimo buono."
        ]
    accounting = values.get("retention_accounting_years")
    if accounting is not None and not MIN_ACCOUNTING_YEARS <= accounting <= MAX_ACCOUNTING_YEARS:
        errors["retention_accounting_years"] = [
            f"Le scritture contabili si conservano almeno {MIN_ACCOUNTING_YEARS} anni "
            f"(art. 2220 c.c.) e al massimo {MAX_ACCOUNTING_YEARS}."
        ]
    return errors


def update_privacy_settings(
    actor: Actor,
    *,
    pec=KEEP,
    dpo_name=KEEP,
    dpo_email=KEEP,
    dpo_pec=KEEP,
    retention_personal_years=KEEP,
    retention_accounting_years=KEEP,
) -> Ente:
    """Set some of the ente's privacy settings; what is left out stays as it is, None clears
    a contact or brings a period back to the default."""
    ente = get_ente()
    if ente is None:
        raise NotFound("L'ente non è ancora stato configurato.")
    given = {
        "pec": pec,
        "dpo_name": dpo_name,
        "dpo_email": dpo_email,
        "dpo_pec": dpo_pec,
        "retention_personal_years": retention_personal_years,
        "retention_accounting_years": retention_accounting_years,
    }
    values = {}
    for name, value in given.items():
        if value is KEEP:
            continue
        if name in YEARS:
            values[name] = _years(name, value)
        else:
            values[name] = _clean_text(value, 200 if name == "dpo_name" else 254)
    errors = _check(values)
    if errors:
        raise ValidationFailed("Impostazioni privacy non valide", errors=errors)
    changed = sorted(name for name, value in values.items() if getattr(ente, name) != value)
    for name in changed:
        setattr(ente, name, values[name])
    db.session.flush()
    if changed:
        # The names of the settings and the periods: the notice shows the contacts anyway.
        periods = {name: getattr(ente, name) for name in YEARS if name in changed}
        audit.record(actor, "ente.privacy_updated", "ente", ente.id, fields=changed, **periods)
    return ente
