"""The FSC social-services report (relazione consuntiva): one row per Comune × Table 4 area.

Choices, as the monitoring form needs them:
- Only schemes funded by FSC_OS in the Table 4 areas A (elderly), B (minors and fragile
  parenting) and C (disability). The Comune is the beneficiary's Comune of residence.
- beneficiaries, vouchers and committed come from the vouchers of the FSC_OS schemes OF THAT
  YEAR (scheme.year): the year's commitment. A replacement voucher (for a lost one) is not a
  new voucher, so `vouchers` counts each replacement chain once; committed follows the scheme
  page (the unspent balance of a revoked or expired voucher is released).
- redeemed (public shares), copay and hours are the ledger entries, net of reversals, whose
  service_date falls in the year, whatever the year of their scheme: the year's spending.
  hours is the sum of the quantities recorded on schemes whose unit is HOUR.
- User groups (aree di utenza of ISTAT's survey of municipal social interventions, used by the
  monitoring form) come from the beneficiary's categories, one group per person, first match
  wins: elderly (either category) → anziani; disabled → disabili; minor or fragile parenting →
  famiglia e minori; inclusion household → povertà; no category → multiutenza. Following the
  survey's convention, an elderly person with a disability counts among the elderly.
"""

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import String, and_, case, cast, func, literal_column, or_, select

from ..extensions import db
from ..models import Beneficiary, Comune, LedgerEntry, Scheme, Voucher
from ..periods import year_bounds
from ..services.schemes import committed_expression
from .common import report_meta

FSC_FUND = "FSC_OS"
FSC_AREAS = ("A", "B", "C")
USER_GROUPS = {
    "anziani": "Anziani",
    "disabili": "Disabili",
    "famiglia_minori": "Famiglia e minori",
    "poverta": "Povertà, disagio adulti e senza dimora",
    "multiutenza": "Multiutenza",
}
_GROUP_RULES = (
    ("anziani", ("elderly_self_sufficient", "elderly_dependent")),
    ("disabili", ("disabled",)),
    ("famiglia_minori", ("minor", "fragile_parenting")),
    ("poverta", ("inclusion_household",)),
)
ROW_SUMS = ("vouchers", "committed_cents", "redeemed_cents", "copay_cents", "amount_cents")


def user_group_expression():
    """The beneficiary's user group, computed by the database from the JSON categories."""
    text = cast(Beneficiary.categories, String)
    # Constants, inlined so that the expression is identical wherever the query repeats it.
    return case(
        *(
            (or_(*(text.like(literal_column(f"'%\"{c}\"%'")) for c in cats)), group)
            for group, cats in _GROUP_RULES
        ),
        else_="multiutenza",
    )


def _fsc_vouchers(year: int):
    return and_(Scheme.fund_code == FSC_FUND, Scheme.year == year, Scheme.area.in_(FSC_AREAS))


def fsc_queries(year: int) -> list:
    """The report's aggregates: the year's vouchers per Comune × area × user group, the
    year's spending per Comune × area, and distinct beneficiaries per user group."""
    people = (
        select(
            Comune.istat_code.label("comune_istat"),
            Comune.name.label("comune_name"),
            Scheme.area.label("area"),
            user_group_expression().label("user_group"),
            Voucher.beneficiary_id.label("beneficiary_id"),
            case((Voucher.replaces_id.is_(None), 1), else_=0).label("counted"),
            committed_expression().label("committed"),
        )
        .select_from(Voucher)
        .join(Scheme, Scheme.id == Voucher.scheme_id)
        .join(Beneficiary, Beneficiary.id == Voucher.beneficiary_id)
        .join(Comune, Comune.id == Beneficiary.comune_id)
        .where(_fsc_vouchers(year))
        .subquery("fsc_vouchers")
    )
    vouchers = select(
        people.c.comune_istat,
        people.c.comune_name,
        people.c.area,
        people.c.user_group,
        func.count(people.c.beneficiary_id.distinct()).label("beneficiaries"),
        func.sum(people.c.counted).label("vouchers"),
        func.sum(people.c.committed).label("committed_cents"),
    ).group_by(people.c.comune_istat, people.c.comune_name, people.c.area, people.c.user_group)

    start, end = year_bounds(year)
    spending = (
        select(
            Comune.istat_code.label("comune_istat"),
            Comune.name.label("comune_name"),
            Scheme.area.label("area"),
            func.sum(LedgerEntry.public_cents).label("redeemed_cents"),
            func.sum(LedgerEntry.copay_cents).label("copay_cents"),
            func.sum(LedgerEntry.amount_cents).label("amount_cents"),
            func.sum(case((Scheme.unit == "HOUR", LedgerEntry.quantity), else_=None)).label(
                "hours"
            ),
        )
        .select_from(LedgerEntry)
        .join(Voucher, Voucher.id == LedgerEntry.voucher_id)
        .join(Scheme, Scheme.id == Voucher.scheme_id)
        .join(Beneficiary, Beneficiary.id == Voucher.beneficiary_id)
        .join(Comune, Comune.id == Beneficiary.comune_id)
        .where(
            Scheme.fund_code == FSC_FUND,
            Scheme.area.in_(FSC_AREAS),
            LedgerEntry.service_date >= start,
            LedgerEntry.service_date < end,
        )
        .group_by(Comune.istat_code, Comune.name, Scheme.area)
    )

    groups = select(
        people.c.user_group, func.count(people.c.beneficiary_id.distinct()).label("beneficiaries")
    ).group_by(people.c.user_group)
    return [vouchers, spending, groups]


def _hours(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def fsc_report(year: int) -> dict:
    """GET /reports/fsc: the year's FSC_OS vouchers and spending per Comune × area."""
    voucher_query, spending_query, group_query = fsc_queries(year)
    rows: dict[tuple[str, str], dict] = {}

    def row_for(istat: str, name: str, area: str) -> dict:
        return rows.setdefault(
            (istat, area),
            {
                "comune_istat": istat,
                "comune_name": name,
                "area": area,
                "beneficiaries": 0,
                "vouchers": 0,
                "committed_cents": 0,
                "redeemed_cents": 0,
                "copay_cents": 0,
                "amount_cents": 0,
                "hours": Decimal("0.00"),
                "user_groups": dict.fromkeys(USER_GROUPS, 0),
            },
        )

    for r in db.session.execute(voucher_query):
        row = row_for(r.comune_istat, r.comune_name, r.area)
        row["beneficiaries"] += r.beneficiaries
        row["vouchers"] += int(r.vouchers)
        row["committed_cents"] += int(r.committed_cents)
        row["user_groups"][r.user_group] += r.beneficiaries
    for r in db.session.execute(spending_query):
        row = row_for(r.comune_istat, r.comune_name, r.area)
        row["redeemed_cents"] = int(r.redeemed_cents)
        row["copay_cents"] = int(r.copay_cents)
        row["amount_cents"] = int(r.amount_cents)
        row["hours"] = _hours(r.hours)

    ordered = [rows[key] for key in sorted(rows)]
    by_group = defaultdict(int, {g: n for g, n in db.session.execute(group_query).all()})
    totals = {key: sum(r[key] for r in ordered) for key in ROW_SUMS}
    totals["hours"] = sum((r["hours"] for r in ordered), Decimal("0.00"))
    # A person with vouchers in two areas is one beneficiary: totals count people once.
    totals["user_groups"] = {g: by_group[g] for g in USER_GROUPS}
    totals["beneficiaries"] = sum(totals["user_groups"].values())
    return {
        "year": year,
        "rows": ordered,
        "totals": totals,
        "user_group_labels": dict(USER_GROUPS),
        **report_meta(),
    }
