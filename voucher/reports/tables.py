"""Each report as a table (title, typed columns, rows, totals), and the further sections a
report may have (each with its title, columns, rows and totals): what the CSV, XLSX and PDF
renderers share, so that the three files always hold the same figures as the JSON."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from flask_babel import force_locale

from ..models.status import LedgerKind, StatementStatus
from ..services.money import format_euro
from .fsc import BASIS_LABELS, USER_GROUPS


@dataclass(frozen=True)
class Column:
    """A column; kind is text, int, cents (integer euro cents), decimal (two places) or date."""

    key: str
    header: str
    kind: str = "text"
    # False: left out of the PDF, where the section's title already says it.
    in_pdf: bool = True
    # False: a code (partita IVA, IBAN) that the PDF keeps on one line, never squeezed.
    wrap: bool = True


@dataclass
class Section:
    """One titled table of a report: a sheet of the XLSX, a section of the PDF."""

    title: str
    columns: list[Column]
    rows: list[list]
    totals: list | None = None
    sheet: str = ""  # the XLSX sheet's name, when not the title's first 31 characters


@dataclass
class Table:
    """A report ready to render: rows are lists of values in column order.

    The CSV holds the main table (columns, rows, totals) alone. The XLSX and the PDF show it,
    then each of `sections`; or, when `grouped`, the sections in its place: they split its
    rows by group (the liquidation proposal, one document per fund and CUP)."""

    name: str
    title: str
    period: str
    filename: str
    columns: list[Column]
    rows: list[list]
    totals: list | None = None
    ente_name: str = ""
    ente_fiscal_code: str = ""
    generated_at: datetime | None = None
    notes: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    grouped: bool = False
    # The PDF ends with room for this officer's signature: the file is an act.
    signature: str = ""

    @property
    def main(self) -> Section:
        return Section(self.title, self.columns, self.rows, self.totals)

    def parts(self) -> list[Section]:
        """The tables the XLSX (a sheet each) and the PDF show, in order."""
        return list(self.sections) if self.grouped else [self.main, *self.sections]


def _values(columns: list[Column], record: dict) -> list:
    return [record.get(c.key) for c in columns]


def _totals(columns: list[Column], totals: dict, label: str = "Totale") -> list:
    """The totals row: the label in the first column, then the total of every summed column."""
    row = [totals.get(c.key) if c.kind in ("int", "cents", "decimal") else None for c in columns]
    row[0] = label
    return row


def _table(data: dict, **kwargs) -> Table:
    return Table(
        ente_name=data.get("ente_name", ""),
        ente_fiscal_code=data.get("ente_fiscal_code", ""),
        generated_at=data.get("generated_at"),
        **kwargs,
    )


def funds_table(data: dict) -> Table:
    """The funds report: budget, commitments and redemptions per scheme."""
    columns = [
        Column("fund_code", "Fondo"),
        Column("scheme_name", "Misura"),
        Column("cup", "CUP"),
        Column("budget_cents", "Budget", "cents"),
        Column("vouchers", "Buoni emessi", "int"),
        Column("committed_cents", "Impegnato", "cents"),
        Column("redeemed_cents", "Rendicontato", "cents"),
        Column("expired_unused_cents", "Scaduto non utilizzato", "cents"),
        Column("residual_cents", "Residuo", "cents"),
    ]
    return _table(
        data,
        name="funds",
        title="Rendiconto dei fondi per misura",
        period=f"Anno {data['year']}",
        filename=f"fondi_{data['year']}",
        columns=columns,
        rows=[_values(columns, r) for r in data["rows"]],
        totals=_totals(columns, data["totals"]),
        notes=[
            "Impegnato: valore dei buoni spesi o ancora spendibili (il saldo dei buoni revocati "
            "o scaduti torna al budget). Rendicontato: quote pubbliche al netto degli storni. "
            "Residuo: budget meno impegnato."
        ],
    )


def fondo_poverta_table(data: dict) -> Table:
    """The Fondo Povertà report: the services' share per scheme, approved and paid."""
    columns = [
        Column("scheme_name", "Misura"),
        Column("cup", "CUP"),
        Column("budget_cents", "Budget", "cents"),
        Column("committed_cents", "Impegnato", "cents"),
        Column("redeemed_cents", "Rendicontato", "cents"),
        Column("approved_cents", "Approvato da liquidare", "cents"),
        Column("paid_cents", "Liquidato", "cents"),
        Column("residual_cents", "Residuo", "cents"),
    ]
    return _table(
        data,
        name="fondo-poverta",
        title="Fondo Povertà - quota servizi (D.Lgs. 147/2017, art. 7)",
        period=f"Annualità {data['year']}",
        filename=f"fondo_poverta_{data['year']}",
        columns=columns,
        rows=[_values(columns, r) for r in data["rows"]],
        totals=_totals(columns, data["totals"]),
        notes=[
            "Impegnato: valore dei buoni spesi o ancora spendibili. Liquidato: quote pubbliche "
            "dei rendiconti dei fornitori approvati e pagati."
        ],
    )


