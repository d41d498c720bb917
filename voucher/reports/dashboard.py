"""The reports dashboard: budget burn per scheme, monthly spending per area, and the providers
that redeemed most. Every figure is a database aggregate; the budget burn is the funds
report's own query, so the two always agree.

- budget burn: for each scheme of a year, its budget, committed and redeemed amounts, exactly
  as in the funds report (voucher.reports.funds);
- spending per month and area: public shares of the ledger net of reversals, by the month of
  the service date and the area of the voucher's scheme (A, B, C and P), over the twelve
  calendar months that end with the current one;
- top providers: public shares net of reversals over the same twelve months, and the number
  of services delivered (redemptions less reversals).
"""

from datetime import date

from sqlalchemy import case, extract, func, select

from ..extensions import db
from ..models import LedgerEntry, Provider, Scheme, Voucher
from ..periods import Month
from .funds import funds_query

AREAS = ("A", "B", "C", "P")
MONTHS_SHOWN = 12
TOP_PROVIDERS = 10
BURN_TOTALS = ("budget_cents", "committed_cents", "redeemed_cents")


def budget_burn(year: int) -> dict:
    """Every scheme of `year` with its budget, committed and redeemed, and their totals."""
    schemes = [
        {
            "scheme_id": r.scheme_id,
            "scheme_name": r.scheme_name,
            "fund_code": r.fund_code,
            "area": r.area,
            "budget_cents": int(r.budget_cents),
            "committed_cents": int(r.committed_cents),
            "redeemed_cents": int(r.redeemed_cents),
        }
        for r in db.session.execute(funds_query(year))
    ]
    totals = {key: sum(s[key] for s in schemes) for key in BURN_TOTALS}
    return {"year": year, "schemes": schemes, "totals": totals}


def last_months(today: date, count: int = MONTHS_SHOWN) -> list[Month]:
    """The `count` calendar months ending with the month of `today`, oldest first."""
    months = [Month.of(today)]
    while len(months) < count:
        months.insert(0, months[0].previous())
    return months


def spending_by_month(months: list[Month]) -> dict:
    """Public shares net of reversals per area (A, B, C, P) and month of service date."""
    year = extract("year", LedgerEntry.service_date)
    month = extract("month", LedgerEntry.service_date)
    query = (
        select(
            Scheme.area,
            year.label("year"),
            month.label("month"),
            func.sum(LedgerEntry.public_cents).label("public_cents"),
        )
        .join(Voucher, Voucher.id == LedgerEntry.voucher_id)
        .join(Scheme, Scheme.id == Voucher.scheme_id)
        .where(
            LedgerEntry.service_date >= months[0].start,
            LedgerEntry.service_date < months[-1].end,
        )
        .group_by(Scheme.area, year, month)
    )
    index = {str(m): i for i, m in enumerate(months)}
    areas = {area: [0] * len(months) for area in AREAS}
    for r in db.session.execute(query):
        key = str(Month(int(r.year), int(r.month)))
        areas.setdefault(r.area, [0] * len(months))[index[key]] += int(r.public_cents)
    totals = [sum(values[i] for values in areas.values()) for i in range(len(months))]
    return {"months": [str(m) for m in months], "areas": areas, "totals": totals}


def top_providers(start: date, end: date, limit: int = TOP_PROVIDERS) -> list[dict]:
    """The providers with the largest public share redeemed in [start, end), net of
    reversals, with the net number of services they delivered."""
    redeemed = func.sum(LedgerEntry.public_cents)
    services = func.sum(case((LedgerEntry.kind == "reversal", -1), else_=1))
    query = (
        select(
            Provider.id,
            Provider.name,
            redeemed.label("redeemed_cents"),
            services.label("services"),
        )
        .join(Provider, Provider.id == LedgerEntry.provider_id)
        .where(LedgerEntry.service_date >= start, LedgerEntry.service_date < end)
        .group_by(Provider.id, Provider.name)
        .order_by(redeemed.desc(), Provider.name, Provider.id)
        .limit(limit)
    )
    return [
        {
            "provider_id": r.id,
            "provider_name": r.name,
            "redeemed_cents": int(r.redeemed_cents),
            "services": int(r.services),
        }
        for r in db.session.execute(query)
    ]


def dashboard(year: int, today: date) -> dict:
    """The three views of the dashboard: budget burn of `year`, and the twelve months to
    `today` of spending per area and of top providers."""
    months = last_months(today)
    return {
        "year": year,
        "burn": budget_burn(year),
        "spending": spending_by_month(months),
        "providers": top_providers(months[0].start, months[-1].end),
        "period_start": months[0].start,
        "period_end": months[-1].end,
    }
