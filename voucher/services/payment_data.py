"""A provider's payment data: codice fiscale, IBAN, DURC and the dedicated-account
declaration (L. 136/2010), which voucher.services.payments checks before each payment."""

from datetime import date, timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import Provider
from . import Actor, audit, clock
from .identifiers import normalise_iban, normalise_provider_fiscal_code

DURC_NOTICE_DAYS = 30
PAYMENT_FIELDS = ("fiscal_code", "iban", "durc_valid_until", "dedicated_account_declared")


def update_payment_data(actor: Actor, provider: Provider, **fields) -> list[str]:
    """Record the provider's codice fiscale, IBAN, DURC expiry and dedicated-account
    declaration (only the fields given). Each change is audited with its old and new value,
    since a changed IBAN is where payment fraud starts. Returns the fields that changed."""
    values = {}
    if "fiscal_code" in fields:
        code = fields["fiscal_code"]
        values["fiscal_code"] = normalise_provider_fiscal_code(code) if code else None
    if "iban" in fields:
        values["iban"] = normalise_iban(fields["iban"]) if fields["iban"] else None
    if "durc_valid_until" in fields:
        values["durc_valid_until"] = fields["durc_valid_until"]
    if "dedicated_account_declared" in fields:
        values["dedicated_account_declared"] = bool(fields["dedicated_account_declared"])
    changes = {}
    for key, value in values.items():
        before = getattr(provider, key)
        if before != value:
            changes[key] = {"from": _plain(before), "to": _plain(value)}
            setattr(provider, key, value)
    if changes:
        db.session.flush()
        audit.record(actor, "provider.payment_data_changed", "provider", provider.id, **changes)
    return sorted(changes)


def _plain(value):
    return value.isoformat() if isinstance(value, date) else value


def durc_notices(today: date | None = None, days: int = DURC_NOTICE_DAYS) -> list[dict]:
    """Active providers whose DURC has expired, is missing, or expires within `days`: the
    list the ragioneria asks for a renewal from, soonest first (missing ones last)."""
    today = today or clock.today()
    horizon = today + timedelta(days=days)
    rows = []
    for provider in db.session.execute(
        select(Provider).where(Provider.status == "active").order_by(Provider.name, Provider.id)
    ).scalars():
        until = provider.durc_valid_until
        if until is None:
            state = "missing"
        elif until < today:
            state = "expired"
        elif until <= horizon:
            state = "expiring"
        else:
            continue
        rows.append(
            {
                "provider_id": provider.id,
                "provider_name": provider.name,
                "vat_number": provider.vat_number,
                "durc_valid_until": until,
                "days_left": (until - today).days if until else None,
                "state": state,
            }
        )
    rows.sort(key=lambda r: (r["durc_valid_until"] is None, r["durc_valid_until"] or today))
    return rows