# The FSC report's bases, as its files name them (see voucher.reports.fsc).
FSC_BASIS_WORDS = {"cash": "Per cassa", "competence": "Per competenza"}
FSC_BASIS_FILES = {"cash": "per_cassa", "competence": "per_competenza"}
FSC_BASIS_NOTES = {
    "cash": "Erogato, compartecipazione e ore: prestazioni con data nell'anno, di buoni "
    "di qualunque annualità, al netto degli storni.",
    "competence": "Erogato, compartecipazione e ore: tutte le prestazioni dei buoni delle "
    "misure FSC_OS dell'anno, qualunque ne sia la data, al netto degli storni.",
}


def fsc_table(data: dict) -> Table:
    """The FSC service-objectives report (Tabella 4) per Comune of competence and area, on
    one basis, with the year before and the increment."""
    year, basis = data["year"], data.get("basis", "cash")
    with force_locale("it"):
        labels = {key: str(label) for key, label in BASIS_LABELS.items()}
    columns = [
        Column("basis", "Base"),
        Column("comune_istat", "Codice ISTAT"),
        Column("comune_name", "Comune"),
        Column("area", "Area"),
        Column("beneficiaries", "Beneficiari", "int"),
        Column("prior_year_beneficiaries", f"Beneficiari {year - 1}", "int"),
        Column("beneficiaries_increment", "Incremento beneficiari", "int"),
        Column("vouchers", "Buoni", "int"),
        Column("committed_cents", "Impegnato", "cents"),
        Column("redeemed_cents", "Erogato (quota pubblica)", "cents"),
        Column("copay_cents", "Compartecipazione", "cents"),
        Column("hours", "Ore", "decimal"),
        Column("prior_year_hours", f"Ore {year - 1}", "decimal"),
        Column("hours_increment", "Incremento ore", "decimal"),
    ] + [Column(f"group_{key}", f"Utenti: {label}", "int") for key, label in USER_GROUPS.items()]

    def flat(record: dict) -> dict:
        """The record with its user groups as columns of their own, and the increments."""
        groups = {f"group_{k}": v for k, v in record["user_groups"].items()}
        return {
            **record,
            **groups,
            "basis": FSC_BASIS_WORDS[basis],
            "beneficiaries_increment": record["beneficiaries"] - record["prior_year_beneficiaries"],
            "hours_increment": record["hours"] - record["prior_year_hours"],
        }

    other = "competence" if basis == "cash" else "cash"
    return _table(
        data,
        name="fsc",
        # The basis first: a spreadsheet's sheet name keeps only the title's first 31 characters.
        title=f"FSC {FSC_BASIS_WORDS[basis].lower()} - obiettivi di servizio sociali "
        "(Tabella 4, aree A, B, C)",
        period=f"Anno {year} - {labels[basis]}",
        filename=f"fsc_{year}_{FSC_BASIS_FILES[basis]}",
        columns=columns,
        rows=[_values(columns, flat(r)) for r in data["rows"]],
        totals=_totals(columns, flat(data["totals"])),
        notes=[
            f"Base di questo file - {labels[basis]}. {FSC_BASIS_NOTES[basis]}",
            f"L'altra base - {labels[other]} - è in un file a parte.",
            "Comune: il Comune di competenza (quello la cui quota paga), non quello di "
            "residenza. Ogni prestazione conta per il Comune che aveva in carico il buono alla "
            "data della prestazione; buoni, beneficiari e saldo non speso per il Comune che "
            "ha in carico il buono oggi.",
            "Buoni, beneficiari e impegnato: buoni delle misure FSC_OS dell'anno, uguali "
            "nelle due basi. Impegnato: quote pubbliche spese più il saldo ancora spendibile "
            "(il saldo dei buoni revocati o scaduti torna al budget).",
            f"Beneficiari {year - 1} e ore {year - 1}: la stessa riga dell'anno precedente, "
            "sulla stessa base; l'incremento è la differenza. Il totale dei beneficiari conta "
            "ogni persona una sola volta.",
        ],
    )


def _italian(labelled) -> dict[str, str]:
    """Each member's label in Italian, whatever the reader's language: an export is an
    Italian document (the enums' labels are the words the pages use)."""
    with force_locale("it"):
        return {member.value: str(member.label) for member in labelled}


# The scheme's legal model, as the statement's files name it (see voucher.services.payments).
LEGAL_MODEL_WORDS = {"purchase": "Acquisto", "contribution": "Contributo"}
LEGAL_MODEL_NOTES = {
    "purchase": "acquisto del servizio (il fornitore fattura all'ente la quota pubblica)",
    "contribution": "contributo (la famiglia acquista, l'ente paga il contributo per suo conto)",
}


