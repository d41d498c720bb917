"""Vouchers: eligibility, issuance, revocation, replacement, PINs and expiry."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from ..documents.signing import keyring, voucher_claims
from ..errors import (
    BudgetExceeded,
    Conflict,
    InvalidCodeOrPin,
    LimitReached,
    Locked,
    NotEligible,
    SchemeNotActive,
    VoucherNotFound,
)
from ..extensions import db
from ..models import Beneficiary, Ente, Scheme, Voucher
from . import Actor, audit, clock, codes
from .ente import get_ente
from .identifiers import age_on
from .schemes import committed_cents, coverage_for

ACTIVE_STATUSES = ("active", "suspended")  # counted against max_active_per_beneficiary


@dataclass(frozen=True)
class RuleResult:
    rule: str
    ok: bool
    message: str


def check_eligibility(
    scheme: Scheme, person: Beneficiary, day: date, ente: Ente | None = None
) -> list[RuleResult]:
    """Every eligibility rule of the scheme, in order, with its outcome in plain Italian."""
    results = []
    cats = set(scheme.eligible_categories or [])
    if cats:
        ok = bool(cats & set(person.categories or []))
        results.append(
            RuleResult(
                "category",
                ok,
                "Categoria ammessa"
                if ok
                else "Nessuna delle categorie del beneficiario è ammessa dalla misura",
            )
        )
    age = age_on(person.birth_date, day)
    if scheme.min_age is not None:
        ok = age >= scheme.min_age
        results.append(
            RuleResult(
                "min_age",
                ok,
                f"Età {age} anni" + ("" if ok else f", inferiore al minimo di {scheme.min_age}"),
            )
        )
    if scheme.max_age is not None:
        ok = age <= scheme.max_age
        results.append(
            RuleResult(
                "max_age",
                ok,
                f"Età {age} anni" + ("" if ok else f", superiore al massimo di {scheme.max_age}"),
            )
        )
    needs_isee = scheme.isee_max_cents is not None or bool(scheme.copay_bands)
    isee_valid = person.isee_cents is not None and (
        person.isee_valid_until is None or person.isee_valid_until >= day
    )
    if needs_isee:
        results.append(
            RuleResult(
                "isee_valid", isee_valid, "ISEE valido" if isee_valid else "ISEE mancante o scaduto"
            )
        )
    if scheme.isee_max_cents is not None and isee_valid:
        ok = person.isee_cents <= scheme.isee_max_cents
        results.append(
            RuleResult(
                "isee_max",
                ok,
                "ISEE entro la soglia" if ok else "ISEE superiore alla soglia della misura",
            )
        )
    if scheme.copay_bands and isee_valid:
        ok = coverage_for(scheme, person.isee_cents) is not None
        results.append(
            RuleResult(
                "copay_band",
                ok,
                "Fascia ISEE individuata"
                if ok
                else "ISEE oltre l'ultima fascia di compartecipazione",
            )
        )
    ente = ente or get_ente()
    resident = ente is not None and person.comune_id in {c.id for c in ente.comuni}
    results.append(
        RuleResult(
            "residence",
            resident,
            "Residente in un Comune dell'ente"
            if resident
            else "Non residente nei Comuni dell'ente",
        )
    )
    return results


def effective_status(voucher: Voucher, day: date | None = None) -> str:
    """The status as a reader needs it: past its last day a voucher is expired, even before
    the nightly job (expire_vouchers) records it."""
    day = day or clock.today()
    if voucher.status in ACTIVE_STATUSES and voucher.valid_until < day:
        return "expired"
    return voucher.status


def active_vouchers_count(scheme: Scheme, person: Beneficiary) -> int:
    return db.session.execute(
        select(func.count())
        .select_from(Voucher)
        .where(
            Voucher.scheme_id == scheme.id,
            Voucher.beneficiary_id == person.id,
            Voucher.status.in_(ACTIVE_STATUSES),
        )
    ).scalar_one()


def _lock_scheme(scheme: Scheme) -> None:
    """Serialise issuance per scheme, so that the budget check holds under concurrency."""
    db.session.execute(select(Scheme.id).where(Scheme.id == scheme.id).with_for_update()).one()


_ISSUING = "voucher.issuing"  # session.info: what issue_voucher keeps for one transaction


@dataclass
class _Issuing:
    transaction: object
    ente: Ente | None
    committed: dict[int, int]  # scheme id -> committed cents, schemes locked by this transaction


def _issuing() -> _Issuing:
    """What many issue_voucher calls in one transaction share: the ente, and each scheme's
    committed cents, read once under the scheme's lock and then kept by adding each voucher
    issued. While the lock is held no other transaction issues on the scheme, and any other
    change (revocation, expiry, replacement, reversal) releases budget or leaves it as it is,
    so the kept figure never understates it. Any transaction or savepoint boundary starts
    afresh."""
    session = db.session()
    state = session.info.get(_ISSUING)
    transaction = session.get_nested_transaction() or session.get_transaction()
    if state is None or transaction is None or state.transaction is not transaction:
        ente = get_ente()  # begins the transaction when none is open yet
        transaction = session.get_nested_transaction() or session.get_transaction()
        state = session.info[_ISSUING] = _Issuing(transaction, ente, {})
    return state


def _new_voucher(
    scheme: Scheme,
    person: Beneficiary,
    value_cents: int,
    coverage: int,
    actor: Actor,
    *,
    ente: Ente | None = None,
    **extra,
) -> tuple[Voucher, str]:
    pin = codes.generate_pin()
    salt = codes.new_salt()
    code = codes.generate_code()
    ente = ente or get_ente()
    payload = keyring().sign(
        voucher_claims(
            code, scheme.valid_from, scheme.valid_until, ente.fiscal_code if ente else "ente"
        )
    )
    voucher = Voucher(
        code=code,
        scheme_id=scheme.id,
        beneficiary_id=person.id,
        value_cents=value_cents,
        balance_cents=value_cents,
        coverage_percent=coverage,
        valid_from=scheme.valid_from,
        valid_until=scheme.valid_until,
        status="active",
        pin_salt=salt,
        pin_hash=codes.hash_pin(pin_pepper(), salt, pin),
        qr_payload=payload,
        issued_by_id=actor.user_id,
        **extra,
    )
    voucher.scheme, voucher.beneficiary = scheme, person
    db.session.add(voucher)
    return voucher, pin


def issue_voucher(
    actor: Actor,
    scheme: Scheme,
    person: Beneficiary,
    *,
    day: date | None = None,
    batch_id: int | None = None,
    flush: bool = True,
) -> tuple[Voucher, str]:
    """Issue a voucher of the scheme's face value. Returns the voucher and its PIN, which is
    shown once and stored only as a keyed digest. With flush=False the voucher is written at
    the caller's next flush: many calls in one transaction then cost one INSERT batch."""
    day = day or clock.today()
    if scheme.status != "active" or day > scheme.valid_until:
        raise SchemeNotActive(f"La misura «{scheme.name}» non è attiva.")
    with db.session.no_autoflush:  # nothing read here depends on vouchers not yet flushed
        issuing = _issuing()
        failed = [r for r in check_eligibility(scheme, person, day, issuing.ente) if not r.ok]
    if failed:
        raise NotEligible(f"{failed[0].message} (regola: {failed[0].rule}).")
    if scheme.id not in issuing.committed:
        _lock_scheme(scheme)
        issuing.committed[scheme.id] = committed_cents(scheme.id)
    if (
        scheme.max_active_per_beneficiary is not None
        and active_vouchers_count(scheme, person) >= scheme.max_active_per_beneficiary
    ):
        raise LimitReached(
            f"Il beneficiario ha già {scheme.max_active_per_beneficiary} buoni attivi "
            "per questa misura."
        )
    if issuing.committed[scheme.id] + scheme.face_value_cents > scheme.budget_cents:
        raise BudgetExceeded(
            f"Il budget della misura «{scheme.name}» non basta per un altro buono."
        )
    coverage = coverage_for(scheme, person.isee_cents)
    voucher, pin = _new_voucher(
        scheme,
        person,
        scheme.face_value_cents,
        coverage,
        actor,
        ente=issuing.ente,
        batch_id=batch_id,
    )
    issuing.committed[scheme.id] += voucher.value_cents
    if flush:
        db.session.flush()
    audit.record(
        actor,
        "voucher.issued",
        "voucher",
        voucher.code,
        scheme_id=scheme.id,
        value_cents=voucher.value_cents,
        coverage_percent=coverage,
        batch_id=batch_id,
    )
    return voucher, pin


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
    if voucher.status in ("revoked", "expired"):
        raise Conflict(
            f"Il buono è già {'revocato' if voucher.status == 'revoked' else 'scaduto'}."
        )
    voucher.status = "revoked"
    voucher.revoked_at = clock.now()
    voucher.revoke_reason = reason
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
    if voucher.status not in ("active", "suspended"):
        raise Conflict("Si può sostituire solo un buono attivo o sospeso.")
    remaining = voucher.balance_cents
    revoke_voucher(actor, voucher, reason)
    new, pin = _new_voucher(
        voucher.scheme,
        voucher.beneficiary,
        remaining,
        voucher.coverage_percent,
        actor,
        replaces_id=voucher.id,
    )
    db.session.flush()
    audit.record(
        actor, "voucher.replaced", "voucher", new.code, replaces=voucher.code, value_cents=remaining
    )
    return new, pin


