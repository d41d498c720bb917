"""The fund reports: every scheme of a year with its budget, commitments and spending, and the
Fondo Povertà view (impegnato / liquidato per annualità).

Every figure is a database aggregate (GROUP BY), never a loop over ledger rows:

- committed: the value of the scheme's vouchers that is spent or still spendable (the unspent
  balance of a revoked or expired voucher goes back to the budget), as on the scheme page;
- redeemed: the public shares of the scheme's ledger, net of reversals, whatever the service date;
- expired_unused: the balance left on expired vouchers;
- residual: budget − committed.

Fondo Povertà (D.Lgs. 147/2017 art. 7): the annualità is the scheme's year. Impegnato is the
committed amount; liquidato is the public share of ledger entries frozen into provider
statements that the ente has approved AND marked paid; what is approved but not yet paid is
shown apart (approvato), and so is everything redeemed (rendicontato).
"""

from sqlalchemy import Select, case, func, select

from ..extensions import db
from ..models import Fund, LedgerEntry, Scheme, Service, Statement, StatementLine, Voucher
from ..services.schemes import committed_expression
from .common import report_meta

FUND_TOTALS = (
    "budget_cents",
    "committed_cents",
    "redeemed_cents",
    "expired_unused_cents",
    "residual_cents",
    "vouchers",
)


def _voucher_totals(year: int, fund_code: str | None = None):
    query = (
        select(
            Voucher.scheme_id.label("scheme_id"),
            func.count(Voucher.id).label("vouchers"),
            func.sum(committed_expression()).label("committed"),
            func.sum(case((Voucher.status == "expired", Voucher.balance_cents), else_=0)).label(
                "expired_unused"
            ),
        )
        .join(Scheme, Scheme.id == Voucher.scheme_id)
        .where(Scheme.year == year)
        .group_by(Voucher.scheme_id)
    )
    if fund_code:
        query = query.where(Scheme.fund_code == fund_code)
    return query.subquery("voucher_totals")


def _ledger_totals(year: int, fund_code: str | None = None):
    query = (
        select(
            Voucher.scheme_id.label("scheme_id"),
            func.sum(LedgerEntry.public_cents).label("redeemed"),
        )
        .join(Voucher, Voucher.id == LedgerEntry.voucher_id)
        .join(Scheme, Scheme.id == Voucher.scheme_id)
        .where(Scheme.year == year)
        .group_by(Voucher.scheme_id)
    )
    if fund_code:
        query = query.where(Scheme.fund_code == fund_code)
    return query.subquery("ledger_totals")


def funds_query(year: int) -> Select:
    """One row per scheme of the year, with its voucher and ledger aggregates."""
    vouchers, ledger = _voucher_totals(year), _ledger_totals(year)
    return (
        select(
            Scheme.fund_code,
            Fund.name_it.label("fund_name"),
            Scheme.id.label("scheme_id"),
            Scheme.name.label("scheme_name"),
            Scheme.cup,
            Scheme.area,
            Scheme.status,
            Scheme.budget_cents,
            func.coalesce(vouchers.c.vouchers, 0).label("vouchers"),
            func.coalesce(vouchers.c.committed, 0).label("committed_cents"),
            func.coalesce(ledger.c.redeemed, 0).label("redeemed_cents"),
            func.coalesce(vouchers.c.expired_unused, 0).label("expired_unused_cents"),
        )
        .join(Fund, Fund.code == Scheme.fund_code)
        .outerjoin(vouchers, vouchers.c.scheme_id == Scheme.id)
        .outerjoin(ledger, ledger.c.scheme_id == Scheme.id)
        .where(Scheme.year == year)
        .order_by(Scheme.fund_code, Scheme.name, Scheme.id)
    )


def _sum(rows: list[dict], keys) -> dict:
    return {key: sum(row[key] for row in rows) for key in keys}


