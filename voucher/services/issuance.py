"""Issuing a voucher. The checks that decide whether a person may have one are written once
here, and the issue page's checklist, the single issue and the bulk dry run all call them:
the scheme is active, the person is eligible, the active-voucher limit and the budget hold.
Then the voucher itself: its code, signed payload and PIN."""

from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import func, select

from ..documents.signing import keyring, voucher_claims
from ..errors import BudgetExceeded, LimitReached, SchemeNotActive, ValidationFailed
from ..extensions import db
from ..models import (
    Beneficiary,
    Comune,
    Ente,
    IseeRecord,
    Scheme,
    Voucher,
    VoucherCompetence,
    VoucherCoverage,
)
from ..models.status import OPEN_VOUCHER_STATUSES, SchemeStatus, VoucherStatus
from . import Actor, audit, clock, codes, reach
from .competence import competence_for_issue
from .eligibility import RuleResult, check_eligibility
from .ente import get_ente
from .isee import coverage_terms
from .money import format_euro
from .schemes import committed_cents
from .wording import N_

# The checks, each with its checklist line and the error that refuses the issue


def check_scheme_active(scheme: Scheme, day: date) -> RuleResult:
    """The scheme issues vouchers: it is active and its validity has not ended."""
    ok = scheme.status == SchemeStatus.ACTIVE and day <= scheme.valid_until
    message = (
        N_("Misura attiva")
        if ok
        else N_("La misura «%(name)s» non è attiva") % {"name": scheme.name}
    )
    return RuleResult("scheme_active", ok, message, None if ok else SchemeNotActive(message + "."))


def active_vouchers_count(scheme: Scheme, person: Beneficiary) -> int:
    """The person's vouchers of the scheme that count against its limit (active or suspended)."""
    return db.session.execute(
        select(func.count())
        .select_from(Voucher)
        .where(
            Voucher.scheme_id == scheme.id,
            Voucher.beneficiary_id == person.id,
            Voucher.status.in_(sorted(OPEN_VOUCHER_STATUSES)),
        )
    ).scalar_one()


def check_active_limit(
    scheme: Scheme, person: Beneficiary, count: int | None = None
) -> list[RuleResult]:
    """The scheme's limit of active vouchers per person (none when it sets no limit);
    `count` saves the query when the caller already knows it."""
    limit = scheme.max_active_per_beneficiary
    if limit is None:
        return []
    count = active_vouchers_count(scheme, person) if count is None else count
    ok = count < limit
    message = N_("Buoni attivi per questa misura: %(count)s su un massimo di %(limit)s") % {
        "count": count,
        "limit": limit,
    }
    refusal = (
        None
        if ok
        else LimitReached(
            N_("Il beneficiario ha già %(limit)s buoni attivi per questa misura.")
            % {"limit": limit}
        )
    )
    return [RuleResult("max_active", ok, message, refusal)]


def check_budget(scheme: Scheme, committed: int) -> RuleResult:
    """What is left of the scheme's budget, `committed` taken, covers one more voucher."""
    left = scheme.budget_cents - committed
    ok = scheme.face_value_cents <= left
    message = N_("Budget residuo %(left)s, il buono ne impegna %(value)s") % {
        "left": format_euro(max(left, 0)),
        "value": format_euro(scheme.face_value_cents),
    }
    refusal = (
        None
        if ok
        else BudgetExceeded(
            N_("Il budget della misura «%(name)s» non basta per un altro buono.")
            % {"name": scheme.name}
        )
    )
    return RuleResult("budget", ok, message, refusal)


def issuance_checks(
    scheme: Scheme,
    person: Beneficiary,
    day: date | None = None,
    *,
    active_count: int | None = None,
    committed: int | None = None,
) -> list[RuleResult]:
    """The scheme's state, the eligibility rules, the active-voucher limit and the budget,
    each with its outcome in plain Italian. `committed` may include vouchers not yet issued
    (the rows above in a file)."""
    day = day or clock.today()
    committed = committed_cents(scheme.id) if committed is None else committed
    return [
        check_scheme_active(scheme, day),
        *check_eligibility(scheme, person, day),
        *check_active_limit(scheme, person, active_count),
        check_budget(scheme, committed),
    ]


