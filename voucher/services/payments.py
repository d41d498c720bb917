"""Paying providers (liquidazione): the provider's payment data, the FatturaPA invoices
matched to its statements, what blocks a payment, and the payment itself.

The chain: the admin approves a provider's month (voucher.services.statements); the provider
invoices the public share it was bought for, one invoice per CUP; the ragioneria (`finance`)
pays once nothing blocks it. What blocks a payment, all reported at once:
- `missing_iban`: no IBAN to pay to;
- `durc_expired`: no DURC, or one expired on the payment date;
- `dedicated_account_missing`: no dedicated-account declaration (L. 136/2010);
- `invoice_missing`: an amount to invoice with no invoice that matches it;
- `not_approved`: the month is not approved.

What a provider invoices: the public share of the lines of `purchase` schemes (the ente buys
the service). The lines of `contribution` schemes (the family buys, the ente pays its share
on its behalf) need no invoice. Amounts are grouped by CUP, the reference an invoice carries:
an invoice with a CUP matches that CUP's amount; one without matches the amount of the lines
with no CUP, or, when every line has a CUP, the statement's whole amount to invoice. A match
allows one cent of rounding either way.
"""

from collections.abc import Iterable
from datetime import UTC, date

from sqlalchemy import select

from ..errors import Conflict, InvoiceMismatch, PaymentBlocked, ValidationFailed
from ..extensions import db
from ..models import Provider, Statement, StatementInvoice
from ..models.status import allows
from ..periods import Month
from . import Actor, audit, clock, fatturapa, statements
from .invoicing import (
    TOLERANCE_CENTS,
    amounts_to_invoice,
    amounts_to_invoice_of,
    close_enough,
    expected_for,
    invoice_matches,
    uncovered,
)
from .payment_data import DURC_NOTICE_DAYS, PAYMENT_FIELDS, durc_notices, update_payment_data

__all__ = [
    "DURC_NOTICE_DAYS",
    "PAYMENT_FIELDS",
    "REASONS",
    "TOLERANCE_CENTS",
    "amounts_to_invoice",
    "amounts_to_invoice_of",
    "expected_for",
    "invoice_matches",
    "uncovered",
    "durc_notices",
    "mark_paid",
    "record_invoice",
    "update_payment_data",
]

REASONS = (
    "missing_iban",
    "durc_expired",
    "dedicated_account_missing",
    "invoice_missing",
    "not_approved",
)


def statement_invoices(provider_id: int, month: Month) -> list[StatementInvoice]:
    return list(
        db.session.execute(
            select(StatementInvoice)
            .where(
                StatementInvoice.provider_id == provider_id,
                StatementInvoice.month == str(month),
            )
            .order_by(StatementInvoice.issued_on, StatementInvoice.id)
        ).scalars()
    )


def _euro(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}".replace(",", ".") + f",{part:02d} €"


