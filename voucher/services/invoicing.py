"""What a provider invoices, and what an invoice covers (see voucher.services.payments for
the whole chain).

The provider invoices the public share of the lines of `purchase` schemes, grouped by CUP:
an invoice with a CUP matches that CUP's amount; one without matches the amount of the lines
with no CUP, or, when every line has a CUP, the statement's whole amount to invoice. A match
allows one cent of rounding either way.
"""

from collections.abc import Iterable

from sqlalchemy import func, select

from ..extensions import db
from ..models import LedgerEntry, Scheme, Statement, StatementLine, Voucher

# An invoice matches its amount within one cent: the rounding of VAT per rate.
TOLERANCE_CENTS = 1


# The legal model whose public share the provider invoices to the ente.
INVOICED_MODEL = "purchase"


def line_sums(where, *keys):
    """SQL: the frozen statement lines matching `where`, summed per `keys` (columns of
    StatementLine, Statement, LedgerEntry, Voucher or Scheme): the keys, then the public
    share, the co-pay and the public share to invoice (of `purchase` schemes)."""
    to_invoice = func.sum(LedgerEntry.public_cents).filter(Scheme.legal_model == INVOICED_MODEL)
    return (
        select(
            *keys,
            func.sum(LedgerEntry.public_cents),
            func.sum(LedgerEntry.copay_cents),
            func.coalesce(to_invoice, 0),
        )
        .select_from(StatementLine)
        .join(Statement, Statement.id == StatementLine.statement_id)
        .join(LedgerEntry, LedgerEntry.id == StatementLine.ledger_entry_id)
        .join(Voucher, Voucher.id == LedgerEntry.voucher_id)
        .join(Scheme, Scheme.id == Voucher.scheme_id)
        .where(where)
        .group_by(*keys)
    )


def amounts_to_invoice_of(statement_ids: set[int]) -> dict[int, dict[str | None, int]]:
    """amounts_to_invoice of many approved statements, from their frozen lines, at once."""
    found: dict[int, dict[str | None, int]] = {}
    if not statement_ids:
        return found
    query = line_sums(
        StatementLine.statement_id.in_(sorted(statement_ids)),
        StatementLine.statement_id,
        Scheme.cup,
    )
    for statement_id, cup, _public, _copay, cents in db.session.execute(query):
        groups = found.setdefault(statement_id, {})
        groups[cup or None] = groups.get(cup or None, 0) + int(cents)
    return found


def amounts_to_invoice(subtotals: Iterable[dict]) -> dict[str | None, int]:
    """The public share bought under `purchase` schemes, per CUP (None: no CUP)."""
    groups: dict[str | None, int] = {}
    for row in subtotals:
        key = row["cup"] or None
        groups[key] = groups.get(key, 0) + row["purchase_cents"]
    return groups


def close_enough(a: int, b: int) -> bool:
    """Whether an invoice's amount matches the expected one, within the tolerance."""
    return abs(a - b) <= TOLERANCE_CENTS


def expected_for(groups: dict[str | None, int], cup: str | None) -> tuple[int | None, set]:
    """The amount an invoice with `cup` must carry, and the CUP groups it covers; None when
    its CUP is not on the statement."""
    if cup is not None:
        if cup not in groups:
            return None, set()
        return groups[cup], {cup}
    if None in groups:
        return groups[None], {None}
    return sum(groups.values()), set(groups)


def uncovered(groups: dict[str | None, int], invoices: Iterable) -> set:
    """The CUP groups with an amount to invoice that no recorded invoice matches today."""
    pending = {cup for cup, cents in groups.items() if cents > 0}
    for invoice in invoices:
        expected, covers = expected_for(groups, invoice.cup)
        if expected is not None and close_enough(invoice.total_cents, expected):
            pending -= covers
    return pending


def invoice_matches(groups: dict[str | None, int], invoice) -> bool:
    expected, _ = expected_for(groups, invoice.cup)
    return expected is not None and expected > 0 and close_enough(invoice.total_cents, expected)
