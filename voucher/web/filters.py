"""How pages write values: money, dates, names, units and quantities, as Jinja filters and
globals (registered by voucher.web.context) and for the views that need the same text."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import format_decimal, get_locale

from ..services.money import format_euro, units_bought
from ..services.units import units_coverage
from .labels import UNIT_WORDS
from .names import fund_name, service_name
from .wording import translated

ROME = ZoneInfo("Europe/Rome")


def localized_name(obj) -> str:
    """Jinja filter: a catalogue row's name (service, fund) in the reader's language."""
    if obj is None:
        return ""
    lang = str(get_locale() or "it")
    return getattr(obj, f"name_{lang}", None) or obj.name_it


def euro(cents: int | None) -> str:
    """Jinja filter: integer cents as Italian euro (1.234,56 €); a dash when missing."""
    return "—" if cents is None else format_euro(int(cents))


def euro_input(cents: int | None) -> str:
    """Integer cents as typed in a form (1.234,56, no currency sign)."""
    return "" if cents is None else format_euro(int(cents)).removesuffix(" €")


def date_it(value: date | datetime | None) -> str:
    """Jinja filter: dd/mm/yyyy (datetimes in Italian local time)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = _local(value)
    return value.strftime("%d/%m/%Y")


def datetime_it(value: datetime | None) -> str:
    """Jinja filter: dd/mm/yyyy hh:mm in Italian local time."""
    if value is None:
        return "—"
    return _local(value).strftime("%d/%m/%Y %H:%M")


def _local(value: datetime) -> datetime:
    # Naive timestamps come from SQLite, which stores them in UTC.
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(ROME)


def units_text(cents: int, scheme, coverage_percent: int | None = 100) -> str:
    """A value of a scheme in euro and, for unit schemes, in the units it buys at the
    coverage: "28,57 ore (390,00 €)", as the voucher letter writes it, in the reader's
    language. For a scheme page with no voucher yet (the face value at issue), the coverage
    the person would get."""
    euro = format_euro(cents)
    units = units_bought(cents, scheme.unit_price_cents, coverage_percent or 0)
    words = units_words(units, scheme.unit)
    return f"{words} ({euro})" if words else euro


def voucher_units_text(voucher, cents: int | None = None) -> str:
    """An amount of a voucher's money (its balance by default) in euro and in the units it
    buys at the voucher's coverage today. The balance after a service dated in an earlier
    month is read at today's coverage too: it is what that money buys from now on."""
    amount = voucher.balance_cents if cents is None else cents
    return units_text(amount, voucher.scheme, units_coverage(voucher))


def quantity_text(quantity: Decimal | None, unit: str) -> str:
    """A recorded quantity with its unit in the reader's language: "2,5 ore", "1 pasto"; a
    dash when there is none."""
    if quantity is None:
        return "—"
    return units_words(quantity, unit) or format_decimal(Decimal(quantity).normalize())


def units_words(units: Decimal | None, unit: str) -> str:
    """A number of units in the reader's language: "24,6 ore", "1 pasto"; empty without
    units (the beneficiaries' pages)."""
    if units is None or unit not in UNIT_WORDS:
        return ""
    one, many = UNIT_WORDS[unit]
    return f"{format_decimal(Decimal(units).normalize())} {one if abs(units) == 1 else many}"


def option_groups(field) -> list[tuple[str | None, list]]:
    """A choice field's options (the subfields it yields) in their optgroups, in order."""
    options = list(field)
    if not field.has_groups():
        return [(None, options)]
    by_value = {str(o.data): o for o in options}
    return [
        (label, [by_value[str(c.value)] for c in choices if str(c.value) in by_value])
        for label, choices in field.iter_groups()
    ]


FILTERS = {
    "euro": euro,
    "money": euro,
    "euro_input": euro_input,
    "date_it": date_it,
    "datetime_it": datetime_it,
    "localized_name": localized_name,
    # A service's Italian message (a check, a refused row) in the reader's language.
    "translated": translated,
    # A report row's service or fund code as the catalogue names it in the reader's language.
    "service_label": service_name,
    "fund_label": fund_name,
}

GLOBALS = {
    # A voucher's coverage on a day (today by default): an ISEE renewal may have changed it.
    "coverage_on": units_coverage,
    "option_groups": option_groups,
    "units_text": units_text,
    "voucher_units_text": voucher_units_text,
    "quantity_text": quantity_text,
    "units_words": units_words,
}
