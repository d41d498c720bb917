"""The liquidation proposal (proposta di liquidazione) of a month: the approved and paid
provider statements of that month, split into one document per fund and CUP, since each
fund is accounted for apart and an invoice carries one CUP.

Each document lists, per provider, what the ente pays (the public share), what the provider
invoices (the public share of `purchase` schemes), the matching invoice, the payment data,
and the statement's state: `paid`, `ready` (nothing blocks its payment today) or `blocked`
with every reason (the rules of voucher.services.payments, applied to the whole statement:
a statement is paid at once, whatever its documents). Open months are not proposed.

Set-based: the same six queries whatever the number of providers: the month's frozen lines
summed per statement, fund, CUP and Comune in one pass, the Comuni's names, the month's
invoices, its statements with their providers, the funds' names and the ente.
"""

from collections import defaultdict
from datetime import date
from operator import itemgetter
from typing import NamedTuple

from sqlalchemy import select

from ..extensions import db
from ..models import (
    Comune,
    Fund,
    LedgerEntry,
    Provider,
    Scheme,
    Statement,
    StatementInvoice,
    StatementLine,
)
from ..periods import Month
from ..services import clock
from ..services.invoicing import line_sums
from ..services.payments import (
    REASON_TEXTS,
    amounts_to_invoice,
    blocking_reasons,
    expected_for,
    uncovered,
)
from ..services.payments import invoice_matches as matches
from .common import report_meta
from .tables import Column, Section, Table

STATES = ("paid", "ready", "blocked")
_SUMS = ("public_cents", "copay_cents", "purchase_cents")
_ISTAT = itemgetter("comune_istat")


def subtotals_query(month: Month):
    """The frozen lines of the month's statements summed per statement, fund, CUP and Comune
    of competence, in one pass over the lines: the public share, the co-pay and the public
    share of `purchase` schemes (what is invoiced)."""
    return line_sums(
        Statement.month == str(month),
        StatementLine.statement_id,
        Scheme.fund_code,
        Scheme.cup,
        LedgerEntry.comune_id,
    )


def _documents(month: Month) -> dict[int, list[dict]]:
    """Each statement's rows, one per fund and CUP, with their Comuni and their sums."""
    names = {
        comune_id: (istat, name)
        for comune_id, istat, name in db.session.connection().execute(
            select(Comune.id, Comune.istat_code, Comune.name)
        )
    }
    # Plain columns, fetched at once through the session's connection: the ORM's handling
    # of each row would cost a good part of the query's time, for nothing.
    sums = db.session.connection().execute(subtotals_query(month)).all()
    by_statement: dict[int, list[dict]] = defaultdict(list)
    rows: dict[tuple, dict] = {}
    for statement_id, fund, cup, comune_id, public, copay, purchase in sums:
        key = (statement_id, fund, cup)
        row = rows.get(key)
        if row is None:
            row = rows[key] = {
                "fund_code": fund,
                "cup": cup,
                "comuni": [],
                **dict.fromkeys(_SUMS, 0),
            }
            by_statement[statement_id].append(row)
        row["public_cents"] += public
        row["copay_cents"] += copay
        row["purchase_cents"] += purchase
        istat, name = names[comune_id]
        row["comuni"].append(
            {
                "comune_istat": istat,
                "comune_name": name,
                "public_cents": public,
                "copay_cents": copay,
                "purchase_cents": purchase,
            }
        )
    for row in rows.values():
        row["comuni"].sort(key=_ISTAT)
    return by_statement


class _Invoice(NamedTuple):
    """What the proposal reads of an invoice (never its document)."""

    number: str
    issued_on: date
    sdi_id: str | None
    cup: str | None
    total_cents: int


class _Statement(NamedTuple):
    """An approved or paid statement with its provider's payment data."""

    id: int
    status: str
    paid_on: date | None
    payment_reference: str | None
    provider_id: int
    name: str
    vat_number: str
    fiscal_code: str | None
    iban: str | None
    durc_valid_until: date | None
    dedicated_account_declared: bool


def _invoices(month: Month) -> dict[int, list[_Invoice]]:
    """The month's invoices by provider."""
    rows = db.session.connection().execute(
        select(
            StatementInvoice.provider_id,
            StatementInvoice.number,
            StatementInvoice.issued_on,
            StatementInvoice.sdi_id,
            StatementInvoice.cup,
            StatementInvoice.total_cents,
        )
        .where(StatementInvoice.month == str(month))
        .order_by(StatementInvoice.issued_on, StatementInvoice.id)
    )
    by_provider = defaultdict(list)
    for provider_id, *invoice in rows:
        by_provider[provider_id].append(_Invoice(*invoice))
    return by_provider


