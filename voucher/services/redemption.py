"""Redemptions and reversals: the only way money leaves a voucher or comes back.

A redemption locks the voucher row for the whole check-and-write, writes one immutable
ledger entry and lowers the balance in the same transaction. The database backs every
rule that money depends on: balance >= 0, one entry per (provider, idempotency key), one
reversal per redemption.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import jwt
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..documents.signing import keyring
from ..errors import (
    AlreadyReversed,
    IdempotencyConflict,
    InsufficientBalance,
    InvalidSignature,
    NotAccredited,
    NotFound,
    OverRedemptionLimit,
    ServiceNotInScheme,
    ValidationFailed,
    VoucherExhausted,
    VoucherExpired,
    VoucherNotFound,
    VoucherNotYetValid,
    VoucherRevoked,
    VoucherSuspended,
)
from ..extensions import db
from ..models import LedgerEntry, Provider, Voucher
from . import Actor, audit, clock, codes
from .money import cost_of, format_euro, public_share
from .providers import is_accredited

MAX_CENTS = 2**31 - 1


@dataclass(frozen=True)
class RedemptionRequest:
    """What a provider asks for; `voucher` is a code or a full signed QR payload."""

    voucher: str
    service_code: str
    service_date: date
    amount_cents: int | None = None
    quantity: Decimal | None = None

    def fingerprint(self, voucher_code: str) -> str:
        """What makes two requests "the same": the voucher they resolve to (however it was
        written: code, lowercase, QR payload), not its spelling."""
        body = {
            "voucher": voucher_code,
            "service_code": self.service_code,
            "service_date": self.service_date.isoformat(),
            "amount_cents": self.amount_cents,
            "quantity": None if self.quantity is None else str(Decimal(self.quantity).normalize()),
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def resolve_voucher_code(ref: str) -> str:
    """The voucher code in a typed code or a signed QR payload (whose signature is checked
    before anything else)."""
    ref = (ref or "").strip()
    if ref.count(".") == 2:
        try:
            claims = keyring().verify(ref)
        except jwt.InvalidTokenError:
            raise InvalidSignature(
                "Il QR code non è stato emesso dall'ente o è stato alterato."
            ) from None
        code = codes.normalise_code(str(claims.get("code", "")))
        if code is None:
            raise InvalidSignature("Il QR code non contiene un codice di buono valido.")
        return code
    code = codes.normalise_code(ref)
    if code is None:
        raise VoucherNotFound("Nessun buono con questo codice.")
    return code


_MAX_QUANTITY = Decimal(10) ** 8  # ledger_entry.quantity is NUMERIC(10, 2)


def _locked(condition):
    """The voucher row, locked until the transaction ends and read afresh: an object the
    caller loaded earlier is overwritten, so checks and writes never use a stale balance."""
    return (
        select(Voucher).where(condition).with_for_update().execution_options(populate_existing=True)
    )


def check_voucher_usable(voucher: Voucher, day: date) -> None:
    """The voucher's own state, in the order a provider at the door needs to hear it."""
    if voucher.status == "revoked":
        raise VoucherRevoked("Il buono è stato revocato.")
    if voucher.status == "suspended":
        raise VoucherSuspended("Il buono è sospeso: il beneficiario contatti il servizio sociale.")
    if voucher.status == "expired" or day > voucher.valid_until:
        raise VoucherExpired(f"Il buono è scaduto il {voucher.valid_until:%d/%m/%Y}.")
    if day < voucher.valid_from:
        raise VoucherNotYetValid(f"Il buono è valido dal {voucher.valid_from:%d/%m/%Y}.")
    if voucher.status == "exhausted" or voucher.balance_cents == 0:
        raise VoucherExhausted("Il buono non ha più credito.")