def record_invoice(
    actor: Actor,
    provider: Provider,
    month: Month,
    document: bytes,
    *,
    content_type: str = "application/xml",
    filename: str | None = None,
    sdi_id: str | None = None,
) -> tuple[StatementInvoice, dict]:
    """Read a FatturaPA invoice for the provider's `month` and record it if it matches
    what the statement asks to invoice. Returns the invoice and the subtotal it matched."""
    invoice = fatturapa.read_invoice(document)
    sdi_id = (sdi_id or "").strip() or None
    if sdi_id is not None and (not sdi_id.isdigit() or len(sdi_id) > 20):
        raise ValidationFailed(
            "Identificativo SdI non valido",
            errors={"sdi_id": ["L'identificativo SdI è un numero di al massimo 20 cifre."]},
        )
    # One invoice at a time per provider: the check for a duplicate reads what is recorded.
    db.session.execute(select(Provider.id).where(Provider.id == provider.id).with_for_update())
    if invoice.seller_country != "IT" or invoice.seller_vat_number != provider.vat_number:
        raise InvoiceMismatch(
            f"La fattura è emessa dalla partita IVA {invoice.seller_country}"
            f"{invoice.seller_vat_number}, il fornitore ha partita IVA {provider.vat_number}.",
            invoice_vat_number=invoice.seller_vat_number,
            provider_vat_number=provider.vat_number,
        )
    statement = statements.find_statement(provider.id, month)
    lines = statements.statement_lines(provider.id, month, statement)
    subtotals = statements.subtotals(lines)
    groups = amounts_to_invoice(subtotals)
    expected, covers = expected_for(groups, invoice.cup)
    if expected is None:
        on_statement = sorted(cup for cup in groups if cup)
        listed = ", ".join(on_statement) if on_statement else "nessuno"
        raise InvoiceMismatch(
            f"Il CUP {invoice.cup} della fattura non è nel rendiconto di {month.label()} "
            f"(CUP del rendiconto: {listed}).",
            invoice_cup=invoice.cup,
            statement_cups=on_statement,
        )
    if expected <= 0 or not close_enough(invoice.total_cents, expected):
        what = f"il subtotale del CUP {invoice.cup}" if invoice.cup else "il totale pubblico"
        raise InvoiceMismatch(
            f"La fattura vale {_euro(invoice.total_cents)} (imponibile "
            f"{_euro(invoice.taxable_cents)} + IVA {_euro(invoice.vat_cents)}), "
            f"{what} del rendiconto di {month.label()} da fatturare è {_euro(expected)}.",
            invoice_cents=invoice.total_cents,
            expected_cents=expected,
        )
    recorded = statement_invoices(provider.id, month)
    for other in recorded:
        if other.number == invoice.number and other.issued_on == invoice.issued_on:
            raise Conflict(
                f"La fattura n. {invoice.number} del {invoice.issued_on:%d/%m/%Y} è già registrata."
            )
        if invoice_matches(groups, other) and covers & expected_for(groups, other.cup)[1]:
            raise Conflict(
                f"Per questo importo è già registrata la fattura n. {other.number} del "
                f"{other.issued_on:%d/%m/%Y}, che corrisponde al rendiconto."
            )
    head = document.lstrip(b"\xef\xbb\xbf \t\r\n")
    record = StatementInvoice(
        provider_id=provider.id,
        month=str(month),
        number=invoice.number,
        issued_on=invoice.issued_on,
        sdi_id=sdi_id,
        cup=invoice.cup,
        seller_vat_number=invoice.seller_vat_number,
        document_type=invoice.document_type,
        taxable_cents=invoice.taxable_cents,
        vat_cents=invoice.vat_cents,
        total_cents=invoice.total_cents,
        vat_treatment=invoice.vat_treatment,
        matched_cents=expected,
        filename=(filename or "")[:200] or None,
        content_type="application/xml" if head.startswith(b"<") else "application/pkcs7-mime",
        document=document,
        uploaded_by_id=actor.user_id,
    )
    db.session.add(record)
    db.session.flush()
    audit.record(
        actor,
        "invoice.recorded",
        "statement_invoice",
        record.id,
        provider_id=provider.id,
        month=str(month),
        number=invoice.number,
        issued_on=invoice.issued_on.isoformat(),
        cup=invoice.cup,
        total_cents=invoice.total_cents,
    )
    return record, _matched_subtotal(subtotals, invoice.cup, expected)


def _matched_subtotal(subtotals: list[dict], cup: str | None, expected: int) -> dict:
    """What the invoice was matched to, in the shape of a subtotal."""
    if cup is not None:
        rows = [row for row in subtotals if row["cup"] == cup]
    else:
        rows = [row for row in subtotals if not row["cup"]] or subtotals
    funds = sorted({row["fund_code"] for row in rows})
    return {
        "fund_code": funds[0] if len(funds) == 1 else None,
        "cup": cup,
        "comune_istat": rows[0]["comune_istat"] if len(rows) == 1 else None,
        "public_cents": sum(row["public_cents"] for row in rows),
        "copay_cents": sum(row["copay_cents"] for row in rows),
        "invoice_cents": expected,
    }


# --- What blocks a payment ----------------------------------------------------------------


def blocking_reasons(
    provider: Provider,
    status: str,
    groups: dict[str | None, int],
    invoices: Iterable,
    paid_on: date,
) -> list[str]:
    """Every reason that blocks paying this statement on `paid_on`, in the contract's order."""
    reasons = []
    if not provider.iban:
        reasons.append("missing_iban")
    if provider.durc_valid_until is None or provider.durc_valid_until < paid_on:
        reasons.append("durc_expired")
    if not provider.dedicated_account_declared:
        reasons.append("dedicated_account_missing")
    if uncovered(groups, invoices):
        reasons.append("invoice_missing")
    if status not in ("approved", "paid"):
        reasons.append("not_approved")
    return reasons