def funds_report(year: int) -> dict:
    """GET /reports/funds: every scheme of `year`, grouped by fund, with totals."""
    rows = []
    for r in db.session.execute(funds_query(year)).mappings():
        row = {key: r[key] for key in r}
        for key in ("vouchers", "committed_cents", "redeemed_cents", "expired_unused_cents"):
            row[key] = int(row[key])
        row["residual_cents"] = row["budget_cents"] - row["committed_cents"]
        rows.append(row)
    funds = []
    for code in dict.fromkeys(r["fund_code"] for r in rows):
        mine = [r for r in rows if r["fund_code"] == code]
        funds.append(
            {"fund_code": code, "fund_name": mine[0]["fund_name"], **_sum(mine, FUND_TOTALS)}
        )
    return {
        "year": year,
        "rows": rows,
        "funds": funds,
        "totals": _sum(rows, FUND_TOTALS),
        **report_meta(),
    }


# Fondo Povertà ---------------------------------------------------------------------------

POVERTY_FUND = "FONDO_POVERTA"
POVERTY_TOTALS = (
    "budget_cents",
    "committed_cents",
    "redeemed_cents",
    "approved_cents",
    "paid_cents",
    "residual_cents",
    "vouchers",
)


def _statement_totals(year: int):
    """Per scheme and service: public shares frozen into approved and into paid statements."""
    return (
        select(
            Voucher.scheme_id.label("scheme_id"),
            LedgerEntry.service_code.label("service_code"),
            func.sum(LedgerEntry.public_cents).label("redeemed"),
            func.sum(
                case((Statement.status == "approved", LedgerEntry.public_cents), else_=0)
            ).label("approved"),
            func.sum(case((Statement.status == "paid", LedgerEntry.public_cents), else_=0)).label(
                "paid"
            ),
        )
        .join(Voucher, Voucher.id == LedgerEntry.voucher_id)
        .join(Scheme, Scheme.id == Voucher.scheme_id)
        .outerjoin(StatementLine, StatementLine.ledger_entry_id == LedgerEntry.id)
        .outerjoin(Statement, Statement.id == StatementLine.statement_id)
        .where(Scheme.year == year, Scheme.fund_code == POVERTY_FUND)
        .group_by(Voucher.scheme_id, LedgerEntry.service_code)
    )


def fondo_poverta_queries(year: int) -> list[Select]:
    """The report's two aggregates: commitments per scheme, spending per scheme × service."""
    vouchers = _voucher_totals(year, POVERTY_FUND)
    schemes = (
        select(
            Scheme.id.label("scheme_id"),
            Scheme.name.label("scheme_name"),
            Scheme.cup,
            Scheme.budget_cents,
            func.coalesce(vouchers.c.vouchers, 0).label("vouchers"),
            func.coalesce(vouchers.c.committed, 0).label("committed_cents"),
        )
        .outerjoin(vouchers, vouchers.c.scheme_id == Scheme.id)
        .where(Scheme.year == year, Scheme.fund_code == POVERTY_FUND)
        .order_by(Scheme.name, Scheme.id)
    )
    return [schemes, _statement_totals(year)]


def fondo_poverta_report(year: int) -> dict:
    """GET /reports/fondo-poverta: impegnato and liquidato of the annualità `year`."""
    scheme_query, spending_query = fondo_poverta_queries(year)
    spending = db.session.execute(spending_query).all()
    names = dict(db.session.execute(select(Service.code, Service.name_it)).all())
    rows = []
    for r in db.session.execute(scheme_query).mappings():
        mine = [s for s in spending if s.scheme_id == r["scheme_id"]]
        row = {
            **{key: r[key] for key in r},
            "annuality": year,
            "vouchers": int(r["vouchers"]),
            "committed_cents": int(r["committed_cents"]),
            "redeemed_cents": sum(int(s.redeemed) for s in mine),
            "approved_cents": sum(int(s.approved) for s in mine),
            "paid_cents": sum(int(s.paid) for s in mine),
        }
        row["residual_cents"] = row["budget_cents"] - row["committed_cents"]
        rows.append(row)
    services = []
    for code in sorted({s.service_code for s in spending}):
        mine = [s for s in spending if s.service_code == code]
        services.append(
            {
                "service_code": code,
                "service_name": names.get(code, code),
                "redeemed_cents": sum(int(s.redeemed) for s in mine),
                "approved_cents": sum(int(s.approved) for s in mine),
                "paid_cents": sum(int(s.paid) for s in mine),
            }
        )
    return {
        "year": year,
        "annuality": year,
        "rows": rows,
        "services": services,
        "totals": _sum(rows, POVERTY_TOTALS),
        **report_meta(),
    }