def statement_table(data: dict) -> Table:
    """A provider's monthly statement: one row per ledger entry with its fund, CUP, Comune
    of competence and legal model, net totals; then its subtotals per fund, CUP and Comune."""
    kinds = _italian(LedgerKind)
    columns = [
        Column("date", "Data", "date"),
        Column("kind_label", "Tipo"),
        Column("voucher_code", "Buono", wrap=False),
        Column("service", "Servizio"),
        Column("fund_code", "Fondo", wrap=False),
        Column("cup", "CUP", wrap=False),
        Column("comune_istat", "Codice ISTAT", wrap=False),
        Column("comune_name", "Comune"),
        Column("model", "Modello"),
        Column("quantity", "Quantità", "decimal"),
        Column("amount_cents", "Costo", "cents"),
        Column("public_cents", "Quota pubblica", "cents"),
        Column("copay_cents", "Compartecipazione", "cents"),
    ]
    rows = []
    for line in data["lines"]:
        label = kinds.get(line["kind"], line["kind"])
        if line.get("cancelled_by_provider"):
            label = "Annullata dal fornitore"
        if line.get("carried_over"):
            label += " (mese precedente)"
        record = {
            **line,
            "kind_label": label,
            "service": f"{line['service_code']} {line['service_name']}",
            "model": LEGAL_MODEL_WORDS.get(line.get("legal_model"), line.get("legal_model")),
        }
        rows.append(_values(columns, record))
    return _table(
        data,
        name="statement",
        title=f"Rendiconto mensile - {data['provider_name']}",
        period=f"{data['month_label'].capitalize()} - P. IVA {data['provider_vat_number']}",
        filename=f"rendiconto_{data['provider_id']}_{data['month']}",
        columns=columns,
        rows=rows,
        totals=_totals(
            columns,
            {
                "amount_cents": data["total_amount_cents"],
                "public_cents": data["total_public_cents"],
                "copay_cents": data["total_copay_cents"],
            },
        ),
        notes=_statement_notes(data),
        sections=[_subtotals_section(data["subtotals"])] if data.get("subtotals") else [],
    )


def _subtotals_section(subtotals: list[dict]) -> Section:
    """The statement per fund, CUP and Comune: one invoice or one recharge each."""
    columns = [
        Column("fund_code", "Fondo"),
        Column("cup", "CUP"),
        Column("comune_istat", "Codice ISTAT"),
        Column("comune_name", "Comune"),
        Column("public_cents", "Quota pubblica", "cents"),
        Column("copay_cents", "Compartecipazione", "cents"),
        Column("purchase_cents", "Da fatturare", "cents"),
    ]
    sums = {c.key: sum(row[c.key] for row in subtotals) for c in columns if c.kind == "cents"}
    return Section(
        title="Subtotali per fondo, CUP e Comune",
        sheet="Subtotali",
        columns=columns,
        rows=[_values(columns, row) for row in subtotals],
        totals=_totals(columns, sums),
    )


def _statement_notes(data: dict) -> list[str]:
    """The status and payment, the legal models, and the invoices recorded."""
    status = _italian(StatementStatus).get(data["status"], data["status"])
    notes = [f"Stato del rendiconto: {status}."]
    if data.get("payment_reference"):
        notes.append(f"Pagamento: {data['payment_reference']} del {data['paid_on']:%d/%m/%Y}.")
    models = [LEGAL_MODEL_NOTES.get(m, m) for m in data.get("legal_models", [])]
    if models:
        notes.append(
            "Da fatturare: la quota pubblica delle misure in acquisto del servizio. "
            f"Modello: {'; '.join(models)}."
        )
    if "invoices" in data:
        invoices = [
            f"n. {i['number']} del {i['date']:%d/%m/%Y}"
            + (f", CUP {i['cup']}" if i.get("cup") else "")
            + f", {format_euro(i['total_cents'])}, "
            + ("corrisponde al rendiconto" if i.get("matches") else "non corrisponde al rendiconto")
            for i in data["invoices"]
        ]
        notes.append(
            f"Fatture registrate: {'; '.join(invoices)}."
            if invoices
            else "Nessuna fattura registrata."
        )
    return notes


TABLES = {
    "funds": funds_table,
    "fondo-poverta": fondo_poverta_table,
    "fsc": fsc_table,
    "statement": statement_table,
}


def tabulate(report_name: str, data: dict) -> Table:
    """The table of a report's data."""
    try:
        builder = TABLES[report_name]
    except KeyError:
        raise ValueError(f"unknown report {report_name!r}") from None
    return builder(data)


def euros(cents: int) -> Decimal:
    """Cents as a Decimal number of euros, exactly."""
    return Decimal(cents) / 100
