"""Vouchers once issued: finding one, the beneficiary's sign-in with code and PIN, and
what staff may do to it (suspend, reactivate, revoke, replace, reset the PIN), each action
allowed only in the statuses that VOUCHER_ACTIONS names; and the nightly expiry."""

from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from ..errors import Conflict, InvalidCodeOrPin, Locked, VoucherNotFound
from ..extensions import db
from ..models import Voucher, VoucherCompetence, VoucherCoverage
from ..models.status import OPEN_VOUCHER_STATUSES, VOUCHER_ACTIONS, VoucherStatus, voucher_allows
from . import Actor, audit, beneficiary_sessions, clock, codes
from .issuance import new_pin, new_voucher, pin_pepper
from .wording import N_


def effective_status(voucher: Voucher, day: date | None = None) -> str:
    """The status as a reader needs it: past its last day a voucher is expired, even before
    the nightly job (expire_vouchers) records it."""
    day = day or clock.today()
    if voucher.status in OPEN_VOUCHER_STATUSES and voucher.valid_until < day:
        return VoucherStatus.EXPIRED
    return voucher.status


def _locked(code: str):
    """The voucher row, locked until the transaction ends and read afresh: an object the
    caller loaded earlier is overwritten, so checks and writes never use a stale balance."""
    return (
        select(Voucher)
        .where(Voucher.code == code)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def lock_voucher(code: str) -> Voucher:
    """Fetch a voucher and lock its row until the transaction ends (PostgreSQL); on SQLite the
    write transaction is already exclusive."""
    voucher = db.session.execute(_locked(code)).scalar_one_or_none()
    if voucher is None:
        raise VoucherNotFound("Nessun buono con questo codice.")
    return voucher


def get_voucher(code: str) -> Voucher:
    """The voucher with this code, as typed or scanned (spaces, dashes and case ignored)."""
    normal = codes.normalise_code(code or "")
    voucher = (
        normal
        and db.session.execute(select(Voucher).where(Voucher.code == normal)).scalar_one_or_none()
    )
    if not voucher:
        raise VoucherNotFound("Nessun buono con questo codice.")
    return voucher


def revoke_voucher(actor: Actor, voucher: Voucher, reason: str) -> Voucher:
    """Revoke a voucher; its unspent balance goes back to the scheme's budget."""
    voucher = lock_voucher(voucher.code)
    if not voucher_allows(voucher.status, "revoke"):  # revoked or expired: closed for good
        already = "revocato" if voucher.status == VoucherStatus.REVOKED else "scaduto"
        raise Conflict(f"Il buono è già {already}.")
    voucher.status = VoucherStatus.REVOKED
    voucher.revoked_at = clock.now()
    voucher.revoke_reason = reason
    beneficiary_sessions.end_sessions(voucher)  # a lost letter's holder reads nothing more
    db.session.flush()
    audit.record(
        actor,
        "voucher.revoked",
        "voucher",
        voucher.code,
        reason=reason,
        released_cents=voucher.balance_cents,
    )
    return voucher


def replace_voucher(actor: Actor, voucher: Voucher, reason: str) -> tuple[Voucher, str]:
    """Replace a lost voucher: revoke it and issue a new code for exactly its remaining
    balance. No new money: the budget sees the released balance committed again."""
    voucher = lock_voucher(voucher.code)
    if not voucher_allows(voucher.status, "replace"):
        raise Conflict(N_("Si può sostituire solo un buono attivo o sospeso."))
    remaining = voucher.balance_cents
    revoke_voucher(actor, voucher, reason)
    new, pin = new_voucher(
        voucher.scheme,
        voucher.beneficiary,
        remaining,
        voucher.coverage_percent,
        actor,
        comune=voucher.comune,
        replaces_id=voucher.id,
    )
    # The replacement carries on the same terms: its Comune and coverage history are the
    # lost voucher's, period by period.
    new.competences = [
        VoucherCompetence(
            comune_id=p.comune_id,
            from_date=p.from_date,
            reason=p.reason,
            created_by_id=p.created_by_id,
        )
        for p in voucher.competences
    ]
    new.coverages = [
        VoucherCoverage(
            coverage_percent=p.coverage_percent,
            from_date=p.from_date,
            isee_record_id=p.isee_record_id,
        )
        for p in voucher.coverages
    ]
    db.session.flush()
    audit.record(
        actor, "voucher.replaced", "voucher", new.code, replaces=voucher.code, value_cents=remaining
    )
    return new, pin


def suspend_voucher(actor: Actor, voucher: Voucher, reason: str) -> Voucher:
    """Stop a voucher for a while: no provider may record a service on it until reactivated."""
    voucher = lock_voucher(voucher.code)
    if not voucher_allows(voucher.status, "suspend"):
        raise Conflict(N_("Si può sospendere solo un buono attivo."))
    voucher.status = VoucherStatus.SUSPENDED
    db.session.flush()
    audit.record(actor, "voucher.suspended", "voucher", voucher.code, reason=reason)
    return voucher


def reactivate_voucher(actor: Actor, voucher: Voucher, reason: str | None = None) -> Voucher:
    """Lift a suspension: the voucher is active again, or exhausted if nothing is left."""
    voucher = lock_voucher(voucher.code)
    if not voucher_allows(voucher.status, "reactivate"):
        raise Conflict(N_("Il buono non è sospeso."))
    voucher.status = VoucherStatus.ACTIVE if voucher.balance_cents > 0 else VoucherStatus.EXHAUSTED
    db.session.flush()
    extra = {"reason": reason} if reason else {}
    audit.record(actor, "voucher.reactivated", "voucher", voucher.code, **extra)
    return voucher


def reset_pin(actor: Actor, voucher: Voucher, reason: str | None = None) -> str:
    """A new PIN (the old one stops working), returned once; also lifts a lockout. Only for
    a voucher that may still be spent: active or suspended, and not past its last day."""
    voucher = lock_voucher(voucher.code)
    if not voucher_allows(effective_status(voucher), "reset_pin"):
        raise Conflict(N_("Il PIN si può rigenerare solo per un buono attivo o sospeso."))
    pin, voucher.pin_salt, voucher.pin_hash = new_pin()
    voucher.pin_failures = 0
    voucher.pin_locked_until = None
    beneficiary_sessions.end_sessions(voucher)  # whoever knew the old PIN reads nothing more
    db.session.flush()
    extra = {"reason": reason} if reason else {}
    audit.record(actor, "voucher.pin_reset", "voucher", voucher.code, **extra)
    return pin


def expire_vouchers(actor: Actor, day: date | None = None) -> int:
    """The nightly job: vouchers past their validity become expired; their unspent balance
    returns to the budget. Returns how many expired."""
    day = day or clock.today()
    expiring = Voucher.status.in_(sorted(VOUCHER_ACTIONS["expire"]))
    codes_ = (
        db.session.execute(select(Voucher.code).where(Voucher.valid_until < day, expiring))
        .scalars()
        .all()
    )
    if not codes_:
        return 0
    db.session.execute(
        update(Voucher)
        .where(Voucher.code.in_(codes_), expiring)
        .values(status=VoucherStatus.EXPIRED)
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    for code in codes_:
        audit.record(actor, "voucher.expired", "voucher", code, day=day)
    return len(codes_)


def check_pin(code_text: str, pin: str, now: datetime | None = None) -> Voucher:
    """The beneficiary's sign-in. The same error for a wrong code and a wrong PIN; after
    PIN_MAX_ATTEMPTS wrong PINs the code is locked for PIN_LOCK_MINUTES (kept in the
    database, so every worker agrees). A refusal keeps its work (`keeps_work`): the
    boundary commits the failure count."""
    now = now or clock.now()
    code = codes.normalise_code(code_text or "")
    voucher = code and db.session.execute(_locked(code)).scalar_one_or_none()
    if not voucher:
        raise InvalidCodeOrPin("Codice o PIN non corretti.")
    locked_until = voucher.pin_locked_until
    if locked_until is not None and locked_until.tzinfo is None:
        locked_until = locked_until.replace(tzinfo=now.tzinfo)
    if locked_until is not None and locked_until > now:
        raise Locked(N_("Troppi tentativi errati: il codice è bloccato per qualche minuto."))
    if not codes.pin_matches(pin_pepper(), voucher.pin_salt, (pin or "").strip(), voucher.pin_hash):
        voucher.pin_failures += 1
        if voucher.pin_failures >= current_app.config["PIN_MAX_ATTEMPTS"]:
            voucher.pin_failures = 0
            voucher.pin_locked_until = now + timedelta(
                minutes=current_app.config["PIN_LOCK_MINUTES"]
            )
            audit.record(
                Actor("beneficiary", None, "beneficiary"),
                "voucher.pin_locked",
                "voucher",
                voucher.code,
            )
        db.session.flush()
        raise InvalidCodeOrPin("Codice o PIN non corretti.")
    if voucher.pin_failures:
        voucher.pin_failures = 0
        db.session.flush()
    return voucher


def list_revocations(since: datetime | None = None) -> list[tuple[str, datetime]]:
    """Codes revoked at or after `since` (all of them without it), oldest first: what an
    offline scanner needs to refuse a revoked voucher whose signature is still good."""
    query = select(Voucher.code, Voucher.revoked_at).where(
        Voucher.status == VoucherStatus.REVOKED, Voucher.revoked_at.is_not(None)
    )
    if since is not None:
        query = query.where(Voucher.revoked_at >= since)
    return [
        (row.code, row.revoked_at)
        for row in db.session.execute(query.order_by(Voucher.revoked_at, Voucher.id))
    ]