def suspend_voucher(actor: Actor, voucher: Voucher, reason: str) -> Voucher:
    voucher = lock_voucher(voucher.code)
    if voucher.status != "active":
        raise Conflict("Si può sospendere solo un buono attivo.")
    voucher.status = "suspended"
    db.session.flush()
    audit.record(actor, "voucher.suspended", "voucher", voucher.code, reason=reason)
    return voucher


def reactivate_voucher(actor: Actor, voucher: Voucher, reason: str | None = None) -> Voucher:
    voucher = lock_voucher(voucher.code)
    if voucher.status != "suspended":
        raise Conflict("Il buono non è sospeso.")
    voucher.status = "active" if voucher.balance_cents > 0 else "exhausted"
    db.session.flush()
    extra = {"reason": reason} if reason else {}
    audit.record(actor, "voucher.reactivated", "voucher", voucher.code, **extra)
    return voucher


def reset_pin(actor: Actor, voucher: Voucher, reason: str | None = None) -> str:
    """A new PIN (the old one stops working), returned once; also lifts a lockout."""
    pin = codes.generate_pin()
    voucher.pin_salt = codes.new_salt()
    voucher.pin_hash = codes.hash_pin(pin_pepper(), voucher.pin_salt, pin)
    voucher.pin_failures = 0
    voucher.pin_locked_until = None
    db.session.flush()
    extra = {"reason": reason} if reason else {}
    audit.record(actor, "voucher.pin_reset", "voucher", voucher.code, **extra)
    return pin


