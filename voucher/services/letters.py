"""The printed voucher letter's content, read from the models: what documents.letter draws;
and the check of a PIN that staff print on a letter."""

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from ..documents.letter import VoucherLetter
from ..errors import InvalidCodeOrPin, Locked
from ..extensions import db
from ..models import AuditEvent, Ente, Provider, User, Voucher
from . import Actor, audit, clock
from .ente import get_ente
from .ente_office import office_contacts
from .money import format_euro, units_bought
from .postal import postal_address
from .providers import providers_for_scheme
from .units import units_coverage
from .vouchers import check_pin

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


def value_text(
    value_cents: int, unit: str, unit_price_cents: int | None, coverage_percent: int | None = 100
) -> str:
    """The value in euro and, for unit schemes, in the units it buys at the coverage:
    "25 ore (500,00 €)" in full, "28,57 ore (390,00 €)" at 70 % of 19,50 € an hour."""
    euro = format_euro(value_cents)
    units = units_bought(value_cents, unit_price_cents, coverage_percent or 0)
    if units is None or unit not in UNIT_NAMES:
        return euro
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
    day: date,
) -> VoucherLetter:
    scheme, person = voucher.scheme, voucher.beneficiary
    coverage = units_coverage(voucher, day)
    address = postal_address(person.address, person.comune.name)
    office = office_contacts(ente)
    return VoucherLetter(
        ente_name=ente.name if ente is not None else "",
        ente_address=_ente_address(ente),
        beneficiary_name=person.full_name,
        beneficiary_address=address,
        scheme_name=scheme.name,
        fund_name=scheme.fund.name_it,
        services=[s.name_it for s in scheme.services],
        value_text=value_text(voucher.value_cents, scheme.unit, scheme.unit_price_cents, coverage),
        coverage_text=coverage_text(coverage),
        valid_from=voucher.valid_from,
        valid_until=voucher.valid_until,
        providers=providers,
        qr_payload=voucher.qr_payload,
        code=voucher.code,
        pin=pin,
        balance_url=url,
        issued_on=_issued_on(voucher),
        office_phone=office.phone,
        office_email=office.email,
        office_address=office.address,
        office_hours=office.hours,
    )


def letter_for(
    voucher: Voucher,
    pin: str | None = None,
    providers: Sequence[Provider] | None = None,
    *,
    day: date | None = None,
) -> VoucherLetter:
    """The letter of one voucher. Without `pin` it tells the reader to use the PIN received at
    issue; without `providers`, the scheme's providers accredited on `day` (today) are read.
    Value and coverage are those in force on `day`."""
    day = day or clock.today()
    if providers is None:
        providers = providers_for_scheme(voucher.scheme, day)
    return _letter(voucher, pin, get_ente(), provider_lines(providers), balance_url(), day)


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
            lines = by_scheme[voucher.scheme_id] = provider_lines(
                providers_for_scheme(voucher.scheme, day)
            )
        letters.append(_letter(voucher, pin, ente, lines, url, day))
    return letters


# The PIN on a letter printed by staff

PIN_LETTER_WINDOW = timedelta(hours=1)


def _wrong_pins_lately(actor: Actor) -> int:
    """Wrong PINs this user typed on letters in the last PIN_LETTER_WINDOW, counted in the
    audit trail (every attempt is there), so every worker and host agrees."""
    return db.session.execute(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == "voucher.letter_pin_wrong",
            AuditEvent.actor_type == actor.type,
            AuditEvent.actor_id == actor.id,
            AuditEvent.at >= clock.now() - PIN_LETTER_WINDOW,
        )
    ).scalar_one()


def check_pin_for_letter(actor: Actor, voucher: Voucher, pin: str, *, per_hour: int) -> None:
    """Check the PIN sent back by the page that showed it, before printing it on the letter.

    A PIN checker for staff is a PIN oracle unless it is limited as the beneficiaries' one
    is: it goes through the same lockout (check_pin: PIN_MAX_ATTEMPTS wrong PINs lock the
    code for everyone, right PIN or not), each user may get `per_hour` PINs wrong an hour
    across all vouchers, and every attempt is audited, without the PIN. Raises
    InvalidCodeOrPin for a wrong PIN, Locked (`scope` "voucher" or "user") when locked; both
    keep their work, so the count and the events are committed."""
    if actor.user_id is not None:
        # One check at a time per user: the count below cannot be outrun by parallel requests.
        db.session.execute(select(User.id).where(User.id == actor.user_id).with_for_update())
    if _wrong_pins_lately(actor) >= per_hour:
        audit.record(actor, "voucher.letter_pin_refused", "voucher", voucher.code, why="user")
        raise Locked("Troppi PIN errati: riprova tra un'ora.", scope="user")
    try:
        check_pin(voucher.code, pin)
    except InvalidCodeOrPin:
        audit.record(actor, "voucher.letter_pin_wrong", "voucher", voucher.code)
        raise
    except Locked:
        audit.record(actor, "voucher.letter_pin_refused", "voucher", voucher.code, why="voucher")
        raise Locked("Troppi PIN errati su questo buono.", scope="voucher") from None
    audit.record(actor, "voucher.letter_pin_printed", "voucher", voucher.code)