def price(voucher: Voucher, req: RedemptionRequest) -> tuple[int, int, int, Decimal | None]:
    """Cost, public share, co-payment and quantity of a service, without writing anything."""
    scheme = voucher.scheme
    if (req.amount_cents is None) == (req.quantity is None):
        raise ValidationFailed(
            errors={"amount_cents": ["Indicare l'importo oppure la quantità, non entrambi."]}
        )
    quantity = None
    if req.quantity is not None:
        if scheme.unit == "EUR":
            raise ValidationFailed(
                errors={"quantity": ["Questa misura è in euro: indicare l'importo."]}
            )
        try:
            quantity = Decimal(req.quantity)
        except InvalidOperation:
            raise ValidationFailed(errors={"quantity": ["Quantità non valida."]}) from None
        # Checked in this order so that NaN, infinities and huge values (which Decimal
        # refuses to compare or quantize) are a validation error, not a crash.
        if (
            not quantity.is_finite()
            or not 0 < quantity < _MAX_QUANTITY
            or quantity != quantity.quantize(Decimal("0.01"))
        ):
            raise ValidationFailed(
                errors={"quantity": ["La quantità è positiva, con al massimo due decimali."]}
            )
        cost = cost_of(quantity, scheme.unit_price_cents)
        if cost > MAX_CENTS:  # the ledger's amounts are 32-bit integers
            raise ValidationFailed(errors={"quantity": ["Quantità troppo grande."]})
        if cost == 0:  # e.g. 0.01 units of a 20-cent unit: nothing to record
            raise ValidationFailed(
                errors={"quantity": ["La quantità indicata costa meno di un centesimo."]}
            )
    else:
        cost = req.amount_cents
        if cost <= 0:
            raise ValidationFailed(errors={"amount_cents": ["L'importo deve essere positivo."]})
    public = public_share(cost, voucher.coverage_percent)
    return cost, public, cost - public, quantity


def check_redemption(
    voucher: Voucher, provider: Provider, req: RedemptionRequest, day: date
) -> tuple[int, int, int, Decimal | None]:
    """Every rule a redemption must pass, in the order a provider needs to hear them; then
    its cost, public share, co-payment and quantity. Writes nothing."""
    check_voucher_usable(voucher, day)
    if not is_accredited(provider, req.service_code, req.service_date):
        raise NotAccredited(
            "Il fornitore non è accreditato per questo servizio alla data indicata"
            + (" (fornitore sospeso)." if provider.status != "active" else ".")
        )
    if req.service_code not in voucher.scheme.service_codes:
        raise ServiceNotInScheme("Il servizio non è tra quelli pagati da questo buono.")
    if req.service_date > day:
        raise ValidationFailed(
            errors={"service_date": ["La data della prestazione non può essere nel futuro."]}
        )
    if not voucher.valid_from <= req.service_date <= voucher.valid_until:
        raise ValidationFailed(
            errors={"service_date": ["La data della prestazione è fuori dalla validità del buono."]}
        )
    cost, public, copay, quantity = price(voucher, req)
    limit = voucher.scheme.max_redemption_cents
    if limit is not None and cost > limit:
        raise OverRedemptionLimit(
            f"Il costo supera il limite di {format_euro(limit)} per prestazione."
        )
    if public > voucher.balance_cents:
        raise InsufficientBalance(
            f"Credito insufficiente: disponibili {format_euro(voucher.balance_cents)}."
        )
    return cost, public, copay, quantity


@dataclass(frozen=True)
class Quote:
    """What a redemption would cost and leave on the voucher."""

    voucher: Voucher
    cost_cents: int
    public_cents: int
    copay_cents: int
    quantity: Decimal | None

    @property
    def balance_after_cents(self) -> int:
        return self.voucher.balance_cents - self.public_cents


def quote_redemption(
    provider: Provider, req: RedemptionRequest, *, day: date | None = None
) -> Quote:
    """The preview a provider confirms: checked exactly as redeem() checks, without locking
    or writing anything (redeem() checks again, under the lock)."""
    day = day or clock.today()
    code = resolve_voucher_code(req.voucher)
    voucher = db.session.execute(select(Voucher).where(Voucher.code == code)).scalar_one_or_none()
    if voucher is None:
        raise VoucherNotFound("Nessun buono con questo codice.")
    cost, public, copay, quantity = check_redemption(voucher, provider, req, day)
    return Quote(voucher, cost, public, copay, quantity)


