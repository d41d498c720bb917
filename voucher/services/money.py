"""Money arithmetic: integer cents, and the one place where rounding (half-up) happens."""

from decimal import ROUND_HALF_UP, Decimal


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