def require(*results: RuleResult) -> None:
    """Raise the refusal of the first check that failed."""
    for result in results:
        if not result.ok:
            raise result.refusal


def refusal_of(results: list[RuleResult]) -> tuple[str, str] | None:
    """The refusal code and message of the first failed check (None when all pass)."""
    failed = next((r for r in results if not r.ok), None)
    if failed is None:
        return None
    return failed.refusal.code, failed.message + "."


# The voucher


def pin_pepper() -> str:
    """The secret that keys every PIN digest, kept outside the database."""
    return current_app.config["PIN_PEPPER"]


def new_pin() -> tuple[str, str, str]:
    """A fresh PIN with its salt and keyed digest: the PIN is shown once, the digest kept."""
    pin = codes.generate_pin()
    salt = codes.new_salt()
    return pin, salt, codes.hash_pin(pin_pepper(), salt, pin)


def new_voucher(
    scheme: Scheme,
    person: Beneficiary,
    value_cents: int,
    coverage: int,
    actor: Actor,
    *,
    comune: Comune,
    isee_record: IseeRecord | None = None,
    ente: Ente | None = None,
    **extra,
) -> tuple[Voucher, str]:
    """A voucher with a new code, signed payload and PIN, added to the session with its
    Comune of competence and coverage from its first day; the caller has made the checks.
    Returns the voucher and its PIN."""
    pin, salt, digest = new_pin()
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
        status=VoucherStatus.ACTIVE,
        pin_salt=salt,
        pin_hash=digest,
        qr_payload=payload,
        issued_by_id=actor.user_id,
        **extra,
    )
    voucher.scheme, voucher.beneficiary, voucher.comune = scheme, person, comune
    voucher.competences.append(
        VoucherCompetence(comune=comune, from_date=scheme.valid_from, created_by_id=actor.user_id)
    )
    voucher.coverages.append(
        VoucherCoverage(
            coverage_percent=coverage, from_date=scheme.valid_from, isee_record=isee_record
        )
    )
    db.session.add(voucher)
    return voucher, pin


def _lock_scheme(scheme: Scheme) -> None:
    """Serialise issuance per scheme, so that the budget check holds under concurrency. The
    scheme is read afresh once locked: its budget may have been cut since it was loaded."""
    db.session.execute(
        select(Scheme)
        .where(Scheme.id == scheme.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


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


def issue_voucher(
    actor: Actor,
    scheme: Scheme,
    person: Beneficiary,
    *,
    day: date | None = None,
    batch_id: int | None = None,
    flush: bool = True,
    comune_istat: str | None = None,
) -> tuple[Voucher, str]:
    """Issue a voucher of the scheme's face value. Returns the voucher and its PIN, which is
    shown once and stored only as a keyed digest. With flush=False the voucher is written at
    the caller's next flush: many calls in one transaction then cost one INSERT batch.
    `comune_istat` names the Comune of competence (by default the person's residence)."""
    day = day or clock.today()
    require(check_scheme_active(scheme, day))
    with db.session.no_autoflush:  # nothing read here depends on vouchers not yet flushed
        issuing = _issuing()
        require(*check_eligibility(scheme, person, day, issuing.ente))
        comune = competence_for_issue(scheme, person, comune_istat)
        if not reach.may_charge(actor, comune, person):
            raise ValidationFailed(
                "Il Comune di competenza non è tra i Comuni assegnati a chi emette il buono.",
                errors={"comune_istat": ["Scegliere uno dei Comuni assegnati."]},
            )
        coverage, isee_record = coverage_terms(scheme, person, day)
    if scheme.id not in issuing.committed:
        _lock_scheme(scheme)
        issuing.committed[scheme.id] = committed_cents(scheme.id)
    require(*check_active_limit(scheme, person))
    require(check_budget(scheme, issuing.committed[scheme.id]))
    voucher, pin = new_voucher(
        scheme,
        person,
        scheme.face_value_cents,
        coverage,
        actor,
        comune=comune,
        isee_record=isee_record,
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
        comune_istat=comune.istat_code,
        batch_id=batch_id,
    )
    return voucher, pin
