"""The printed voucher letter's content, read from the models: what documents.letter draws."""

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_FLOOR, Decimal

from flask import current_app

from ..documents.letter import VoucherLetter
from ..models import Ente, Provider, Voucher
from . import clock
from .ente import get_ente
from .money import format_euro
from .providers import providers_for_services

# Italian names of the scheme units: (one, many).
UNIT_NAMES = {
    "HOUR": ("ora", "ore"),
    "MEAL": ("pasto", "pasti"),
    "TRIP": ("trasporto", "trasporti"),
    "ACCESS": ("accesso", "accessi"),
}


def balance_url() -> str:
    """The beneficiaries' page where a code and PIN show balance, history and providers."""
    return current_app.config.get("PUBLIC_URL", "").rstrip("/") + "/saldo"


def value_text(value_cents: int, unit: str, unit_price_cents: int | None) -> str:
    """The value in euro and, for unit schemes, in units: "25 ore (500,00 €)"."""
    euro = format_euro(value_cents)
    if unit not in UNIT_NAMES or not unit_price_cents:
        return euro
    # Never promise more than the balance buys: fractions of a unit are cut, not rounded.
    units = (Decimal(value_cents) / unit_price_cents).quantize(Decimal("0.01"), ROUND_FLOOR)
    number = f"{units:f}".rstrip("0").rstrip(".").replace(".", ",")
    one, many = UNIT_NAMES[unit]
    return f"{number} {one if units == 1 else many} ({euro})"


def coverage_text(coverage_percent: int) -> str:
    """What the voucher pays of each service, and what the family pays the provider."""
    if coverage_percent >= 100:
        return "Il buono paga l'intero costo di ogni servizio, fino a esaurimento del valore."
    return (
        f"Il buono paga il {coverage_percent}% del costo di ogni servizio; il restante "
        f"{100 - coverage_percent}% lo paga la famiglia direttamente al fornitore."
    )


def provider_lines(providers: Iterable[Provider]) -> list[tuple[str, str]]:
    """(name, contact) for each provider: phone and e-mail, or else the address."""
    lines = []
    for p in providers:
        contact = " · ".join(filter(None, (p.phone, p.email))) or (p.address or "")
        lines.append((p.name, contact))
    return lines


def _ente_address(ente: Ente | None) -> str:
    return (ente.address or "") if ente is not None else ""


def _issued_on(voucher: Voucher) -> date | None:
    """The Italian calendar day of issue (None before the voucher is first flushed)."""
    issued = voucher.issued_at
    if not isinstance(issued, datetime):
        return None
    if issued.tzinfo is None:  # SQLite keeps the UTC time without its offset
        issued = issued.replace(tzinfo=UTC)
    return issued.astimezone(clock.ROME).date()


def _letter(
    voucher: Voucher,
    pin: str | None,
    ente: Ente | None,
    providers: list[tuple[str, str]],
    url: str,
) -> VoucherLetter:
    scheme, person = voucher.scheme, voucher.beneficiary
    address = "\n".join([person.address, person.comune.name]) if person.address else ""
    return VoucherLetter(
        ente_name=ente.name if ente is not None else "",
        ente_address=_ente_address(ente),
        beneficiary_name=person.full_name,
        beneficiary_address=address,
        scheme_name=scheme.name,
        fund_name=scheme.fund.name_it,
        services=[s.name_it for s in scheme.services],
        value_text=value_text(voucher.value_cents, scheme.unit, scheme.unit_price_cents),
        coverage_text=coverage_text(voucher.coverage_percent),
        valid_from=voucher.valid_from,
        valid_until=voucher.valid_until,
        providers=providers,
        qr_payload=voucher.qr_payload,
        code=voucher.code,
        pin=pin,
        balance_url=url,
        issued_on=_issued_on(voucher),
    )


def letter_for(
    voucher: Voucher,
    pin: str | None = None,
    providers: Sequence[Provider] | None = None,
    *,
    day: date | None = None,
) -> VoucherLetter:
    """The letter of one voucher. Without `pin` it tells the reader to use the PIN received at
    issue; without `providers`, the scheme's providers accredited on `day` (today) are read."""
    if providers is None:
        providers = providers_for_services(voucher.scheme.service_codes, day or clock.today())
    return _letter(voucher, pin, get_ente(), provider_lines(providers), balance_url())


def letters_for(
    vouchers_with_pins: Iterable[tuple[Voucher, str | None]], *, day: date | None = None
) -> list[VoucherLetter]:
    """The letters of many vouchers, in order: the ente is read once and the accredited
    providers once per scheme, whatever the number of vouchers."""
    day = day or clock.today()
    ente, url = get_ente(), balance_url()
    by_scheme: dict[int, list[tuple[str, str]]] = {}
    letters = []
    for voucher, pin in vouchers_with_pins:
        lines = by_scheme.get(voucher.scheme_id)
        if lines is None:
            codes = voucher.scheme.service_codes
            lines = by_scheme[voucher.scheme_id] = provider_lines(
                providers_for_services(codes, day)
            )
        letters.append(_letter(voucher, pin, ente, lines, url))
    return letters
