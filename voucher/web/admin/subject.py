"""A data-subject request: the admin exports everything held about one person, as JSON or
PDF, from the person's page. A POST form (the reason travels in the body, never in a URL);
every export is audited by the service."""

import json
from datetime import date, datetime
from decimal import Decimal

from flask import Response, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ...models.status import LedgerKind, VoucherStatus
from ...reports.render.pdf import render_pdf
from ...reports.tables import Column, Section, Table
from ...services import beneficiaries, clock, subject_export
from ...services.money import format_euro
from ..labels import ACTOR_TYPE_LABELS, AUDIT_LABELS, CATEGORY_LABELS, ISEE_TYPE_LABELS, SEX_LABELS
from ..lookups import load_or_404
from ..refusals import showing_refusals
from ..security import current_actor, permission_required
from .blueprint import bp


class SubjectExportForm(FlaskForm):
    reason = TextAreaField(
        _l("Motivo dell'esportazione"),
        validators=[DataRequired(), Length(max=subject_export.MAX_REASON)],
        description=_l(
            "Ad esempio: richiesta di accesso dell'interessato, con il numero di protocollo. "
            "Il motivo è registrato nel registro di audit."
        ),
    )
    format = RadioField(
        _l("Formato"),
        choices=[
            SelectChoice("pdf", _l("PDF, da consegnare all'interessato")),
            SelectChoice("json", _l("JSON, leggibile da un programma (portabilità)")),
        ],
        default="pdf",
        validators=[DataRequired()],
    )


@bp.route("/beneficiari/<int:beneficiary_id>/esportazione", methods=["GET", "POST"])
@permission_required("beneficiary.export")
def subject_export_page(beneficiary_id: int):
    person = load_or_404(beneficiaries.get_beneficiary, beneficiary_id)
    form = SubjectExportForm()
    if form.validate_on_submit():
        with showing_refusals(form):
            record = subject_export.export_subject(
                current_actor(), person, reason=form.reason.data, fmt=form.format.data
            )
            return _send(record, form.format.data)
    return render_template("admin/subject_export.html", person=person, form=form)


