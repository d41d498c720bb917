"""The reports index, the dashboard, and the yearly reports: funds per scheme, Fondo Povertà
and the FSC social-services report, each shown on a page and downloadable as a file."""

from datetime import timedelta

from flask import render_template, request
from flask_babel import gettext as _

from ...periods import Month
from ...reports.dashboard import AREAS, budget_burn, dashboard
from ...reports.fsc import BASES, BASIS_LABELS, fsc_report
from ...reports.funds import fondo_poverta_report, funds_report
from ...services import clock
from ..filters import euro
from ..labels import AREA_LABELS
from ..security import permission_required
from .blueprint import bp
from .common import (
    bad_parameter,
    month_label,
    parameter_error,
    query_form,
    send_report,
    share,
)
from .forms import YearForm

# The yearly reports: name (as in voucher.reports.render) -> (function, template).
YEAR_REPORTS = {
    "funds": (funds_report, "reports/funds.html"),
    "fondo-poverta": (fondo_poverta_report, "reports/fondo_poverta.html"),
    "fsc": (fsc_report, "reports/fsc.html"),
}
# Chart colours of the areas: Bootstrap Italia's palette, distinguishable by contrast too.
AREA_COLOURS = {"A": "#0066cc", "B": "#d1344c", "C": "#008758", "P": "#a66300"}


def _year_form():
    return query_form(YearForm, year=str(clock.today().year))


@bp.route("/")
@permission_required("report.read")
def index():
    """The reports: the dashboard first, then each report and the audit trail."""
    year = clock.today().year
    return render_template("reports/index.html", year=year, burn=budget_burn(year))


@bp.route("/cruscotto")
@permission_required("report.read")
def dashboard_page():
    """Charts, each with a table of the same figures: budget burn, monthly spending, providers."""
    form, valid = _year_form()
    if not valid:
        return render_template("reports/dashboard.html", form=form, data=None), 400
    data = dashboard(form.value, clock.today())
    chart = _chart_data(data)
    return render_template(
        "reports/dashboard.html",
        form=form,
        data=data,
        chart=chart,
        summaries=_summaries(data),
        areas=AREAS,
        period_last=data["period_end"] - timedelta(days=1),
    )


def _chart_data(data: dict) -> dict:
    """What the charts draw (static/js/reports-dashboard.js), in cents, with its labels."""
    spending = data["spending"]
    return {
        "burn": {
            "labels": [s["scheme_name"] for s in data["burn"]["schemes"]],
            "series": {
                key: [s[key] for s in data["burn"]["schemes"]]
                for key in ("budget_cents", "committed_cents", "redeemed_cents")
            },
            "names": {
                "budget_cents": _("Budget"),
                "committed_cents": _("Impegnato"),
                "redeemed_cents": _("Rendicontato"),
            },
            "budget_phrase": _("del budget di"),
        },
        "spending": {
            "labels": [month_label(Month.parse(m)) for m in spending["months"]],
            "series": {area: spending["areas"][area] for area in AREAS},
            "names": {area: str(AREA_LABELS[area]) for area in AREAS},
            "colours": AREA_COLOURS,
        },
        "providers": {
            "labels": [p["provider_name"] for p in data["providers"]],
            "series": {"redeemed_cents": [p["redeemed_cents"] for p in data["providers"]]},
            "names": {"redeemed_cents": _("Quota pubblica rendicontata")},
        },
    }


