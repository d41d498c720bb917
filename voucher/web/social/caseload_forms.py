"""The caseload lists' forms: the filters, read from the query string (ids, codes and
numbers: no personal data), and the export, sent by POST with its CSRF token."""

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from ...extensions import db
from ...models import VOUCHER_STATUSES, Comune
from ...models.status import VoucherStatus
from ...services.caseload import MAX_DAYS, Filters
from ...services.schemes import list_schemes

MAX_EUROS = 1_000_000


def _optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


def _days(label, description):
    return IntegerField(
        label,
        validators=[
            Optional(),
            NumberRange(1, MAX_DAYS, message=_l("Un numero di giorni tra 1 e 366.")),
        ],
        description=description,
        render_kw={"inputmode": "numeric", "min": 1, "max": MAX_DAYS},
    )


class FilterForm(FlaskForm):
    """The filters of both lists; a filter with an error is not applied."""

    class Meta:
        csrf = False

    comune = SelectField(_l("Comune"), coerce=_optional_int, validators=[Optional()])
    misura = SelectField(_l("Misura"), coerce=_optional_int, validators=[Optional()])
    stato = SelectField(
        _l("Stato del buono"),
        choices=[SelectChoice("", _l("Tutti"))]
        + [SelectChoice(s, VoucherStatus(s).label) for s in VOUCHER_STATUSES],
        validators=[Optional()],
    )
    scade_entro = _days(
        _l("Buono in scadenza entro (giorni)"),
        _l("Buoni attivi o sospesi che finiscono entro tanti giorni da oggi."),
    )
    isee_entro = _days(
        _l("ISEE in scadenza entro (giorni)"),
        _l("L'ISEE più recente del tipo che la misura legge finisce entro tanti giorni."),
    )
    saldo_sotto = IntegerField(
        _l("Saldo inferiore a (euro)"),
        validators=[
            Optional(),
            NumberRange(1, MAX_EUROS, message=_l("Un importo intero in euro, almeno 1.")),
        ],
        render_kw={"inputmode": "numeric", "min": 1},
    )
    saldo_percento = IntegerField(
        _l("Saldo inferiore a (percentuale del valore)"),
        validators=[
            Optional(),
            NumberRange(1, 100, message=_l("Una percentuale tra 1 e 100.")),
        ],
        render_kw={"inputmode": "numeric", "min": 1, "max": 100},
    )
    ordina = SelectField(_l("Ordina per"), validators=[Optional()])

    def filters(self, text: str = "") -> Filters:
        """The filters without an error, and the text searched for (from a POST body)."""

        def ok(field):
            return None if field.errors else field.data

        euros = ok(self.saldo_sotto)
        return Filters(
            comune_id=ok(self.comune),
            scheme_id=ok(self.misura),
            status=ok(self.stato) or None,
            expiring_days=ok(self.scade_entro),
            isee_expiring_days=ok(self.isee_entro),
            balance_below_cents=None if euros is None else euros * 100,
            balance_below_percent=ok(self.saldo_percento),
            text=text,
        )

    def query_args(self) -> dict:
        """The valid filters as they travel in a URL (page links, export)."""
        return {
            field.name: field.raw_data[0]
            for field in self
            if field.raw_data and field.raw_data[0] not in ("", None) and not field.errors
        }


class ExportForm(FlaskForm):
    """The export: the format, and the text of a search when the list is one (in the body)."""

    formato = SelectField(choices=[SelectChoice("csv", "CSV"), SelectChoice("xlsx", "XLSX")])
    q = HiddenField()


SORT_LABELS = {
    "nome": _l("Cognome e nome"),
    "recenti": _l("Registrazione più recente"),
    "emissione": _l("Emissione più recente"),
    "scadenza": _l("Scadenza più vicina"),
    "saldo": _l("Saldo più basso"),
}


def _ente_comuni() -> list[Comune]:
    """The ente's Comuni, by name: what the Comune filter offers."""
    return list(
        db.session.execute(
            select(Comune).where(Comune.ente_id.is_not(None)).order_by(Comune.name)
        ).scalars()
    )


def filter_form(sorts: tuple[str, ...]) -> FilterForm:
    """The filters from the query string, validated (a filter with an error is left out)."""
    form = FilterForm(formdata=request.args)
    form.comune.choices = [SelectChoice("", _("Tutti"))] + [
        SelectChoice(c.id, c.name) for c in _ente_comuni()
    ]
    form.misura.choices = [SelectChoice("", _("Tutte"))] + [
        SelectChoice(s.id, f"{s.name} ({s.year})") for s in list_schemes()
    ]
    form.ordina.choices = [SelectChoice(s, str(SORT_LABELS[s])) for s in sorts]
    form.validate()
    if form.ordina.errors or not form.ordina.data:
        form.ordina.errors, form.ordina.data = [], sorts[0]
    return form


def back_to_list(endpoint: str, message: str):
    flash(message, "warning")
    return redirect(url_for(endpoint, **FilterForm(formdata=request.args).query_args()))
