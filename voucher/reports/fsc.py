"""The FSC social-services report (relazione consuntiva): one row per Comune × Table 4 area.

Only schemes funded by FSC_OS in the Table 4 areas A (elderly), B (minors and fragile
parenting) and C (disability) count.

Which Comune. Every figure belongs to the Comune of competence, the member Comune whose
quota pays, and never to the beneficiary's residence:
- a ledger entry counts for the Comune it carries: the voucher's Comune of competence on
  the entry's service date. A transfer moves the entries dated from the day it takes
  effect; the ones before it stay where they were. A reversal counts with its redemption.
- a voucher, its holder and what it commits count for the voucher's Comune of competence
  on the last day of its scheme's year (for the current year, the latest transfer). A
  transfer made after the year has ended leaves that year's rows as they were certified.
A person who moves keeps their vouchers' Comune: only a transfer moves a voucher.

Which vouchers. beneficiaries, vouchers and committed come from the vouchers of the FSC_OS
schemes OF THE YEAR (scheme.year), on both bases. A replacement voucher (for a lost one) is
not a new voucher, so `vouchers` counts each replacement chain once.

committed, per row, is what the scheme page calls committed (the voucher's value, less
the balance a revocation or expiry released to the budget), counted for the Comune that
holds the voucher at the end of the scheme's year. Over all Comuni it is the committed of
the scheme page. Spending may lie elsewhere: an entry counts where it was delivered, so a
Comune may show spending on a voucher another Comune holds at year end.

Which services: the two bases. redeemed (public shares), copay, amount and hours are ledger
entries net of reversals:
- cash (per cassa, the default): the entries whose service_date falls in the year,
  whatever the year of their scheme: the services delivered in the year;
- competence (per competenza): every entry of the year's vouchers, whatever its service
  date (a scheme may run into the next year): everything the year's schemes paid for.
hours counts the quantities recorded on schemes whose unit is HOUR and the hours providers
record beside the amount on schemes whose unit is EUR.

prior_year_beneficiaries and prior_year_hours are the same row one year earlier, on the
same basis. A row appears for each Comune × area with a voucher or an entry in the year or
in the year before, so that a service that stopped shows too.

User groups (aree di utenza of ISTAT's survey of municipal social interventions, used by
the monitoring form) come from the beneficiary's categories, one group per person, first
match wins: elderly (either category) → anziani; disabled → disabili; minor or fragile
parenting → famiglia e minori; inclusion household → povertà; no category → multiutenza.
Following the survey's convention, an elderly person with a disability counts among the
elderly. Totals count each person once.
"""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, case, cast, func, literal_column, or_, select

from ..extensions import db
from ..models import Beneficiary, Comune, LedgerEntry, Scheme, Voucher
from ..periods import year_bounds
from ..services.competence import comune_on_expression
from ..services.schemes import committed_expression
from .common import report_meta

FSC_FUND = "FSC_OS"
FSC_AREAS = ("A", "B", "C")
BASES = ("cash", "competence")
BASIS_LABELS = {
    "cash": _l("Per cassa: prestazioni rese nell'anno"),
    "competence": _l("Per competenza: buoni delle misure dell'anno, tutte le prestazioni"),
}
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
_SPENDING = ("redeemed_cents", "copay_cents", "amount_cents")


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


def _fsc_schemes():
    return and_(Scheme.fund_code == FSC_FUND, Scheme.area.in_(FSC_AREAS))


def hours_expression():
    """An entry's hours: its quantity on an hourly scheme, its recorded hours on a euro one."""
    return case(
        (Scheme.unit == "HOUR", LedgerEntry.quantity),
        (Scheme.unit == "EUR", LedgerEntry.hours),
    )


def _voucher_people(year: int):
    """The vouchers of the year's and the previous year's FSC schemes, one line each."""
    return (
        select(
            Scheme.year.label("year"),
            case(
                (Scheme.year == year, comune_on_expression(Voucher.id, date(year, 12, 31))),
                else_=comune_on_expression(Voucher.id, date(year - 1, 12, 31)),
            ).label("comune_id"),
            Scheme.area.label("area"),
            user_group_expression().label("user_group"),
            Voucher.beneficiary_id.label("beneficiary_id"),
            case((Voucher.replaces_id.is_(None), 1), else_=0).label("counted"),
            committed_expression().label("held"),
        )
        .select_from(Voucher)
        .join(Scheme, Scheme.id == Voucher.scheme_id)
        .join(Beneficiary, Beneficiary.id == Voucher.beneficiary_id)
        .where(_fsc_schemes(), Scheme.year.in_((year - 1, year)))
        .subquery("fsc_vouchers")
    )


