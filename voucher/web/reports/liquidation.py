"""The liquidation proposal (proposta di liquidazione) of a month: the approved statements
per fund and CUP, with what each payment waits for, as a page and as the files of the act
(XLSX for the ragioneria's accounts, PDF to sign, CSV). Payments are recorded on each
statement's page, by the finance office."""

from flask import render_template
from flask_babel import lazy_gettext as _l

from ...reports.liquidation import liquidation_report
from ..labels import PAYMENT_BLOCK_LABELS
from ..security import current_actor, permission_required
from .blueprint import bp
from .common import last_month, parameter_error, query_form, send_report
from .forms import MonthForm

# The state of a statement in the proposal: its words and its badge's colour.
STATE_LABELS = {
    "paid": (_l("Pagato"), "success"),
    "ready": (_l("Pronto per il pagamento"), "primary"),
    "blocked": (_l("Bloccato"), "danger"),
}


def _month_form():
    return query_form(MonthForm, month=str(last_month()))


@bp.route("/liquidazione")
@permission_required("report.read")
def liquidation():
    """The month's proposal: one table per fund and CUP, each provider's state and reasons."""
    form, valid = _month_form()
    if not valid:
        return render_template("reports/liquidation.html", form=form, data=None, month=None), 400
    return render_template(
        "reports/liquidation.html",
        form=form,
        month=form.value,
        data=liquidation_report(form.value),
        can_pay=current_actor().can("statement.pay"),
        state_labels=STATE_LABELS,
        reason_labels=PAYMENT_BLOCK_LABELS,
    )


@bp.route("/liquidazione/<any(csv, xlsx, pdf):fmt>")
@permission_required("report.read")
def liquidation_download(fmt: str):
    """The proposal as XLSX (a sheet per fund and CUP), PDF (the act) or CSV."""
    form, valid = _month_form()
    if not valid:
        return parameter_error(form)
    month = form.value
    return send_report("liquidation", fmt, liquidation_report(month), month=str(month))
