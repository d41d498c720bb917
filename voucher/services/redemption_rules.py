"""The rules of a redemption, in the order a provider at the door needs to hear them, and
the request they judge. Pure: they read Terms (voucher.services.redemption_sql) and write
nothing. voucher.services.redemption_at_once restates what they accept as one SQL
condition; tests/services/test_redemption_rules_agree.py keeps the two in step."""

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from ..errors import (
    InsufficientBalance,
    NotAccredited,
    OverRedemptionLimit,
    ServiceNotInScheme,
    ValidationFailed,
    VoucherExhausted,
    VoucherExpired,
    VoucherNotYetValid,
    VoucherRevoked,
    VoucherSuspended,
)
from ..models import Voucher
from .money import cost_of, format_euro, public_share
from .redemption_sql import Terms
from .wording import N_

MAX_CENTS = 2**31 - 1


@dataclass(frozen=True)
class RedemptionRequest:
    """What a provider asks for; `voucher` is a code or a full signed QR payload."""

    voucher: str
    service_code: str
    service_date: date
    amount_cents: int | None = None
    quantity: Decimal | None = None
    hours: Decimal | None = None  # on a euro-valued scheme: the hours of assistance given

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
        if self.hours is not None:  # absent from older requests' hashes: they still match
            body["hours"] = str(Decimal(self.hours).normalize())
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


_MAX_QUANTITY = Decimal(10) ** 8  # ledger_entry.quantity is NUMERIC(10, 2)


def _as_number(value) -> Decimal | None:
    """A quantity or a number of hours as a Decimal; None when it is not a number."""
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None


def _in_form(number: Decimal) -> bool:
    """Positive, below the ledger's limit, with at most two decimals. Checked in this order
    so that NaN, infinities and huge values (which Decimal refuses to compare or quantize)
    fail the check, not crash it."""
    return (
        number.is_finite()
        and 0 < number < _MAX_QUANTITY
        and number == number.quantize(Decimal("0.01"))
    )


def _day(day: date) -> dict:
    return {"date": f"{day:%d/%m/%Y}"}


def check_voucher_usable(voucher: Voucher | Terms, day: date) -> None:
    """The voucher's own state, in the order a provider at the door needs to hear it."""
    if voucher.status == "revoked":
        raise VoucherRevoked(N_("Il buono è stato revocato."))
    if voucher.status == "suspended":
        raise VoucherSuspended(
            N_("Il buono è sospeso: il beneficiario contatti il servizio sociale.")
        )
    if voucher.status == "expired" or day > voucher.valid_until:
        raise VoucherExpired(N_("Il buono è scaduto il %(date)s.") % _day(voucher.valid_until))
    if day < voucher.valid_from:
        raise VoucherNotYetValid(N_("Il buono è valido dal %(date)s.") % _day(voucher.valid_from))
    if voucher.status == "exhausted" or voucher.balance_cents == 0:
        raise VoucherExhausted(N_("Il buono non ha più credito."))


def price(terms: Terms, req: RedemptionRequest) -> tuple[int, int, int, Decimal | None]:
    """Cost, public share, co-payment and quantity of a service, without writing anything."""
    if (req.amount_cents is None) == (req.quantity is None):
        raise ValidationFailed(
            errors={"amount_cents": [N_("Indicare l'importo oppure la quantità, non entrambi.")]}
        )
    quantity = None
    if req.quantity is not None:
        if terms.unit == "EUR":
            raise ValidationFailed(
                errors={"quantity": [N_("Questa misura è in euro: indicare l'importo.")]}
            )
        quantity = _as_number(req.quantity)
        if quantity is None:
            raise ValidationFailed(errors={"quantity": [N_("Quantità non valida.")]})
        if not _in_form(quantity):
            raise ValidationFailed(
                errors={"quantity": [N_("La quantità è positiva, con al massimo due decimali.")]}
            )
        cost = cost_of(quantity, terms.unit_price_cents)
        if cost > MAX_CENTS:  # the ledger's amounts are 32-bit integers
            raise ValidationFailed(errors={"quantity": [N_("Quantità troppo grande.")]})
        if cost == 0:  # e.g. 0.01 units of a 20-cent unit: nothing to record
            raise ValidationFailed(
                errors={"quantity": [N_("La quantità indicata costa meno di un centesimo.")]}
            )
    else:
        cost = req.amount_cents
        if cost <= 0:
            raise ValidationFailed(errors={"amount_cents": [N_("L'importo deve essere positivo.")]})
    public = public_share(cost, terms.coverage_percent)
    return cost, public, cost - public, quantity


