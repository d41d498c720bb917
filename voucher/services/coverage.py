"""The voucher's coverage by date. It is set at issue from the ISEE that counts for the
scheme; a new ISEE record changes it for redemptions from the first day of the month after
the record's DSU date, and earlier entries keep theirs (each entry's shares are written
once, in the ledger)."""

from datetime import date

from sqlalchemy import select

from ..models import Voucher, VoucherCoverage


def coverage_on_expression(voucher_id, day):
    """SQL: the voucher's coverage percent on a day (as scalar subquery)."""
    return (
        select(VoucherCoverage.coverage_percent)
        .where(VoucherCoverage.voucher_id == voucher_id, VoucherCoverage.from_date <= day)
        .order_by(VoucherCoverage.from_date.desc(), VoucherCoverage.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def coverage_period_on(voucher: Voucher, day: date) -> VoucherCoverage:
    """The coverage period in force on a day (the first one before the voucher starts)."""
    periods = sorted(voucher.coverages, key=lambda p: (p.from_date, p.id or 0))
    current = periods[0]
    for period in periods:
        if period.from_date <= day:
            current = period
    return current


def coverage_on(voucher: Voucher, day: date) -> int:
    """The voucher's coverage percent on a day."""
    return coverage_period_on(voucher, day).coverage_percent