def redeem(
    actor: Actor,
    provider: Provider,
    req: RedemptionRequest,
    idempotency_key: str,
    *,
    day: date | None = None,
) -> tuple[LedgerEntry, bool]:
    """Record a service delivered. Returns the ledger entry and whether it is a replay of an
    earlier request with the same idempotency key."""
    day = day or clock.today()
    code = resolve_voucher_code(req.voucher)
    voucher = db.session.execute(_locked(Voucher.code == code)).scalar_one_or_none()
    if voucher is None:
        raise VoucherNotFound("Nessun buono con questo codice.")

    fingerprint = req.fingerprint(code)
    earlier = db.session.execute(
        select(LedgerEntry).where(
            LedgerEntry.provider_id == provider.id, LedgerEntry.idempotency_key == idempotency_key
        )
    ).scalar_one_or_none()
    if earlier is not None:
        if earlier.request_hash != fingerprint:
            raise IdempotencyConflict(
                "Questa chiave di idempotenza è già stata usata per una richiesta diversa."
            )
        return earlier, True

    cost, public, copay, quantity = check_redemption(voucher, provider, req, day)

    voucher.balance_cents -= public
    if voucher.balance_cents == 0:
        voucher.status = "exhausted"
    entry = LedgerEntry(
        kind="redemption",
        voucher_id=voucher.id,
        provider_id=provider.id,
        service_code=req.service_code,
        service_date=req.service_date,
        quantity=quantity,
        amount_cents=cost,
        public_cents=public,
        copay_cents=copay,
        balance_after_cents=voucher.balance_cents,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
        user_id=actor.user_id,
        api_key_id=actor.api_key_id,
    )
    entry.voucher = voucher
    db.session.add(entry)
    db.session.flush()
    audit.record(
        actor,
        "voucher.redeemed",
        "voucher",
        voucher.code,
        entry_id=entry.id,
        provider_id=provider.id,
        service=req.service_code,
        amount_cents=cost,
        public_cents=public,
        balance_cents=voucher.balance_cents,
    )
    return entry, False


def reverse_redemption(actor: Actor, entry_id: int, reason: str) -> LedgerEntry:
    """Compensate a wrong redemption with a negated entry; the balance comes back."""
    original = db.session.get(LedgerEntry, entry_id)
    if original is None:
        raise NotFound("Riscatto non trovato.")
    if original.kind != "redemption":
        raise ValidationFailed(errors={"id": ["Si può stornare solo un riscatto."]})
    voucher = db.session.execute(_locked(Voucher.id == original.voucher_id)).scalar_one()
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


def ledger_for_voucher(voucher: Voucher) -> list[LedgerEntry]:
    return list(
        db.session.execute(
            select(LedgerEntry).where(LedgerEntry.voucher_id == voucher.id).order_by(LedgerEntry.id)
        ).scalars()
    )


def list_ledger(
    *,
    voucher_code: str | None = None,
    provider_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    after_id: int | None = None,
    limit: int | None = None,
) -> list[LedgerEntry]:
    """Ledger entries matching every given filter (service dates inclusive), by id. A
    voucher code that cannot exist matches nothing."""
    query = select(LedgerEntry).options(selectinload(LedgerEntry.voucher))
    if voucher_code is not None:
        code = codes.normalise_code(voucher_code)
        if code is None:
            return []
        query = query.join(Voucher, Voucher.id == LedgerEntry.voucher_id).where(
            Voucher.code == code
        )
    if provider_id is not None:
        query = query.where(LedgerEntry.provider_id == provider_id)
    if date_from is not None:
        query = query.where(LedgerEntry.service_date >= date_from)
    if date_to is not None:
        query = query.where(LedgerEntry.service_date <= date_to)
    if after_id is not None:
        query = query.where(LedgerEntry.id > after_id)
    query = query.order_by(LedgerEntry.id)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.execute(query).scalars())
