"""SIUSS flows for INPS: generate a concluded month's flows, follow INPS's outcomes, and
download the XML (one stored flow, or the whole month as one PS flow)."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...models import SiussFlow
from ...reports.render import render
from ...reports.siuss import siuss_report
from ...services import siuss
from ...services.siuss_activity import missing_setup
from ..labels import OPERATION_LABELS
from ..lookups import MAX_ID, load_or_404
from ..refusals import showing_refusals
from ..security import current_actor, permission_required
from .blueprint import bp
from .common import (
    last_month,
    month_label,
    month_last_day,
    parameter_error,
    query_form,
    record_download,
    send_file,
)
from .forms import MonthForm, SiussGenerateForm

FLOWS_PER_PAGE = 100


def _index_page(form=None, status=200):
    actor = current_actor()
    missing = missing_setup()
    if form is None and actor.can("siuss.manage") and not missing:
        form = SiussGenerateForm(formdata=None, data={"month": str(last_month())})
    page = render_template(
        "reports/siuss.html",
        periods=siuss.list_periods(),
        form=form,
        missing=missing,
        download_month=str(last_month()),
    )
    return page, status


@bp.route("/siuss")
@permission_required("report.read")
def siuss_index():
    """The generated months and how INPS acknowledged their flows."""
    return _index_page()


@bp.route("/siuss/genera", methods=["POST"])
@permission_required("siuss.manage")
def siuss_generate():
    """Generate (or bring up to date) a concluded month's flows."""
    form = SiussGenerateForm()
    if not form.validate_on_submit():
        return _index_page(form, 422)
    month = form.value
    with showing_refusals(form):
        summary = siuss.generate_flows(current_actor(), month)
        flash(
            _(
                "Flussi di %(month)s: %(inserted)s inseriti, %(cancelled)s di cancellazione, "
                "%(unchanged)s invariati.",
                month=month_label(month),
                **{k: summary[k] for k in ("inserted", "cancelled", "unchanged")},
            ),
            "success",
        )
        if summary["withheld_pseudonymised"]:
            flash(
                _(
                    "%(count)s buoni non hanno un flusso nuovo: la persona è stata "
                    "pseudonimizzata dopo il periodo di conservazione e all'INPS andrebbe "
                    "lo pseudonimo. I flussi già inviati restano validi.",
                    count=summary["withheld_pseudonymised"],
                ),
                "warning",
            )
        return redirect(url_for("reports.siuss_flows", month=str(month)))
    return _index_page(form, 409)


@bp.route("/siuss/flussi")
@permission_required("report.read")
def siuss_flows():
    """A month's flows, with the latest outcome of each."""
    form, valid = query_form(MonthForm, month=str(last_month()))
    if not valid:
        return render_template(
            "reports/siuss_flows.html", form=form, flows=None, missing=missing_setup()
        ), 400
    month = form.value
    flows = siuss.period_flows(month)
    pages = max(1, -(-len(flows) // FLOWS_PER_PAGE))
    page = min(max(1, request.args.get("pagina", 1, type=int)), pages)
    return render_template(
        "reports/siuss_flows.html",
        form=form,
        month=month,
        flows=flows[(page - 1) * FLOWS_PER_PAGE : page * FLOWS_PER_PAGE],
        count=len(flows),
        page=page,
        pages=pages,
        latest_outcome=siuss.latest_outcome,
        missing=missing_setup(),
        ts_text=siuss.ts_text,
        operation_labels=OPERATION_LABELS,
    )


@bp.route("/siuss/flusso.xml")
@permission_required("report.read")
def siuss_month_xml():
    """The whole month as one PS flow (every person and voucher with activity)."""
    form, valid = query_form(MonthForm, month=str(last_month()))
    if not valid:
        return parameter_error(form)
    month = form.value
    start, end = month.start, month_last_day(month)
    with showing_refusals():
        data = siuss_report(start, end)
        if data["beneficiaries"]:
            content, mimetype, filename = render("siuss", "xml", data)
            record_download("siuss", "xml", date_from=start.isoformat(), date_to=end.isoformat())
            return send_file(content, mimetype, filename)
        flash(_("Nessuna prestazione nel mese: il flusso SIUSS sarebbe vuoto."), "warning")
    return redirect(url_for("reports.siuss_flows", month=str(month)))


@bp.route(f"/siuss/flussi/<int(max={MAX_ID}):flow_id>.xml")
@permission_required("report.read")
def siuss_flow_xml(flow_id: int):
    """One stored flow, exactly as INPS collects it."""
    flow = load_or_404(SiussFlow, flow_id)
    record_download("siuss-flow", "xml", id_flusso=flow.id_flusso, period=flow.period)
    return send_file(flow.xml, "application/xml", f"{flow.id_flusso}.xml")