def _spending_query(year: int, basis: str):
    """The ledger, read once: per Comune of competence × area, the year's spending on the
    basis and the previous year's hours on the same basis."""
    if basis not in BASES:
        raise ValueError(f"unknown basis {basis!r}")
    start, end = year_bounds(year)
    prior_start, _ = year_bounds(year - 1)
    day = LedgerEntry.service_date
    of_the_year = Scheme.year == year
    if basis == "cash":
        current = and_(day >= start, day < end)
        prior = and_(day >= prior_start, day < start)
        scope = and_(day >= prior_start, day < end)
    else:
        current = of_the_year
        prior = Scheme.year == year - 1
        scope = Scheme.year.in_((year - 1, year))

    def total(when, value):
        return func.sum(case((when, value)))

    return (
        select(
            LedgerEntry.comune_id.label("comune_id"),
            Scheme.area.label("area"),
            total(current, LedgerEntry.public_cents).label("redeemed_cents"),
            total(current, LedgerEntry.copay_cents).label("copay_cents"),
            total(current, LedgerEntry.amount_cents).label("amount_cents"),
            total(current, hours_expression()).label("hours"),
            total(prior, hours_expression()).label("prior_year_hours"),
        )
        .select_from(LedgerEntry)
        .join(Voucher, Voucher.id == LedgerEntry.voucher_id)
        .join(Scheme, Scheme.id == Voucher.scheme_id)
        .where(_fsc_schemes(), scope)
        .group_by(LedgerEntry.comune_id, Scheme.area)
    )


def fsc_queries(year: int, basis: str = "cash") -> list:
    """The report's aggregates: the vouchers of the year and of the year before per Comune
    × area × user group, the ledger per Comune × area, and distinct beneficiaries per
    year × user group."""
    people = _voucher_people(year)
    vouchers = select(
        people.c.year,
        people.c.comune_id,
        people.c.area,
        people.c.user_group,
        func.count(people.c.beneficiary_id.distinct()).label("beneficiaries"),
        func.sum(people.c.counted).label("vouchers"),
        func.sum(people.c.held).label("held_cents"),
    ).group_by(people.c.year, people.c.comune_id, people.c.area, people.c.user_group)
    groups = select(
        people.c.year,
        people.c.user_group,
        func.count(people.c.beneficiary_id.distinct()).label("beneficiaries"),
    ).group_by(people.c.year, people.c.user_group)
    return [vouchers, _spending_query(year, basis), groups]


def _hours(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def _empty_row(comune: tuple[str, str], area: str) -> dict:
    return {
        "comune_istat": comune[0],
        "comune_name": comune[1],
        "area": area,
        "beneficiaries": 0,
        "vouchers": 0,
        "committed_cents": 0,
        "redeemed_cents": 0,
        "copay_cents": 0,
        "amount_cents": 0,
        "hours": Decimal("0.00"),
        "prior_year_beneficiaries": 0,
        "prior_year_hours": Decimal("0.00"),
        "user_groups": dict.fromkeys(USER_GROUPS, 0),
    }


def _comuni(ids) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    found = db.session.execute(
        select(Comune.id, Comune.istat_code, Comune.name).where(Comune.id.in_(sorted(ids)))
    )
    return {i: (istat, name) for i, istat, name in found}


def fsc_report(year: int, basis: str = "cash") -> dict:
    """GET /reports/fsc: the year's FSC_OS vouchers and spending per Comune of competence ×
    area, on the basis asked for (cash or competence), beside the year before."""
    voucher_query, spending_query, group_query = fsc_queries(year, basis)
    voucher_lines = db.session.execute(voucher_query).all()
    spending_lines = db.session.execute(spending_query).all()
    comuni = _comuni({r.comune_id for r in voucher_lines} | {r.comune_id for r in spending_lines})
    rows: dict[tuple[int, str], dict] = {}

    def row_for(comune_id: int, area: str) -> dict:
        return rows.setdefault((comune_id, area), _empty_row(comuni[comune_id], area))

    for r in voucher_lines:
        row = row_for(r.comune_id, r.area)
        if r.year == year:
            row["beneficiaries"] += r.beneficiaries
            row["vouchers"] += int(r.vouchers)
            row["committed_cents"] += int(r.held_cents)
            row["user_groups"][r.user_group] += r.beneficiaries
        else:
            row["prior_year_beneficiaries"] += r.beneficiaries
    for r in spending_lines:
        row = row_for(r.comune_id, r.area)
        for key in _SPENDING:
            row[key] = int(getattr(r, key) or 0)
        row["hours"] = _hours(r.hours)
        row["prior_year_hours"] = _hours(r.prior_year_hours)

    ordered = sorted(rows.values(), key=lambda r: (r["comune_istat"], r["area"]))
    by_group = defaultdict(int)
    for r in db.session.execute(group_query):
        by_group[(r.year, r.user_group)] = r.beneficiaries
    totals = {key: sum(r[key] for r in ordered) for key in ROW_SUMS}
    for key in ("hours", "prior_year_hours"):
        totals[key] = sum((r[key] for r in ordered), Decimal("0.00"))
    # A person with vouchers in two areas or two Comuni is one beneficiary: totals count
    # people once.
    totals["user_groups"] = {g: by_group[(year, g)] for g in USER_GROUPS}
    totals["beneficiaries"] = sum(totals["user_groups"].values())
    totals["prior_year_beneficiaries"] = sum(by_group[(year - 1, g)] for g in USER_GROUPS)
    return {
        "year": year,
        "basis": basis,
        "rows": ordered,
        "totals": totals,
        "user_group_labels": dict(USER_GROUPS),
        **report_meta(),
    }