def payment_state(provider: Provider, month: Month, paid_on: date | None = None) -> dict:
    """The statement's invoices and what blocks its payment on `paid_on` (default today)."""
    statement = statements.find_statement(provider.id, month)
    lines = statements.statement_lines(provider.id, month, statement)
    groups = amounts_to_invoice(statements.subtotals(lines))
    invoices = statement_invoices(provider.id, month)
    status = statement.status if statement else "open"
    reasons = blocking_reasons(provider, status, groups, invoices, paid_on or clock.today())
    pending = uncovered(groups, invoices)
    return {
        "invoices": [
            {**invoice_view(invoice), "matches": invoice_matches(groups, invoice)}
            for invoice in invoices
        ],
        "to_invoice": [
            {"cup": cup, "cents": cents, "invoiced": cup not in pending}
            for cup, cents in sorted(groups.items(), key=lambda kv: kv[0] or "")
            if cents > 0
        ],
        "blocked_reasons": [] if status == "paid" else reasons,
    }


def invoice_view(invoice: StatementInvoice) -> dict:
    return {
        "id": invoice.id,
        "number": invoice.number,
        "date": invoice.issued_on,
        "sdi_id": invoice.sdi_id,
        "cup": invoice.cup,
        "document_type": invoice.document_type,
        "taxable_cents": invoice.taxable_cents,
        "vat_cents": invoice.vat_cents,
        "total_cents": invoice.total_cents,
        "vat_treatment": invoice.vat_treatment,
        "uploaded_at": invoice.uploaded_at,
    }


def mark_paid(
    actor: Actor, provider: Provider, month: Month, reference: str, paid_on: date
) -> Statement:
    """Record the payment of an approved statement (mandato di pagamento), once nothing
    blocks it: 409 payment_blocked with every reason otherwise."""
    reference = (reference or "").strip()
    errors = {}
    if not reference:
        errors["reference"] = ["Indicare il riferimento del pagamento."]
    if paid_on > clock.today():
        errors["paid_on"] = ["La data di pagamento non può essere nel futuro."]
    if errors:
        raise ValidationFailed(errors=errors)
    # The provider row first, as approval and invoices take it: one act at a time on its
    # statements, and its payment data as they stand.
    db.session.execute(select(Provider.id).where(Provider.id == provider.id).with_for_update())
    db.session.refresh(provider)
    statement = db.session.execute(
        select(Statement)
        .where(Statement.provider_id == provider.id, Statement.month == str(month))
        .with_for_update()
    ).scalar_one_or_none()
    if statement is not None and not allows("statement", statement.status, "pay"):
        raise Conflict(f"Il rendiconto di {month.label()} risulta già pagato.")
    lines = statements.statement_lines(provider.id, month, statement)
    groups = amounts_to_invoice(statements.subtotals(lines))
    invoices = statement_invoices(provider.id, month)
    status = statement.status if statement else "open"
    reasons = blocking_reasons(provider, status, groups, invoices, paid_on)
    if reasons:
        raise PaymentBlocked(
            f"Pagamento del rendiconto di {month.label()} bloccato: "
            + "; ".join(str(REASON_TEXTS[r]) for r in reasons)
            + ".",
            reasons=reasons,
        )
    approved_at = statement.approved_at
    if approved_at.tzinfo is None:  # SQLite returns naive UTC timestamps
        approved_at = approved_at.replace(tzinfo=UTC)
    if paid_on < approved_at.astimezone(clock.ROME).date():
        raise ValidationFailed(
            errors={"paid_on": ["La data di pagamento precede l'approvazione del rendiconto."]}
        )
    statement.status = "paid"
    statement.payment_reference = reference
    statement.paid_on = paid_on
    statement.paid_at = clock.now()
    statement.paid_by_id = actor.user_id
    db.session.flush()
    audit.record(
        actor,
        "statement.paid",
        "statement",
        statement.id,
        provider_id=provider.id,
        month=str(month),
        reference=reference,
        paid_on=paid_on.isoformat(),
        total_public_cents=statement.total_public_cents,
        iban=provider.iban,
        invoices=[invoice.number for invoice in invoices if invoice_matches(groups, invoice)],
    )
    return statement


# Italian, as in the problem's detail; the pages show the labels of voucher.web.labels.
REASON_TEXTS = {
    "missing_iban": "manca l'IBAN del fornitore",
    "durc_expired": "DURC assente o scaduto alla data di pagamento",
    "dedicated_account_missing": "manca la dichiarazione del conto dedicato (L. 136/2010)",
    "invoice_missing": "manca una fattura che corrisponda al rendiconto",
    "not_approved": "il rendiconto non è approvato",
}
