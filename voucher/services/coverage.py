"""The voucher's coverage by date. It is set at issue from the ISEE that counts for the
scheme; a new ISEE record changes it for redemptions from the first day of the month after
the record's DSU date, and earlier entries keep theirs (each entry's shares are written
once, in the ledger)."""

from datetime import date

from ..models import Voucher, VoucherCoverage
from .in_force import in_force, in_force_expression


def coverage_on_expression(voucher_id, day):
    """SQL: the voucher's coverage percent on a day (as scalar subquery)."""
    return in_force_expression(VoucherCoverage.coverage_percent, voucher_id, day)


def coverage_period_on(voucher: Voucher, day: date) -> VoucherCoverage:
    """The coverage period in force on a day."""
    return in_force(voucher.coverages, day)


def coverage_on(voucher: Voucher, day: date) -> int:
    """The voucher's coverage percent on a day."""
    return coverage_period_on(voucher, day).coverage_percent
