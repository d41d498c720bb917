"""Provider statements (rendiconti mensili): the ente chooses a provider and a month, reads the
lines, subtotals and totals, and approves the month (which freezes it); the provider, or an
office for it, uploads the FatturaPA invoices of the month; the ragioneria records the payment
once nothing blocks it. A provider's operators read their own statements, and only those.
"""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ...errors import DomainError
from ...extensions import db
from ...models import Fund, Provider, Statement
from ...periods import Month
from ...reports.statement import statement_report
from ...services import clock, payments, providers, statements
from ..labels import LEGAL_MODEL_LABELS, PAYMENT_BLOCK_LABELS
from ..lookups import MAX_ID, load_or_404, reach_or_404
from ..refusals import showing_refusals
from ..security import current_actor, permission_required
from .blueprint import bp
from .common import (
    bad_parameter,
    last_month,
    month_label,
    parameter_error,
    query_form,
    send_report,
)
from .forms import InvoiceForm, MonthForm, PaidForm, StatementChoiceForm, parse_month

LINES_PER_PAGE = 200
RECENTLY_PAID = 20


def _reachable_provider(provider_id: int) -> Provider:
    """The provider, if the signed-in person may see its statements: a provider's operator
    sees only its own, and anything else is 404 so that its existence is not revealed."""
    reach_or_404(provider_id)
    return load_or_404(providers.get_provider, provider_id)


