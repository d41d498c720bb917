"""The provider's own ledger: filters, pages, this month's running total, and CSV export.

Only entries with the signed-in operator's provider_id are ever read. The filters travel in
the query string: dates, a voucher code and a service code are no personal data.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from flask import make_response, render_template, request
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ...extensions import db
from ...models import LedgerEntry, Service
from ...models.status import LedgerKind
from ...reports.render.csv import render_csv
from ...reports.tables import Column, Table
from ...services import cancellation, clock, codes, ledger
from ..filters import datetime_it, localized_name
from ..security import current_actor, permission_required
from .blueprint import bp
from .cancel import cancellable_ids
from .common import current_provider
from .forms import HistoryForm

PER_PAGE = 25
CANCELLED_BY_PROVIDER = "Annullata dal fornitore"  # the CSV is in Italian, like its headers
_FILTERS = ("dal", "al", "buono", "servizio")


@dataclass(frozen=True)
class Filters:
    date_from: date | None = None
    date_to: date | None = None
    voucher_code: str | None = None  # normalised; "" when typed but impossible
    service_code: str | None = None


def ledger_filter(provider_id: int, filters: Filters) -> ledger.LedgerFilter:
    """The provider's entries matching the filters (service dates inclusive)."""
    return ledger.LedgerFilter(
        provider_id=provider_id,
        voucher_code=filters.voucher_code,
        service_code=filters.service_code,
        date_from=filters.date_from,
        date_to=filters.date_to,
    )


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
    where = ledger_filter(provider_id, filters)
    selected = ledger.ledger_totals(where)
    count = selected.count
    pages = max(1, -(-count // PER_PAGE))
    page = min(max(1, request.args.get("pagina", 1, type=int)), pages)
    today = clock.today()
    first, last = month_bounds(today)
    month = ledger_filter(provider_id, Filters(date_from=first, date_to=last))
    rows = ledger.list_ledger(
        where, offset=(page - 1) * PER_PAGE, limit=PER_PAGE, newest_first=True
    )
    return render_template(
        "provider/redemptions.html",
        form=form,
        rows=rows,
        cancellable=cancellable_ids(rows),
        by_provider=cancellation.cancelled_by_provider(e.id for e in rows if e.kind == "reversal"),
        count=count,
        page=page,
        pages=pages,
        args=_args(),
        selected=selected,
        month=ledger.ledger_totals(month),
        month_label=format_date(today, "MMMM y"),
    )


def _csv_table(rows: list[LedgerEntry], selected: ledger.LedgerTotals, filters: Filters) -> Table:
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
    by_provider = cancellation.cancelled_by_provider(e.id for e in rows if e.kind == "reversal")
    lines = [
        [
            e.id,
            CANCELLED_BY_PROVIDER if e.id in by_provider else str(LedgerKind(e.kind).label),
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
    where = ledger_filter(provider_id, filters)
    table = _csv_table(ledger.list_ledger(where), ledger.ledger_totals(where), filters)
    response = make_response(render_csv(table))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    filename = f"prestazioni-{provider_id}-{clock.today():%Y%m%d}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
