"""A voucher's terms that change from a date (its Comune of competence, its coverage): rows
with a `from_date`, the one in force on a day being the latest not after it (the newest
entered, for equal dates). Before the first row starts, the first row applies."""

from datetime import date

from sqlalchemy import select


def in_force_expression(column, voucher_id, day):
    """SQL: `column` (of VoucherCompetence or VoucherCoverage) of the voucher's row in force
    on a day, as a scalar subquery."""
    history = column.class_
    return (
        select(column)
        .where(history.voucher_id == voucher_id, history.from_date <= day)
        .order_by(history.from_date.desc(), history.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def in_force(periods: list, day: date):
    """The row of `periods` in force on a day."""
    ordered = sorted(periods, key=lambda p: (p.from_date, p.id or 0))
    current = ordered[0]
    for period in ordered:
        if period.from_date <= day:
            current = period
    return current
