"""The ragioneria's home (ufficio finanziario): the approved statements that nothing keeps
from being paid, those that something blocks (every reason at once), the payments made, the
providers whose DURC is to renew, and the way to the month's liquidation proposal.

Approved statements of every month are listed, newest month first: a payment held back by a
missing invoice in an earlier month must not drop out of sight when the month changes.
"""

from collections import defaultdict
from datetime import date

from flask import render_template, url_for
from sqlalchemy import select
from werkzeug.routing import BuildError

from ...extensions import db
from ...models import (
    Provider,
    Statement,
    StatementInvoice,
)
from ...periods import Month
from ...services import clock, payments
from ..labels import PAYMENT_BLOCK_LABELS
from ..security import permission_required
from .blueprint import bp
from .common import last_month, query_form
from .forms import MonthForm
from .statements import RECENTLY_PAID


def _approved_rows() -> list[tuple[Statement, Provider]]:
    return [
        tuple(row)
        for row in db.session.execute(
            select(Statement, Provider)
            .join(Provider, Provider.id == Statement.provider_id)
            .where(Statement.status == "approved")
            .order_by(Statement.month.desc(), Provider.name, Provider.id)
        )
    ]


def _invoices_of(rows: list[tuple[Statement, Provider]]) -> dict[tuple[int, str], list]:
    """The invoices recorded for these statements, by provider and month: one query."""
    wanted = {(statement.provider_id, statement.month) for statement, _ in rows}
    found = defaultdict(list)
    if not wanted:
        return found
    query = select(StatementInvoice).where(
        StatementInvoice.provider_id.in_({provider_id for provider_id, _ in wanted}),
        StatementInvoice.month.in_({month for _, month in wanted}),
    )
    for invoice in db.session.execute(query).scalars():
        if (invoice.provider_id, invoice.month) in wanted:
            found[(invoice.provider_id, invoice.month)].append(invoice)
    return found


def payment_queue(today: date) -> tuple[list[dict], list[dict]]:
    """The approved, unpaid statements: those ready to pay today, and those blocked with
    their reasons (voucher.services.payments decides both), in a fixed number of queries."""
    rows = _approved_rows()
    invoices = _invoices_of(rows)
    amounts = payments.amounts_to_invoice_of({statement.id for statement, _ in rows})
    ready, blocked = [], []
    for statement, provider in rows:
        month = Month.parse(statement.month)
        reasons = payments.blocking_reasons(
            provider,
            statement.status,
            amounts.get(statement.id, {}),
            invoices.get((provider.id, statement.month), []),
            today,
        )
        row = {"statement": statement, "provider": provider, "month": month, "reasons": reasons}
        (blocked if reasons else ready).append(row)
    return ready, blocked


def _paid_rows(*criteria, limit: int | None = None) -> list[tuple[Statement, Provider]]:
    query = (
        select(Statement, Provider)
        .join(Provider, Provider.id == Statement.provider_id)
        .where(Statement.status == "paid", *criteria)
        .order_by(Statement.paid_on.desc(), Statement.month.desc(), Provider.name, Provider.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [tuple(row) for row in db.session.execute(query)]


def _month_summary(month: Month, ready: list[dict], blocked: list[dict]) -> dict:
    """How many of the month's approved statements are to pay, blocked and paid, and for
    how much public money."""
    paid = [statement for statement, _ in _paid_rows(Statement.month == str(month))]
    summary = {}
    for key, found in (
        ("ready", [row["statement"] for row in ready if row["month"] == month]),
        ("blocked", [row["statement"] for row in blocked if row["month"] == month]),
        ("paid", paid),
    ):
        summary[key] = {
            "count": len(found),
            "cents": sum(statement.total_public_cents for statement in found),
        }
    return summary


def _liquidation_url(month: Month) -> str | None:
    """The month's liquidation proposal, once its page exists."""
    try:
        return url_for("reports.liquidation", month=str(month))
    except BuildError:
        return None


@bp.route("/ragioneria")
@permission_required("statement.pay")
def finance():
    """The ragioneria's home: statements to pay, blocked payments, payments made, DURC."""
    form, valid = query_form(MonthForm, month=str(last_month()))
    month = form.value if valid else last_month()
    today = clock.today()
    ready, blocked = payment_queue(today)
    return render_template(
        "reports/finance.html",
        form=form,
        month=month,
        today=today,
        summary=_month_summary(month, ready, blocked),
        ready=ready,
        blocked=blocked,
        paid=[
            {"statement": statement, "provider": provider, "month": Month.parse(statement.month)}
            for statement, provider in _paid_rows(limit=RECENTLY_PAID)
        ],
        durc=payments.durc_notices(today),
        liquidation_url=_liquidation_url(month),
        payment_block_labels=PAYMENT_BLOCK_LABELS,
    ), (200 if valid else 400)