def _statements(month: Month) -> list[_Statement]:
    rows = db.session.connection().execute(
        select(
            Statement.id,
            Statement.status,
            Statement.paid_on,
            Statement.payment_reference,
            Provider.id,
            Provider.name,
            Provider.vat_number,
            Provider.fiscal_code,
            Provider.iban,
            Provider.durc_valid_until,
            Provider.dedicated_account_declared,
        )
        .join(Provider, Provider.id == Statement.provider_id)
        .where(Statement.month == str(month))
        .order_by(Provider.name, Provider.id)
    )
    return [_Statement(*row) for row in rows]


def _totals(rows: list[dict]) -> dict:
    """What rows add up to: amounts, and the public share by state."""
    totals = {"providers": len({row["provider_id"] for row in rows})}
    for key in _SUMS:
        totals[key] = sum([row[key] for row in rows])
    for state in STATES:
        totals[f"{state}_cents"] = sum([r["public_cents"] for r in rows if r["state"] == state])
    return totals


def _with_state(statement, rows: list[dict], invoices: list, today) -> list[dict]:
    """The statement's rows with its provider, their invoices, and the statement's state:
    what blocks a payment concerns the whole statement, whatever the document."""
    groups = amounts_to_invoice(rows)
    reasons = blocking_reasons(statement, statement.status, groups, invoices, today)
    if statement.status == "paid":
        state, reasons = "paid", []
    else:
        state = "blocked" if reasons else "ready"
    pending = uncovered(groups, invoices) if "invoice_missing" in reasons else set()
    views = [  # each invoice once, with the CUP groups it covers
        (
            expected_for(groups, invoice.cup)[1],
            {
                "number": invoice.number,
                "date": invoice.issued_on,
                "sdi_id": invoice.sdi_id,
                "cup": invoice.cup,
                "total_cents": invoice.total_cents,
                "matches": matches(groups, invoice),
            },
        )
        for invoice in invoices
    ]
    common = {
        "provider_id": statement.provider_id,
        "provider_name": statement.name,
        "vat_number": statement.vat_number,
        "fiscal_code": statement.fiscal_code,
        "iban": statement.iban,
        "state": state,
        "reasons": reasons,
        "payment_reference": statement.payment_reference,
        "paid_on": statement.paid_on,
    }
    for row in rows:
        cup = row["cup"] or None
        row.update(common)
        row["invoices"] = [view for covers, view in views if cup in covers]
        row["invoice_missing"] = cup in pending
    return rows


def liquidation_report(month: Month, fund_code: str | None = None, cup: str | None = None) -> dict:
    """GET /reports/liquidation: the month's approved statements per fund and CUP, with the
    state of each payment on today's date; `fund_code` and `cup` keep one fund or CUP."""
    today = clock.today()
    documents_of = _documents(month)
    invoices = _invoices(month)
    fund_names = dict(db.session.execute(select(Fund.code, Fund.name_it)).all())
    documents: dict[tuple, dict] = {}
    for statement in _statements(month):
        rows = documents_of.get(statement.id, [])
        for row in _with_state(statement, rows, invoices.get(statement.provider_id, []), today):
            key = (row["fund_code"], row["cup"])
            if (fund_code and key[0] != fund_code) or (cup and key[1] != cup):
                continue
            group = documents.get(key)
            if group is None:
                group = documents[key] = {
                    "fund_code": key[0],
                    "fund_name": fund_names.get(key[0], key[0]),
                    "cup": key[1],
                    "rows": [],
                }
            group["rows"].append(row)
    groups = [documents[key] for key in sorted(documents, key=lambda k: (k[0], k[1] or ""))]
    for group in groups:
        group["totals"] = _totals(group["rows"])
    return {
        "month": str(month),
        "month_label": month.label(),
        "fund_code": fund_code,
        "cup": cup,
        "payment_date": today,
        "groups": groups,
        "totals": _totals([row for group in groups for row in group["rows"]]),
        **report_meta(),
    }


# --- The proposal as a file ----------------------------------------------------------------

