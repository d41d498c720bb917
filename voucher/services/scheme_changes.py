"""Changes to an open scheme, each with the reason the ente gives (the determina that
decides it) and audited: its budget topped up, or cut no lower than what its vouchers
already hold; its validity extended, optionally with its vouchers still valid.

Both take the lock issuance takes on the scheme's row (issuance._lock_scheme), so a cut of
the budget and an issue never pass each other: whichever comes second reads what the first
committed."""

from datetime import date, timedelta

from sqlalchemy import func, select

from ..documents.signing import keyring, voucher_claims
from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..models import Scheme, Voucher
from ..models.status import SchemeStatus, VoucherStatus
from ..periods import MAX_YEAR
from . import Actor, audit, clock
from .ente import get_ente
from .money import format_euro
from .schemes import committed_cents

# A scheme lasts at most this many years from its start, however often it is extended.
MAX_SCHEME_YEARS = 5
# Vouchers an extension may carry along: those that can still be spent, or be again (an
# exhausted voucher comes back to life when a redemption is reversed).
EXTENDABLE_VOUCHERS = (VoucherStatus.ACTIVE, VoucherStatus.SUSPENDED, VoucherStatus.EXHAUSTED)
MAX_REASON = 500


def changeable(scheme: Scheme) -> bool:
    """Budget and validity change on an active scheme; a draft is edited with its form, and
    a closed scheme issues no more vouchers."""
    return scheme.status == SchemeStatus.ACTIVE


def _require_changeable(scheme: Scheme) -> None:
    if not changeable(scheme):
        raise Conflict("Budget e validità si modificano solo su una misura attiva.")


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed(
            errors={"reason": ["Indicare il motivo, ad esempio gli estremi della determina."]}
        )
    if len(text) > MAX_REASON:
        raise ValidationFailed(errors={"reason": [f"Al massimo {MAX_REASON} caratteri."]})
    return text


def lock_scheme(scheme: Scheme) -> Scheme:
    """Lock the scheme's row until the transaction ends (as issuance does), and read it
    afresh: another transaction may have changed it since it was loaded."""
    return db.session.execute(
        select(Scheme)
        .where(Scheme.id == scheme.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def change_budget(actor: Actor, scheme: Scheme, budget_cents: int, reason: str) -> bool:
    """Set the scheme's budget: any increase; a decrease only down to what its vouchers
    hold (committed_cents). Returns whether it changed (the same budget changes nothing)."""
    _require_changeable(scheme)
    reason = _reason(reason)
    if not isinstance(budget_cents, int) or budget_cents < 0:
        raise ValidationFailed(errors={"budget_cents": ["Il budget non può essere negativo."]})
    lock_scheme(scheme)
    committed = committed_cents(scheme.id)
    if budget_cents < committed:
        message = (
            f"Il budget non può scendere sotto quanto già impegnato dai buoni: "
            f"nuovo budget {format_euro(budget_cents)}, impegnato {format_euro(committed)}."
        )
        raise Conflict(
            message,
            errors={"budget_cents": [message]},
            budget_cents=budget_cents,
            committed_cents=committed,
        )
    old = scheme.budget_cents
    if budget_cents == old:
        return False
    scheme.budget_cents = budget_cents
    db.session.flush()
    audit.record(
        actor,
        "scheme.budget_changed",
        "scheme",
        scheme.id,
        old_budget_cents=old,
        budget_cents=budget_cents,
        committed_cents=committed,
        reason=reason,
    )
    return True


def latest_end(scheme: Scheme) -> date:
    """The last day an extension may reach: MAX_SCHEME_YEARS from the scheme's start,
    within the years the application supports."""
    start = scheme.valid_from
    try:
        anniversary = start.replace(year=start.year + MAX_SCHEME_YEARS)
    except ValueError:  # 29 February
        anniversary = start.replace(year=start.year + MAX_SCHEME_YEARS, day=28)
    return min(anniversary - timedelta(days=1), date(MAX_YEAR, 12, 31))


def extend_validity(
    actor: Actor,
    scheme: Scheme,
    valid_until: date,
    reason: str,
    *,
    extend_vouchers: bool = False,
    day: date | None = None,
) -> int:
    """Move the scheme's end to a later `valid_until`: vouchers issued from now on last
    until then. With `extend_vouchers`, its vouchers still valid today that end with the
    scheme are extended too, their QR payload signed again with the new expiry (a letter
    printed before shows the old one). Returns how many vouchers were extended."""
    _require_changeable(scheme)
    reason = _reason(reason)
    day = day or clock.today()
    lock_scheme(scheme)
    old = scheme.valid_until
    latest = latest_end(scheme)
    if not isinstance(valid_until, date):
        problem = "Indicare la nuova data di fine validità."
    elif valid_until <= old:
        problem = f"La nuova fine della validità deve seguire quella attuale ({old:%d/%m/%Y})."
    elif valid_until > latest:
        problem = (
            f"Una misura dura al massimo {MAX_SCHEME_YEARS} anni: "
            f"la validità può arrivare al più tardi al {latest:%d/%m/%Y}."
        )
    else:
        problem = None
    if problem:
        raise ValidationFailed(errors={"valid_until": [problem]})
    scheme.valid_until = valid_until
    extended = _extend_vouchers(actor, scheme, old, day) if extend_vouchers else 0
    db.session.flush()
    audit.record(
        actor,
        "scheme.validity_extended",
        "scheme",
        scheme.id,
        old_valid_until=old.isoformat(),
        valid_until=valid_until.isoformat(),
        vouchers_extended=extended,
        reason=reason,
    )
    return extended


def extendable_vouchers(scheme: Scheme, day: date | None = None) -> int:
    """How many vouchers an extension would carry along today (see extend_validity)."""
    day = day or clock.today()
    query = select(func.count()).select_from(Voucher)
    return db.session.execute(
        query.where(*_extendable(scheme, scheme.valid_until, day))
    ).scalar_one()


def _extendable(scheme: Scheme, end: date, day: date) -> tuple:
    return (
        Voucher.scheme_id == scheme.id,
        Voucher.status.in_([s.value for s in EXTENDABLE_VOUCHERS]),
        Voucher.valid_until == end,
        Voucher.valid_until >= day,
    )


def _extend_vouchers(actor: Actor, scheme: Scheme, old_end: date, day: date) -> int:
    """Extend the scheme's vouchers that end on `old_end` and are still valid on `day`,
    each locked (a redemption may be under way) and its QR payload signed again."""
    found = db.session.execute(
        select(Voucher)
        .where(*_extendable(scheme, old_end, day))
        .order_by(Voucher.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalars()
    ente = get_ente()
    issuer = ente.fiscal_code if ente else "ente"
    signer = keyring()
    count = 0
    for voucher in found:
        voucher.valid_until = scheme.valid_until
        voucher.qr_payload = signer.sign(
            voucher_claims(voucher.code, voucher.valid_from, scheme.valid_until, issuer)
        )
        audit.record(
            actor,
            "voucher.validity_extended",
            "voucher",
            voucher.code,
            scheme_id=scheme.id,
            old_valid_until=old_end.isoformat(),
            valid_until=scheme.valid_until.isoformat(),
        )
        count += 1
    return count