def _summaries(data: dict) -> dict:
    """A sentence per chart for its aria-label: what a person would read off the picture."""
    totals = data["burn"]["totals"]
    schemes = data["burn"]["schemes"]
    if schemes:
        burn = _(
            "Quota del budget impegnata e rendicontata per %(n)s misure del %(year)s; in "
            "tutto budget %(budget)s, impegnato %(committed)s (%(committed_share)s), "
            "rendicontato %(redeemed)s (%(redeemed_share)s). I dettagli sono nella tabella "
            "che segue.",
            n=len(schemes),
            year=data["year"],
            budget=euro(totals["budget_cents"]),
            committed=euro(totals["committed_cents"]),
            redeemed=euro(totals["redeemed_cents"]),
            committed_share=share(totals["committed_cents"], totals["budget_cents"]),
            redeemed_share=share(totals["redeemed_cents"], totals["budget_cents"]),
        )
    else:
        burn = _("Nessuna misura per il %(year)s.", year=data["year"])
    spending = data["spending"]
    total = sum(spending["totals"])
    if total:
        peak = max(range(len(spending["totals"])), key=lambda i: spending["totals"][i])
        monthly = _(
            "Quota pubblica rendicontata negli ultimi 12 mesi: %(total)s in tutto; il mese "
            "più alto è %(month)s con %(peak)s. I dettagli sono nella tabella che segue.",
            total=euro(total),
            month=month_label(Month.parse(spending["months"][peak])),
            peak=euro(spending["totals"][peak]),
        )
    else:
        monthly = _("Nessuna prestazione negli ultimi 12 mesi.")
    providers = data["providers"]
    if providers:
        top = _(
            "%(n)s fornitori; il primo è %(name)s con %(amount)s. I dettagli sono nella "
            "tabella che segue.",
            n=len(providers),
            name=providers[0]["provider_name"],
            amount=euro(providers[0]["redeemed_cents"]),
        )
    else:
        top = _("Nessun fornitore ha registrato prestazioni negli ultimi 12 mesi.")
    return {"burn": burn, "spending": monthly, "providers": top}


def _year_report_page(name: str):
    function, template = YEAR_REPORTS[name]
    form, valid = _year_form()
    if not valid:
        return render_template(template, form=form, data=None, report=name), 400
    return render_template(template, form=form, data=function(form.value), report=name)


@bp.route("/fondi")
@permission_required("report.read")
def funds():
    """Every scheme of a year by fund: budget, committed, redeemed, expired unused, residual."""
    return _year_report_page("funds")


@bp.route("/fondo-poverta")
@permission_required("report.read")
def fondo_poverta():
    """Fondo Povertà of an annualità: impegnato, liquidato, per scheme and per service."""
    return _year_report_page("fondo-poverta")


@bp.route("/fsc")
@permission_required("report.read")
def fsc():
    """The FSC social-services report of a year, per Comune of competence × area, on both
    bases (cash and competence) side by side, each beside the year before."""
    form, valid = _year_form()
    if not valid:
        return render_template("reports/fsc.html", form=form, data=None, report="fsc"), 400
    year = form.value
    bases = {basis: fsc_report(year, basis) for basis in BASES}
    return render_template(
        "reports/fsc.html",
        form=form,
        data=bases["cash"],
        bases=bases,
        basis_labels=BASIS_LABELS,
        report="fsc",
    )


@bp.route("/fondi/<any(csv, xlsx, pdf):fmt>", defaults={"report": "funds"})
@bp.route("/fondo-poverta/<any(csv, xlsx, pdf):fmt>", defaults={"report": "fondo-poverta"})
@bp.route("/fsc/<any(csv, xlsx, pdf):fmt>", defaults={"report": "fsc"})
@permission_required("report.read")
def year_download(report: str, fmt: str):
    """A yearly report as CSV, XLSX or PDF: the same figures as the page and the API (the
    FSC report on one basis, `basis=cash` by default or `competence`)."""
    form, valid = _year_form()
    if not valid:
        return parameter_error(form)
    year = form.value
    if report == "fsc":
        basis = request.args.get("basis") or "cash"
        if basis not in BASES:
            return bad_parameter(
                _("Base non valida: per cassa (cash) o per competenza (competence).")
            )
        return send_report(report, fmt, fsc_report(year, basis), year=year, basis=basis)
    function = YEAR_REPORTS[report][0]
    return send_report(report, fmt, function(year), year=year)