def _statement_rows(*criteria, limit: int | None = None) -> list[dict]:
    query = (
        select(Statement, Provider)
        .join(Provider, Provider.id == Statement.provider_id)
        .where(*criteria)
        .order_by(Statement.month.desc(), Provider.name, Provider.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        {"statement": statement, "provider": provider, "month": Month.parse(statement.month)}
        for statement, provider in db.session.execute(query)
    ]


@bp.route("/fornitori")
@permission_required("report.read")
def statements_index():
    """Choose a provider and a month; statements waiting for payment and the last paid."""
    form, valid = query_form(StatementChoiceForm, provider="", month=str(last_month()))
    known = {str(p.id): p for p in providers.list_providers()}
    form.provider.choices = [SelectChoice("", _("Scegli un fornitore"))] + [
        SelectChoice(key, f"{p.name} ({p.vat_number})") for key, p in known.items()
    ]
    submitted = any(name in request.args for name in ("provider", "month"))
    if submitted and valid:
        if form.provider.data in known:
            return redirect(
                url_for(
                    "reports.statement",
                    provider_id=int(form.provider.data),
                    month=str(form.value),
                )
            )
        form.provider.errors = [_("Scegliere un fornitore dall'elenco.")]
    return render_template(
        "reports/statements.html",
        form=form,
        approved=_statement_rows(Statement.status == "approved"),
        paid=_statement_rows(Statement.status == "paid", limit=RECENTLY_PAID),
    ), (400 if submitted else 200)


@bp.route("/miei-rendiconti")
@permission_required("statement.read")
def my_statements():
    """A provider's own statements: every approved or paid month, and any month on request."""
    actor = current_actor()
    if not actor.is_provider:
        return redirect(url_for("reports.statements_index"))
    form, valid = query_form(MonthForm, month=str(last_month()))
    if "month" in request.args and valid:
        return redirect(
            url_for("reports.statement", provider_id=actor.provider_id, month=str(form.value))
        )
    provider = _reachable_provider(actor.provider_id)
    rows = _statement_rows(Statement.provider_id == provider.id)
    status = 400 if "month" in request.args else 200
    return render_template(
        "reports/my_statements.html", form=form, provider=provider, rows=rows
    ), status


def _statement_page(
    provider: Provider,
    month: Month,
    *,
    paid_form=None,
    invoice_form=None,
    refused: DomainError | None = None,
    status=200,
):
    """The statement page; `refused` is what a payment or an invoice was refused for."""
    data = statement_report(provider, month)
    pages = max(1, -(-len(data["lines"]) // LINES_PER_PAGE))
    page = min(max(1, request.args.get("pagina", 1, type=int)), pages)
    lines = data["lines"][(page - 1) * LINES_PER_PAGE : page * LINES_PER_PAGE]
    if paid_form is None:
        paid_form = PaidForm(formdata=None, data={"month": str(month), "paid_on": clock.today()})
    if invoice_form is None:
        invoice_form = InvoiceForm(formdata=None, data={"month": str(month)})
    extensions = refused.extensions if refused is not None else {}
    actor = current_actor()
    return render_template(
        "reports/statement.html",
        provider=provider,
        month=month,
        data=data,
        lines=lines,
        page=page,
        pages=pages,
        concluded=month < Month.of(clock.today()),
        can_manage=actor.can("statement.manage"),
        can_pay=actor.can("statement.pay"),
        can_upload=actor.can("invoice.upload") and actor.sees_provider(provider.id),
        own=actor.is_provider,
        paid_form=paid_form,
        invoice_form=invoice_form,
        # A refused payment lists the reasons found on the date it was asked for.
        payment_reasons=extensions.get("reasons", data["blocked_reasons"]),
        mismatch=extensions if "expected_cents" in extensions else None,
        fund_names=dict(db.session.execute(select(Fund.code, Fund.name_it)).all()),
        legal_model_labels=LEGAL_MODEL_LABELS,
        payment_block_labels=PAYMENT_BLOCK_LABELS,
    ), status


@bp.route(f"/fornitori/<int(max={MAX_ID}):provider_id>")
@permission_required("statement.read")
def statement(provider_id: int):
    """A provider's month: status, lines (reversals negative) and net totals."""
    provider = _reachable_provider(provider_id)
    form, valid = query_form(MonthForm, month=str(last_month()))
    if not valid:
        return render_template("reports/statement_month.html", form=form, provider=provider), 400
    return _statement_page(provider, form.value)


@bp.route(f"/fornitori/<int(max={MAX_ID}):provider_id>/<any(csv, xlsx, pdf):fmt>")
@permission_required("statement.read")
def statement_download(provider_id: int, fmt: str):
    """The statement as CSV, XLSX or PDF."""
    provider = _reachable_provider(provider_id)
    form, valid = query_form(MonthForm, month=str(last_month()))
    if not valid:
        return parameter_error(form)
    month = form.value
    data = statement_report(provider, month)
    return send_report("statement", fmt, data, provider_id=provider.id, month=str(month))


def _posted_month() -> tuple[Month | None, str]:
    """The month a statement form was sent for, or None and why it is not valid."""
    try:
        return parse_month(request.form.get("month")), ""
    except ValueError as error:
        return None, str(error)


@bp.route(f"/fornitori/<int(max={MAX_ID}):provider_id>/approva", methods=["POST"])
@permission_required("statement.manage")
def statement_approve(provider_id: int):
    """Approve (freeze) a concluded month of a provider."""
    provider = _reachable_provider(provider_id)
    month, problem = _posted_month()
    if month is None:
        return bad_parameter(problem)
    with showing_refusals():
        statements.approve_statement(current_actor(), provider, month)
        flash(
            _(
                "Rendiconto di %(month)s approvato: da ora non cambia più.",
                month=month_label(month),
            ),
            "success",
        )
    return redirect(url_for("reports.statement", provider_id=provider.id, month=str(month)))


@bp.route(f"/fornitori/<int(max={MAX_ID}):provider_id>/pagamento", methods=["POST"])
@permission_required("statement.pay")
def statement_paid(provider_id: int):
    """Record the payment of an approved statement: reference and date."""
    provider = _reachable_provider(provider_id)
    month, problem = _posted_month()
    if month is None:
        return bad_parameter(problem)
    form = PaidForm()
    if not form.validate_on_submit():
        return _statement_page(provider, month, paid_form=form, status=422)
    with showing_refusals(form) as refusal:
        payments.mark_paid(current_actor(), provider, month, form.reference.data, form.paid_on.data)
        flash(_("Pagamento registrato."), "success")
        return redirect(url_for("reports.statement", provider_id=provider.id, month=str(month)))
    return _statement_page(provider, month, paid_form=form, refused=refusal.error, status=422)


@bp.route(f"/fornitori/<int(max={MAX_ID}):provider_id>/fatture", methods=["POST"])
@permission_required("invoice.upload")
def statement_invoice(provider_id: int):
    """Record the FatturaPA invoice (XML or signed .p7m) of a provider's month, if it
    matches what the statement asks to invoice; a mismatch shows both figures."""
    provider = _reachable_provider(provider_id)
    month, problem = _posted_month()
    if month is None:
        return bad_parameter(problem)
    form = InvoiceForm()
    if not form.validate_on_submit():
        return _statement_page(provider, month, invoice_form=form, status=422)
    upload = form.document.data
    with showing_refusals(form) as refusal:
        record, _subtotal = payments.record_invoice(
            current_actor(),
            provider,
            month,
            upload.read(),
            filename=upload.filename.replace("\\", "/").rsplit("/", 1)[-1],
            sdi_id=form.sdi_id.data,
        )
        flash(
            _(
                "Fattura n. %(number)s registrata: corrisponde al rendiconto.",
                number=record.number,
            ),
            "success",
        )
        return redirect(url_for("reports.statement", provider_id=provider.id, month=str(month)))
    error = refusal.error
    return _statement_page(provider, month, invoice_form=form, refused=error, status=error.status)