STATE_WORDS = {"paid": "Pagato", "ready": "Pronto per il pagamento", "blocked": "Bloccato"}
COLUMNS = [
    Column("fund_code", "Fondo", in_pdf=False, wrap=False),
    Column("cup", "CUP", in_pdf=False, wrap=False),
    Column("provider_name", "Fornitore"),
    Column("vat_number", "Partita IVA", wrap=False),
    Column("fiscal_code", "Codice fiscale", wrap=False),
    Column("iban", "IBAN", wrap=False),
    Column("invoice_number", "Fattura n.", wrap=False),
    Column("invoice_date", "Data fattura", "date"),
    Column("invoice_sdi_id", "Identificativo SdI", wrap=False),
    Column("public_cents", "Importo da liquidare", "cents"),
    Column("purchase_cents", "Di cui da fatturare", "cents"),
    Column("state_word", "Stato"),
    Column("reasons_text", "Motivi del blocco"),
    Column("payment", "Pagamento"),
]
SUMMARY_COLUMNS = [
    Column("fund_code", "Fondo"),
    Column("cup", "CUP"),
    Column("providers", "Fornitori", "int"),
    Column("public_cents", "Importo da liquidare", "cents"),
    Column("purchase_cents", "Di cui da fatturare", "cents"),
    Column("ready_cents", "Pronto per il pagamento", "cents"),
    Column("blocked_cents", "Bloccato", "cents"),
    Column("paid_cents", "Pagato", "cents"),
]


def _flat(row: dict) -> list:
    """One provider's row of a document, in COLUMNS order: the invoice that matches it."""
    invoice = next((i for i in row["invoices"] if i["matches"]), None) or {}
    payment = ""
    if row["state"] == "paid":
        payment = f"{row['payment_reference']} del {row['paid_on']:%d/%m/%Y}"
    record = {
        **row,
        "invoice_number": invoice.get("number"),
        "invoice_date": invoice.get("date"),
        "invoice_sdi_id": invoice.get("sdi_id"),
        "state_word": STATE_WORDS[row["state"]],
        "reasons_text": "; ".join(REASON_TEXTS[r] for r in row["reasons"]),
        "payment": payment,
    }
    return [record.get(c.key) for c in COLUMNS]


def _sums(columns: list[Column], totals: dict, label: str) -> list:
    row = [totals.get(c.key) if c.kind in ("int", "cents") else None for c in columns]
    row[0] = label
    return row


def _document_title(group: dict) -> str:
    cup = f"CUP {group['cup']}" if group["cup"] else "senza CUP"
    return f"{group['fund_code']} - {group['fund_name']} - {cup}"


def liquidation_table(data: dict) -> Table:
    """The proposal as a file: one section per fund and CUP, each with its total, then the
    summary per document with the grand total; the CSV is one flat table of every row."""
    sections = [
        Section(
            title=_document_title(group),
            sheet=f"{group['fund_code']} {group['cup'] or 'senza CUP'}",
            columns=COLUMNS,
            rows=[_flat(row) for row in group["rows"]],
            totals=_sums(COLUMNS, group["totals"], "Totale"),
        )
        for group in data["groups"]
    ]
    sections.append(
        Section(
            title="Riepilogo per fondo e CUP",
            sheet="Riepilogo",
            columns=SUMMARY_COLUMNS,
            rows=[
                [group["fund_code"], group["cup"]]
                + [group["totals"][c.key] for c in SUMMARY_COLUMNS[2:]]
                for group in data["groups"]
            ],
            totals=_sums(SUMMARY_COLUMNS, data["totals"], "Totale generale"),
        )
    )
    month = Month.parse(data["month"])
    period = f"Rendiconti approvati di {data['month_label']}"
    name = f"proposta_liquidazione_{month}"
    for key, what in (("fund_code", "fondo"), ("cup", "CUP")):
        if data.get(key):
            period += f" - {what} {data[key]}"
            name += "_" + "".join(ch for ch in data[key] if ch.isalnum() or ch == "_")
    return Table(
        name="liquidation",
        title=f"Proposta di liquidazione – {data['month_label']}",
        period=period,
        filename=name,
        columns=COLUMNS,
        rows=[_flat(row) for group in data["groups"] for row in group["rows"]],
        totals=_sums(COLUMNS, data["totals"], "Totale"),
        ente_name=data.get("ente_name", ""),
        ente_fiscal_code=data.get("ente_fiscal_code", ""),
        generated_at=data.get("generated_at"),
        notes=[
            "Un documento per fondo e CUP: ogni fattura riporta un solo CUP. Importo da "
            "liquidare: la quota pubblica del rendiconto approvato; di cui da fatturare: la "
            "quota delle misure in acquisto del servizio, che richiede una fattura "
            "corrispondente.",
            f"Stato alla data del {data['payment_date']:%d/%m/%Y}, a cui è verificato il DURC. "
            "Un rendiconto si paga per intero: i motivi del blocco valgono per tutti i suoi "
            "documenti.",
        ],
        sections=sections,
        grouped=True,
        signature="Il responsabile del servizio",
    )
