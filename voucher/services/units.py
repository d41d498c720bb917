"""The units (hours, meals…) a voucher's money buys: the one figure that pages, letters and
the API show, from money.units_bought at the voucher's coverage in force on the day."""

from datetime import date
from decimal import Decimal

from ..models import Voucher
from . import clock
from .coverage import coverage_on
from .money import units_bought


def units_coverage(voucher: Voucher, day: date | None = None) -> int:
    """The coverage at which the voucher's money turns into units: the one in force on
    `day` (today), so that an ISEE renewal shows from the month it applies."""
    return coverage_on(voucher, day or clock.today())


def voucher_units(
    voucher: Voucher, cents: int | None = None, day: date | None = None
) -> Decimal | None:
    """The units that `cents` of the voucher's money (its balance by default) buys at its
    coverage on `day` (today), rounded down; None for schemes in euro."""
    scheme = voucher.scheme
    if scheme.unit == "EUR":
        return None
    amount = voucher.balance_cents if cents is None else cents
    return units_bought(amount, scheme.unit_price_cents, units_coverage(voucher, day))


def value_units(voucher: Voucher, day: date | None = None) -> Decimal | None:
    """The units the voucher's initial value buys at its coverage on `day` (today)."""
    return voucher_units(voucher, voucher.value_cents, day)
