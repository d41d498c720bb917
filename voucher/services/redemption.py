"""Redemptions and reversals: the only way money leaves a voucher or comes back.

A redemption locks the voucher row for the whole check-and-write, writes one immutable
ledger entry and lowers the balance in the same transaction. The database backs every
rule that money depends on: balance >= 0, one entry per (provider, idempotency key), one
reversal per redemption. This module is the services' door to redemptions; the rules are
in voucher.services.redemption_rules, the SQL that reads and writes a redemption,
hand-tuned for the busiest path, in voucher.services.redemption_sql, and the accepted case
in one statement (PostgreSQL) in voucher.services.redemption_at_once.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import jwt
from sqlalchemy import select

from ..documents.signing import keyring
from ..errors import (
    AlreadyReversed,
    DomainError,
    IdempotencyConflict,
    InvalidSignature,
    NotFound,
    Unauthorized,
    ValidationFailed,
    VoucherNotFound,
)
from ..extensions import db
from ..models import LedgerEntry, Provider, Voucher
from ..models._base import utcnow
from . import Actor, audit, clock, codes
from .redemption_at_once import redeem_in_one_statement
from .redemption_rules import (  # noqa: F401 - the rules, named here too: one door
    MAX_CENTS,
    RedemptionRequest,
    check_redemption,
    check_voucher_usable,
    hours_of,
    price,
    well_formed,
)
from .redemption_sql import (
    Redemption,
    earlier_redemption,
    lock_terms,
    read_terms,
    record_redemption,
    session_connection,
)
from .wording import N_


def resolve_voucher_code(ref: str) -> str:
    """The voucher code in a typed code or a signed QR payload (whose signature is checked
    before anything else)."""
    ref = (ref or "").strip()
    if ref.count(".") == 2:
        try:
            claims = keyring().verify(ref)
        except jwt.InvalidTokenError:
            raise InvalidSignature(
                N_("Il QR code non è stato emesso dall'ente o è stato alterato.")
            ) from None
        code = codes.normalise_code(str(claims.get("code", "")))
        if code is None:
            raise InvalidSignature(N_("Il QR code non contiene un codice di buono valido."))
        return code
    code = codes.normalise_code(ref)
    if code is None:
        raise VoucherNotFound(N_("Nessun buono con questo codice."))
    return code


@dataclass(frozen=True)
class Quote:
    """What a redemption would cost and leave on the voucher."""

    cost_cents: int
    public_cents: int
    copay_cents: int
    quantity: Decimal | None
    balance_after_cents: int


def quote_redemption(
    provider: Provider, req: RedemptionRequest, *, day: date | None = None
) -> Quote:
    """The preview a provider confirms: checked exactly as redeem() checks, without locking
    or writing anything (redeem() checks again, under the lock)."""
    day = day or clock.today()
    code = resolve_voucher_code(req.voucher)
    terms = read_terms(session_connection(), code, provider.id, req.service_code, req.service_date)
    cost, public, copay, quantity = check_redemption(terms, req, day)
    return Quote(cost, public, copay, quantity, terms.balance_cents - public)


def redeem(
    actor: Actor,
    provider_id: int,
    req: RedemptionRequest,
    idempotency_key: str,
    *,
    day: date | None = None,
) -> tuple[Redemption, bool]:
    """Record a service delivered. Returns the redemption and whether it is a replay of an
    earlier request with the same idempotency key.

    The busiest path of the application: lock and read, idempotency check included (one
    query), judge with the rules, then the debit, the ledger row and the audit event (one
    statement on PostgreSQL; elsewhere the event is appended at commit). See
    redemption_sql for the SQL and why it is shaped so."""
    day = day or clock.today()
    code = resolve_voucher_code(req.voucher)
    connection = session_connection()
    fingerprint = req.fingerprint(code)
    form = well_formed(req)
    if connection.dialect.name == "postgresql" and form is not None and audit.can_append_now():
        recorded = redeem_in_one(
            connection, actor, provider_id, req, code, form, idempotency_key, fingerprint, day
        )
        if recorded is not None:
            audit.wrote_event()
            return recorded, False
    terms = lock_terms(
        connection,
        code,
        provider_id,
        req.service_code,
        req.service_date,
        actor.api_key_id,
        idempotency_key,
    )
    if not terms.key_valid:
        # Checked here, in the transaction: a key revoked a moment ago moves no money, even
        # where a server process still trusts it for other requests.
        raise Unauthorized("La chiave API è stata revocata.")

    if terms.earlier_hash is not None:  # the ledger is append-only: it is still there
        return _replayed(connection, provider_id, idempotency_key, fingerprint), True
    try:
        cost, public, copay, quantity = check_redemption(terms, req, day)
        hours = hours_of(terms, req)
    except DomainError:
        # The query above read the idempotency key as it was before this request waited
        # for the voucher's lock: a request with the same key may have been recorded
        # meanwhile (and spent the balance). Its answer, not a refusal, is due; asked
        # again now, after the lock. (Were this request accepted instead, the unique key
        # would refuse its INSERT, and run_in_transaction() would run it again.)
        earlier = _replayed(connection, provider_id, idempotency_key, fingerprint)
        if earlier is None:
            raise
        return earlier, True

    entry = Redemption(
        id=0,
        voucher_id=terms.id,
        voucher_code=code,
        provider_id=provider_id,
        service_code=req.service_code,
        service_date=req.service_date,
        quantity=quantity,
        amount_cents=cost,
        public_cents=public,
        copay_cents=copay,
        balance_after_cents=terms.balance_cents - public,
        idempotency_key=idempotency_key,
        created_at=utcnow(),
        comune_id=terms.comune_id,
        hours=hours,
    )
    return record_redemption(connection, actor, terms, entry, fingerprint), False


def redeem_in_one(
    connection,
    actor: Actor,
    provider_id: int,
    req: RedemptionRequest,
    code: str,
    form: tuple[Decimal | None, Decimal | None],
    idempotency_key: str,
    fingerprint: str,
    day: date,
):
    """The one-statement redemption (PostgreSQL) of a well-formed request: what it
    recorded, or nothing (see redemption_at_once.redeem_in_one_statement)."""
    quantity, hours = form
    return redeem_in_one_statement(
        connection,
        actor,
        code=code,
        provider_id=provider_id,
        service_code=req.service_code,
        service_date=req.service_date,
        amount_cents=req.amount_cents,
        quantity=quantity,
        hours=hours,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
        today=day,
        created_at=utcnow(),
    )


def redeem_at_once(
    connection,
    actor: Actor,
    provider_id: int,
    req: RedemptionRequest,
    idempotency_key: str,
    *,
    day: date | None = None,
) -> Redemption | None:
    """The accepted case alone, in one statement on `connection` (PostgreSQL; in
    autocommit, one round trip and its own transaction): the redemption recorded, or None
    when anything else is due (a refusal, a replay, a request to explain), which redeem()
    then answers. Writes nothing unless it returns a redemption."""
    form = well_formed(req)
    if form is None or connection.dialect.name != "postgresql":
        return None
    try:
        code = resolve_voucher_code(req.voucher)
    except DomainError:
        return None
    recorded = redeem_in_one(
        connection,
        actor,
        provider_id,
        req,
        code,
        form,
        idempotency_key,
        req.fingerprint(code),
        day or clock.today(),
    )
    return recorded


def _replayed(connection, provider_id: int, key: str, fingerprint: str) -> Redemption | None:
    """The provider's earlier redemption with this idempotency key (what a replay answers),
    or None; a conflict if it was asked with another body."""
    earlier = earlier_redemption(connection, provider_id, key)
    if earlier is None:
        return None
    found, request_hash = earlier
    if request_hash != fingerprint:
        raise IdempotencyConflict(
            "Questa chiave di idempotenza è già stata usata per una richiesta diversa."
        )
    return found


def reverse_redemption(actor: Actor, entry_id: int, reason: str) -> LedgerEntry:
    """Compensate a wrong redemption with a negated entry; the balance comes back."""
    original = db.session.get(LedgerEntry, entry_id)
    if original is None:
        raise NotFound("Riscatto non trovato.")
    if original.kind != "redemption":
        raise ValidationFailed(errors={"id": ["Si può stornare solo un riscatto."]})
    voucher = db.session.execute(
        select(Voucher)
        .where(Voucher.id == original.voucher_id)
        .with_for_update()
        .execution_options(populate_existing=True)  # read afresh once locked
    ).scalar_one()
    already = db.session.execute(
        select(LedgerEntry.id).where(LedgerEntry.reverses_id == original.id)
    ).first()
    if already:
        raise AlreadyReversed("Questo riscatto è già stato stornato.")
    if not (reason or "").strip():
        raise ValidationFailed(errors={"reason": ["Indicare il motivo dello storno."]})
    voucher.balance_cents += original.public_cents
    if voucher.status == "exhausted" and voucher.balance_cents > 0:
        voucher.status = "active"
    reversal = LedgerEntry(
        kind="reversal",
        voucher_id=voucher.id,
        provider_id=original.provider_id,
        service_code=original.service_code,
        service_date=original.service_date,
        quantity=None if original.quantity is None else -original.quantity,
        hours=None if original.hours is None else -original.hours,
        comune_id=original.comune_id,
        amount_cents=-original.amount_cents,
        public_cents=-original.public_cents,
        copay_cents=-original.copay_cents,
        balance_after_cents=voucher.balance_cents,
        reverses_id=original.id,
        reason=reason.strip(),
        user_id=actor.user_id,
    )
    db.session.add(reversal)
    db.session.flush()
    audit.record(
        actor,
        "voucher.redemption_reversed",
        "voucher",
        voucher.code,
        entry_id=reversal.id,
        reverses=original.id,
        public_cents=original.public_cents,
        reason=reason.strip(),
        balance_cents=voucher.balance_cents,
    )
    return reversal