def hours_of(terms: Terms, req: RedemptionRequest) -> Decimal | None:
    """The hours recorded beside an amount on a euro-valued scheme (None when not given)."""
    if req.hours is None:
        return None
    if terms.unit != "EUR":
        raise ValidationFailed(
            errors={"hours": ["Le ore si indicano solo sulle misure in euro: usare la quantità."]}
        )
    hours = _as_number(req.hours)
    if hours is None:
        raise ValidationFailed(errors={"hours": [N_("Numero di ore non valido.")]})
    if not _in_form(hours):
        raise ValidationFailed(
            errors={"hours": [N_("Le ore sono un numero positivo, con al massimo due decimali.")]}
        )
    return hours


def well_formed(req: RedemptionRequest) -> tuple[Decimal | None, Decimal | None] | None:
    """The request's quantity and hours, when its own form passes what price() and
    hours_of() check of it without the terms (an amount or a quantity, positive, two
    decimals at most); None otherwise, and the ordinary path explains what is wrong."""

    def number(value) -> Decimal | None:
        number = _as_number(value)
        return number if number is not None and _in_form(number) else None

    if (req.amount_cents is None) == (req.quantity is None):
        return None
    if req.amount_cents is not None and not 0 < req.amount_cents <= MAX_CENTS:
        return None
    quantity = None if req.quantity is None else number(req.quantity)
    hours = None if req.hours is None else number(req.hours)
    if (req.quantity is not None and quantity is None) or (req.hours is not None and hours is None):
        return None
    return quantity, hours


def check_redemption(
    terms: Terms, req: RedemptionRequest, day: date
) -> tuple[int, int, int, Decimal | None]:
    """Every rule a redemption must pass, in the order a provider needs to hear them; then
    its cost, public share, co-payment and quantity. Writes nothing."""
    check_voucher_usable(terms, day)
    if terms.provider_status != "active" or not terms.provider_accredited:
        raise NotAccredited(
            N_("Il fornitore non è accreditato per questo servizio alla data indicata")
            + (" (fornitore sospeso)." if terms.provider_status != "active" else ".")
        )
    if not terms.provider_listed:
        raise NotAccredited(
            N_("La misura è riservata ai fornitori scelti dall'ente: non a questo.")
        )
    if not terms.service_in_scheme:
        raise ServiceNotInScheme(N_("Il servizio non è tra quelli pagati da questo buono."))
    if req.service_date > day:
        raise ValidationFailed(
            errors={"service_date": [N_("La data della prestazione non può essere nel futuro.")]}
        )
    if not terms.valid_from <= req.service_date <= terms.valid_until:
        raise ValidationFailed(
            errors={
                "service_date": [N_("La data della prestazione è fuori dalla validità del buono.")]
            }
        )
    cost, public, copay, quantity = price(terms, req)
    limit = terms.max_redemption_cents
    if limit is not None and cost > limit:
        raise OverRedemptionLimit(
            N_("Il costo supera il limite di %(limit)s per prestazione.")
            % {"limit": format_euro(limit)}
        )
    if public > terms.balance_cents:
        raise InsufficientBalance(
            N_("Credito insufficiente: disponibili %(balance)s.")
            % {"balance": format_euro(terms.balance_cents)}
        )
    return cost, public, copay, quantity
