"""A provider's monthly statement: its lines (one per ledger entry, reversals negative), its
subtotals per fund, CUP and Comune, net totals, frozen once the ente has approved it (see
voucher.services.statements), and its invoices and what blocks its payment (see
voucher.services.payments)."""

from ..models import Provider
from ..periods import Month
from ..services import cancellation, payments, statements
from .common import report_meta


def statement_report(provider: Provider, month: Month) -> dict:
    """GET /reports/providers/{id}/statement: status, lines and totals of one month."""
    statement = statements.find_statement(provider.id, month)
    lines = statements.statement_lines(provider.id, month, statement)
    # A reversal the provider made itself, on the day it recorded the service, reads
    # "Annullata dal fornitore" wherever a line shows its kind.
    by_provider = cancellation.cancelled_by_provider(
        line["entry_id"] for line in lines if line["kind"] == "reversal"
    )
    for line in lines:
        line["cancelled_by_provider"] = line["entry_id"] in by_provider
    data = {
        "provider_id": provider.id,
        "provider_name": provider.name,
        "provider_vat_number": provider.vat_number,
        "month": str(month),
        "month_label": month.label(),
        "status": statement.status if statement else "open",
        "lines": lines,
        "subtotals": statements.subtotals(lines),
        "line_count": len(lines),
        "total_amount_cents": sum(line["amount_cents"] for line in lines),
        "total_public_cents": sum(line["public_cents"] for line in lines),
        "total_copay_cents": sum(line["copay_cents"] for line in lines),
        "approved_at": statement.approved_at if statement else None,
        "paid_on": statement.paid_on if statement else None,
        "payment_reference": statement.payment_reference if statement else None,
        "legal_models": sorted({line["legal_model"] for line in lines}),
        "provider_iban": provider.iban,
        **payments.payment_state(provider, month),
        **report_meta(),
    }
    if statement is not None:
        # The frozen totals are the record (its lines add up to them by construction).
        data["total_amount_cents"] = statement.total_amount_cents
        data["total_public_cents"] = statement.total_public_cents
        data["total_copay_cents"] = statement.total_copay_cents
    return data