def _send(record: dict, fmt: str) -> Response:
    """The file, named by the record's id and date only (no name, no fiscal code)."""
    stamp = record["generated_at"].strftime("%Y%m%d")
    name = f"dati_interessato_{record['person']['id']}_{stamp}"
    if fmt == "json":
        content = json.dumps(record, default=_plain, ensure_ascii=False, indent=2).encode()
        mimetype, filename = "application/json", f"{name}.json"
    else:
        content = render_pdf(subject_table(record))
        mimetype, filename = "application/pdf", f"{name}.pdf"
    return Response(
        content,
        content_type=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _plain(value):
    """JSON for what json does not know: ISO dates and times, decimals as text."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not serialisable: {type(value).__name__}")


# The PDF: an Italian document, like the reports


def _text(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(clock.ROME).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


PERSON_LABELS = {
    "id": "Identificativo",
    "fiscal_code": "Codice fiscale",
    "first_name": "Nome",
    "last_name": "Cognome",
    "birth_date": "Data di nascita",
    "sex": "Sesso",
    "citizenship": "Cittadinanza",
    "comune_name": "Comune di residenza",
    "comune_istat": "Codice ISTAT del Comune",
    "categories": "Categorie",
    "isee_cents": "ISEE",
    "isee_valid_until": "ISEE valido fino al",
    "phone": "Telefono",
    "email": "E-mail",
    "address": "Indirizzo",
    "registered_at": "Registrato il",
    "pseudonymised_at": "Pseudonimizzato il",
}


# What the voucher page's labels do not name: the person's own events, and the objects.
PERSON_EVENTS = {
    "beneficiary.registered": "Registrazione",
    "beneficiary.updated": "Modifica dei dati",
    "beneficiary.isee_recorded": "Nuova attestazione ISEE",
    "beneficiary.exported": "Esportazione dei dati",
    "household.created": "Creazione del nucleo",
}
OBJECTS = {"beneficiary": "persona", "voucher": "buono", "household": "nucleo"}


def _italian(record: dict) -> dict:
    """The record's codes as the words the pages use, in Italian (the PDF is an Italian
    document, like the reports)."""
    with force_locale("it"):

        def word(labels: dict, code):
            return str(labels.get(code, code)) if code is not None else None

        person = dict(record["person"])
        person["sex"] = word(SEX_LABELS, person["sex"])
        person["categories"] = [word(CATEGORY_LABELS, c) for c in person["categories"]]
        if person["isee_cents"] is not None:
            person["isee_cents"] = format_euro(person["isee_cents"])
        statuses = {s.value: s.label for s in VoucherStatus}
        kinds = {k.value: k.label for k in LedgerKind}
        return {
            **record,
            "person": person,
            "isee_records": [
                {**r, "type": word(ISEE_TYPE_LABELS, r["type"])} for r in record["isee_records"]
            ],
            "vouchers": [{**v, "status": word(statuses, v["status"])} for v in record["vouchers"]],
            "ledger_entries": [
                {**e, "kind": word(kinds, e["kind"])} for e in record["ledger_entries"]
            ],
            "audit_events": [
                {
                    **e,
                    "action": word({**AUDIT_LABELS, **PERSON_EVENTS}, e["action"]),
                    "object_type": word(OBJECTS, e["object_type"]),
                    "actor_type": word(ACTOR_TYPE_LABELS, e["actor_type"]),
                }
                for e in record["audit_events"]
            ],
        }


def _person_rows(record: dict) -> list[list]:
    person = record["person"]
    rows = [[label, _text(person[key])] for key, label in PERSON_LABELS.items()]
    household = record["household"]
    if household:
        rows.append(["Nucleo familiare", household["label"]])
        rows.append(["Altri componenti del nucleo", str(household["other_members"])])
    return rows


def _section(title: str, columns: list[tuple], items: list[dict]) -> Section:
    """A section from (key, header, kind) columns; text values written the Italian way."""
    cols = [Column(key, header, kind) for key, header, kind in columns]
    rows = [
        [item.get(c.key) if c.kind != "text" else _text(item.get(c.key)) for c in cols]
        for item in items
    ]
    return Section(title, cols, rows)


def subject_table(record: dict) -> Table:
    """The export as a report table: the person, then one section per kind of record."""
    record = _italian(record)
    ente = record["controller"]
    sections = [
        _section(
            "Attestazioni ISEE",
            [
                ("type", "Tipo", "text"),
                ("value_cents", "Valore", "cents"),
                ("dsu_protocol", "Protocollo DSU", "text"),
                ("dsu_date", "Data DSU", "text"),
                ("valid_until", "Valida fino al", "text"),
                ("entered_at", "Registrata il", "text"),
            ],
            record["isee_records"],
        ),
        _section(
            "Buoni",
            [
                ("code", "Codice", "text"),
                ("scheme_name", "Misura", "text"),
                ("status", "Stato", "text"),
                ("value_cents", "Valore", "cents"),
                ("balance_cents", "Saldo", "cents"),
                ("coverage_percent", "Copertura %", "int"),
                ("valid_from", "Valido dal", "text"),
                ("valid_until", "Valido fino al", "text"),
                ("comune_istat", "Comune di competenza", "text"),
                ("revoke_reason", "Motivo della revoca", "text"),
            ],
            record["vouchers"],
        ),
        _section(
            "Prestazioni registrate",
            [
                ("service_date", "Data", "text"),
                ("kind", "Tipo", "text"),
                ("voucher_code", "Buono", "text"),
                ("service_name", "Servizio", "text"),
                ("provider_name", "Fornitore", "text"),
                ("amount_cents", "Costo", "cents"),
                ("public_cents", "Quota pubblica", "cents"),
                ("copay_cents", "Compartecipazione", "cents"),
            ],
            record["ledger_entries"],
        ),
        _section(
            "Flussi SIUSS inviati all'INPS",
            [
                ("period", "Mese", "text"),
                ("operation", "Operazione", "text"),
                ("id_flusso", "Identificativo", "text"),
                ("voucher_code", "Buono", "text"),
                ("public_cents", "Quota ente", "cents"),
                ("copay_cents", "Quota utente", "cents"),
            ],
            record["siuss_flows"],
        ),
        _section(
            "Eventi del registro di audit",
            [
                ("at", "Data e ora", "text"),
                ("action", "Evento", "text"),
                ("object_type", "Oggetto", "text"),
                ("object_id", "Riferimento", "text"),
                ("actor_type", "Autore", "text"),
            ],
            record["audit_events"],
        ),
    ]
    return Table(
        name="subject",
        title="Dati personali trattati",
        period=f"Interessato n. {record['person']['id']}",
        filename=f"dati_interessato_{record['person']['id']}",
        columns=[Column("label", "Dato"), Column("value", "Valore")],
        rows=_person_rows(record),
        ente_name=ente["name"] or "",
        ente_fiscal_code=ente["fiscal_code"] or "",
        generated_at=record["generated_at"],
        notes=[
            "Esportazione dei dati personali trattati dall'ente (art. 15 del Regolamento UE "
            "2016/679). Il formato JSON contiene gli stessi dati in forma leggibile da un "
            "programma, comprese le righe dei caricamenti massivi."
        ],
        sections=[s for s in sections if s.rows],
    )