def expire_vouchers(actor: Actor, day: date | None = None) -> int:
    """The nightly job: vouchers past their validity become expired; their unspent balance
    returns to the budget. Returns how many expired."""
    day = day or clock.today()
    codes_ = (
        db.session.execute(
            select(Voucher.code).where(
                Voucher.valid_until < day, Voucher.status.in_(("active", "suspended"))
            )
        )
        .scalars()
        .all()
    )
    if not codes_:
        return 0
    db.session.execute(
        update(Voucher)
        .where(Voucher.code.in_(codes_), Voucher.status.in_(("active", "suspended")))
        .values(status="expired")
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    for code in codes_:
        audit.record(actor, "voucher.expired", "voucher", code, day=day)
    return len(codes_)


def pin_pepper() -> str:
    return current_app.config["PIN_PEPPER"]


def check_pin(code_text: str, pin: str, now: datetime | None = None) -> Voucher:
    """The beneficiary's sign-in. The same error for a wrong code and a wrong PIN; after
    PIN_MAX_ATTEMPTS wrong PINs the code is locked for PIN_LOCK_MINUTES (kept in the
    database, so every worker agrees). The caller must commit even on failure."""
    now = now or clock.now()
    code = codes.normalise_code(code_text or "")
    voucher = code and db.session.execute(_locked(code)).scalar_one_or_none()
    if not voucher:
        raise InvalidCodeOrPin("Codice o PIN non corretti.")
    locked_until = voucher.pin_locked_until
    if locked_until is not None and locked_until.tzinfo is None:
        locked_until = locked_until.replace(tzinfo=now.tzinfo)
    if locked_until is not None and locked_until > now:
        raise Locked("Troppi tentativi errati: il codice è bloccato per qualche minuto.")
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
        Voucher.status == "revoked", Voucher.revoked_at.is_not(None)
    )
    if since is not None:
        query = query.where(Voucher.revoked_at >= since)
    return [
        (row.code, row.revoked_at)
        for row in db.session.execute(query.order_by(Voucher.revoked_at, Voucher.id))
    ]
