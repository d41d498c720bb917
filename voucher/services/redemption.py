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
from .money import cost_of, public_share
from .providers import is_accredited


@dataclass(frozen=True)
class RedemptionRequest:
    """What a provider asks for; `voucher` is a code or a full signed QR payload."""

    voucher: str
    service_code: str
    service_date: date
    amount_cents: int | None = None
    quantity: Decimal | None = None

    def fingerprint(self) -> str:
        body = {
            "voucher": self.voucher,
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
        if quantity <= 0 or quantity != quantity.quantize(Decimal("0.01")):
            raise ValidationFailed(
                errors={"quantity": ["La quantità è positiva, con al massimo due decimali."]}
            )
        cost = cost_of(quantity, scheme.unit_price_cents)
    else:
        cost = req.amount_cents
        if cost <= 0:
            raise ValidationFailed(errors={"amount_cents": ["L'importo deve essere positivo."]})
    public = public_share(cost, voucher.coverage_percent)
    return cost, public, cost - public, quantity


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
    voucher = db.session.execute(
        select(Voucher).where(Voucher.code == code).with_for_update()
    ).scalar_one_or_none()
    if voucher is None:
        raise VoucherNotFound("Nessun buono con questo codice.")

    fingerprint = req.fingerprint()
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
            f"Il costo supera il limite di {limit / 100:.2f} € per prestazione.".replace(".", ",")
        )
    if public > voucher.balance_cents:
        raise InsufficientBalance(
            f"Credito insufficiente: disponibili {voucher.balance_cents / 100:.2f} €.".replace(
                ".", ","
            )
        )

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
    voucher = db.session.execute(
        select(Voucher).where(Voucher.id == original.voucher_id).with_for_update()
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
