"""The provider's own ledger: filters, pages, this month's running total, and CSV export.

Only entries with the signed-in operator's provider_id are ever read. The filters travel in
the query string: dates, a voucher code and a service code are no personal data.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from flask import make_response, render_template, request
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from ...extensions import db
from ...models import LedgerEntry, Service, Voucher
from ...reports.render.csv import render_csv
from ...reports.tables import Column, Table
from ...services import clock, codes
from ..helpers import datetime_it, localized_name
from ..security import current_actor, permission_required
from . import bp
from .common import KIND_LABELS, current_provider, quantity_text
from .forms import HistoryForm

PER_PAGE = 25
_FILTERS = ("dal", "al", "buono", "servizio")


@dataclass(frozen=True)
class Filters:
    date_from: date | None = None
    date_to: date | None = None
    voucher_code: str | None = None  # normalised; "" when typed but impossible
    service_code: str | None = None


@dataclass(frozen=True)
class Totals:
    count: int
    amount_cents: int
    public_cents: int
    copay_cents: int


def ledger_query(provider_id: int, filters: Filters) -> Select:
    """The provider's entries matching the filters (service dates inclusive)."""
    query = select(LedgerEntry).where(LedgerEntry.provider_id == provider_id)
    if filters.voucher_code is not None:
        query = query.join(Voucher, Voucher.id == LedgerEntry.voucher_id).where(
            Voucher.code == filters.voucher_code
        )
    if filters.service_code:
        query = query.where(LedgerEntry.service_code == filters.service_code)
    if filters.date_from is not None:
        query = query.where(LedgerEntry.service_date >= filters.date_from)
    if filters.date_to is not None:
        query = query.where(LedgerEntry.service_date <= filters.date_to)
    return query


def totals(query: Select) -> Totals:
    """How many entries a query selects, and their net totals (reversals count negative)."""
    selected = query.subquery()
    row = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(selected.c.amount_cents), 0),
            func.coalesce(func.sum(selected.c.public_cents), 0),
            func.coalesce(func.sum(selected.c.copay_cents), 0),
        )
    ).one()
    return Totals(*(int(v) for v in row))


def entries(
    query: Select, *, offset: int = 0, limit: int | None = None, newest_first: bool = True
) -> list[LedgerEntry]:
    """The entries with their voucher and service, by id."""
    query = query.options(
        selectinload(LedgerEntry.voucher).selectinload(Voucher.scheme),
        selectinload(LedgerEntry.service),
    ).order_by(LedgerEntry.id.desc() if newest_first else LedgerEntry.id)
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.execute(query).scalars())


def month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def _form() -> tuple[HistoryForm, Filters]:
    """The filters form from the query string; a filter with an error is not applied."""
    form = HistoryForm(formdata=request.args)
    provider = current_provider()
    accredited = {a.service_code for a in provider.accreditations}
    services = db.session.execute(
        select(Service).where(Service.code.in_(accredited)).order_by(Service.code)
    ).scalars()
    form.servizio.choices = [SelectChoice("", _("Tutti i servizi"))] + [
        SelectChoice(s.code, f"{s.code} — {localized_name(s)}") for s in services
    ]
    form.validate()
    code = None
    if form.buono.data and not form.buono.errors:
        code = codes.normalise_code(form.buono.data)
        if code is None:
            form.buono.errors = [_("Questo non è un codice di buono valido.")]
            code = ""  # matches nothing
    filters = Filters(
        date_from=None if form.dal.errors else form.dal.data,
        date_to=None if form.al.errors else form.al.data,
        voucher_code=code,
        service_code=(form.servizio.data or None) if not form.servizio.errors else None,
    )
    return form, filters


def _args() -> dict:
    return {k: v for k, v in request.args.items() if k in _FILTERS and v}


@bp.route("/prestazioni")
@permission_required("redemption.create")
def redemptions():
    """The provider's redemptions and reversals, newest first, with this month's total."""
    provider_id = current_actor().provider_id
    form, filters = _form()
    query = ledger_query(provider_id, filters)
    count = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    pages = max(1, -(-count // PER_PAGE))
    page = min(max(1, request.args.get("pagina", 1, type=int)), pages)
    today = clock.today()
    first, last = month_bounds(today)
    month = ledger_query(provider_id, Filters(date_from=first, date_to=last))
    return render_template(
        "provider/redemptions.html",
        form=form,
        rows=entries(query, offset=(page - 1) * PER_PAGE, limit=PER_PAGE),
        count=count,
        page=page,
        pages=pages,
        args=_args(),
        selected=totals(query),
        month=totals(month),
        month_label=format_date(today, "MMMM y"),
        kind_labels=KIND_LABELS,
        quantity_text=quantity_text,
    )


def _csv_table(rows: list[LedgerEntry], selected: Totals, filters: Filters) -> Table:
    columns = [
        Column("id", "N. movimento", "int"),
        Column("kind", "Tipo"),
        Column("reverses", "Storna il movimento", "int"),
        Column("service_date", "Data prestazione", "date"),
        Column("created_at", "Registrata il"),
        Column("voucher", "Buono"),
        Column("service_code", "Codice servizio"),
        Column("service", "Servizio"),
        Column("quantity", "Quantità", "decimal"),
        Column("amount", "Costo", "cents"),
        Column("public", "Quota pubblica", "cents"),
        Column("copay", "Compartecipazione", "cents"),
        Column("balance", "Saldo residuo del buono", "cents"),
    ]
    lines = [
        [
            e.id,
            str(KIND_LABELS[e.kind]),
            e.reverses_id,
            e.service_date,
            datetime_it(e.created_at),
            e.voucher.code,
            e.service_code,
            e.service.name_it,
            e.quantity,
            e.amount_cents,
            e.public_cents,
            e.copay_cents,
            e.balance_after_cents,
        ]
        for e in rows
    ]
    total = ["Totale"] + [None] * 8 + [selected.amount_cents, selected.public_cents]
    total += [selected.copay_cents, None]
    start = f"{filters.date_from:%d/%m/%Y}" if filters.date_from else "inizio"
    end = f"{filters.date_to:%d/%m/%Y}" if filters.date_to else "oggi"
    return Table(
        name="provider-ledger",
        title="Prestazioni registrate",
        period=f"{start} - {end}",
        filename="prestazioni",
        columns=columns,
        rows=lines,
        totals=total,
    )


@bp.route("/prestazioni.csv")
@permission_required("redemption.create")
def redemptions_csv():
    """The filtered list as CSV for Excel in Italy (UTF-8 with BOM, `;`, decimal comma)."""
    provider_id = current_actor().provider_id
    filters = _form()[1]
    query = ledger_query(provider_id, filters)
    table = _csv_table(entries(query, newest_first=False), totals(query), filters)
    response = make_response(render_csv(table))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    filename = f"prestazioni-{provider_id}-{clock.today():%Y%m%d}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
