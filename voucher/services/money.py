"""Money arithmetic: integer cents, and the one place where rounding (half-up) happens."""

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal


def round_half_up(value: Decimal) -> int:
    """Round a Decimal amount of cents to a whole cent, halves away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def cost_of(quantity: Decimal, unit_price_cents: int) -> int:
    """The cost of `quantity` units (e.g. 1.5 hours) at `unit_price_cents` each."""
    return round_half_up(Decimal(quantity) * unit_price_cents)


def public_share(cost_cents: int, coverage_percent: int) -> int:
    """The part of a cost the voucher covers; the family pays the rest (compartecipazione)."""
    return round_half_up(Decimal(cost_cents) * coverage_percent / 100)


def format_euro(cents: int) -> str:
    """Italian formatting: 1.234,56 €."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}{euros:,}".replace(",", ".") + f",{rest:02d} €"


def units_bought(cents: int, unit_price_cents: int | None, coverage_percent: int) -> Decimal | None:
    """The units (hours, meals…) that `cents` of public money buys at the person's coverage:
    cents / (unit price × coverage / 100), rounded down to two decimals, so that no page,
    letter or export promises more than the voucher pays. A 390,00 € voucher at 19,50 €/h
    and 70 % coverage buys 28,57 hours. None without a unit price or a coverage."""
    if not unit_price_cents or not coverage_percent:
        return None
    per_unit = Decimal(unit_price_cents) * coverage_percent / 100
    return (Decimal(cents) / per_unit).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
