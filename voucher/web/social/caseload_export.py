"""The caseload lists as files (CSV and XLSX, through the reports' renderers): the whole
list the page shows, every page of it, sent by POST (the text of a search travels in the
body, the filters in the query string). An export reads every person in it: one audit
event with the count and the filters, never a name."""

from datetime import UTC

from flask import make_response
from flask_babel import gettext as _

from ...models.status import VoucherStatus
from ...reports.render import MIMETYPES
from ...reports.render.csv import render_csv
from ...reports.render.xlsx import render_xlsx
from ...reports.tables import Column, Table
from ...services import caseload, clock
from ...services.ente import get_ente
from ..security import current_actor, permission_required
from .blueprint import bp
from .caseload_forms import ExportForm, back_to_list, filter_form
from .common import no_store

RENDERERS = {"csv": render_csv, "xlsx": render_xlsx}
MIN_TEXT, MAX_TEXT = 2, 100  # as the search form


def _people_columns() -> list[Column]:
    return [
        Column("last_name", _("Cognome")),
        Column("first_name", _("Nome")),
        Column("fiscal_code", _("Codice fiscale")),
        Column("birth_date", _("Data di nascita"), "date"),
        Column("comune", _("Comune di residenza")),
        Column("open_vouchers", _("Buoni attivi o sospesi"), "int"),
        Column("next_expiry", _("Prima scadenza"), "date"),
        Column("open_balance", _("Saldo dei buoni attivi o sospesi"), "cents"),
    ]


def _person_row(row: caseload.PersonRow) -> list:
    p = row.person
    return [
        p.last_name,
        p.first_name,
        p.fiscal_code,
        p.birth_date,
        p.comune.name,
        row.open_vouchers,
        row.next_expiry,
        row.open_balance_cents,
    ]


def _voucher_columns() -> list[Column]:
    return [
        Column("code", _("Codice del buono")),
        Column("last_name", _("Cognome")),
        Column("first_name", _("Nome")),
        Column("fiscal_code", _("Codice fiscale")),
        Column("scheme", _("Misura")),
        Column("comune", _("Comune di competenza")),
        Column("status", _("Stato")),
        Column("value", _("Valore"), "cents"),
        Column("balance", _("Saldo"), "cents"),
        Column("valid_from", _("Valido dal"), "date"),
        Column("valid_until", _("Valido fino al"), "date"),
        Column("issued_on", _("Emesso il"), "date"),
    ]


def _voucher_row(v) -> list:
    issued = v.issued_at if v.issued_at.tzinfo else v.issued_at.replace(tzinfo=UTC)
    return [
        v.code,
        v.beneficiary.last_name,
        v.beneficiary.first_name,
        v.beneficiary.fiscal_code,
        v.scheme.name,
        v.comune.name,
        str(VoucherStatus(v.status).label),
        v.value_cents,
        v.balance_cents,
        v.valid_from,
        v.valid_until,
        issued.astimezone(clock.ROME).date(),
    ]


LISTS = {
    # kind: (its page, its sorts, the whole list, the columns, one row)
    "beneficiari": (
        "social.beneficiaries",
        caseload.PEOPLE_SORTS,
        caseload.all_people,
        _people_columns,
        _person_row,
    ),
    "buoni": (
        "social.vouchers",
        caseload.VOUCHER_SORTS,
        caseload.all_vouchers,
        _voucher_columns,
        _voucher_row,
    ),
}


def _title(kind: str) -> str:
    return _("Elenco dei beneficiari") if kind == "beneficiari" else _("Elenco dei buoni")


def _export(kind: str):
    endpoint, sorts, read_all, columns, to_row = LISTS[kind]
    form = ExportForm()
    if not form.validate_on_submit():
        return back_to_list(endpoint, _("Scegliere il formato del file: CSV o XLSX."))
    filters_form = filter_form(sorts)
    text = (form.q.data or "").strip()
    text = text if MIN_TEXT <= len(text) <= MAX_TEXT else ""
    filters = filters_form.filters(text)
    actor = current_actor()
    try:
        rows = [to_row(r) for r in read_all(actor, filters, filters_form.ordina.data)]
    except caseload.TooManyRows:
        return back_to_list(
            endpoint,
            _(
                "L'elenco ha più di %(limit)s righe: restringi i filtri per esportarlo.",
                limit=f"{caseload.EXPORT_LIMIT:,}".replace(",", "."),
            ),
        )
    ente, today, fmt = get_ente(), clock.today(), form.formato.data
    table = Table(
        name=f"elenco-{kind}",
        title=_title(kind),
        period=_("Al %(date)s", date=today.strftime("%d/%m/%Y")),
        filename=f"{kind}-{today.isoformat()}",
        columns=columns(),
        rows=rows,
        ente_name=ente.name if ente else "",
        ente_fiscal_code=ente.fiscal_code if ente else "",
        generated_at=clock.now().astimezone(clock.ROME),
    )
    data = RENDERERS[fmt](table)
    caseload.record_export(actor, kind, fmt, len(rows), filters)
    response = make_response(data)
    response.headers["Content-Type"] = MIMETYPES[fmt]
    response.headers["Content-Disposition"] = f'attachment; filename="{table.filename}.{fmt}"'
    return no_store(response)


@bp.route("/beneficiari/esporta", methods=["POST"])
@permission_required("beneficiary.manage")
def beneficiaries_export():
    """The list of people, filtered and searched as on its page, as a file."""
    return _export("beneficiari")


@bp.route("/buoni/esporta", methods=["POST"])
@permission_required("voucher.manage")
def vouchers_export():
    """The list of vouchers, filtered and searched as on its page, as a file."""
    return _export("buoni")
