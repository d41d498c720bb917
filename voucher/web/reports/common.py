"""What the reports pages share: periods read from the query string, reports sent as files
(each download recorded in the audit trail), and numbers written the Italian way."""

from datetime import timedelta
from decimal import Decimal

from flask import Response, render_template, request
from flask_babel import format_date, format_decimal, format_percent
from flask_babel import gettext as _

from ...periods import Month
from ...reports.render import FORMATS, render
from ...services import audit, clock
from ..labels import FORMAT_LABELS, STATEMENT_STATUS_LABELS
from ..security import current_actor
from .blueprint import bp


def query_form(form_class, **defaults):
    """A GET form read from the query string, or filled with `defaults` (taken as valid) when
    none of its fields is there; returns the form and whether it is valid."""
    given = any(name in request.args for name in defaults)
    form = form_class(formdata=request.args if given else None, data=defaults)
    return form, form.validate() if given else True


def form_messages(form) -> str:
    """Every error of a form, as one sentence for an error page."""
    return " ".join(str(message) for field in form for message in field.errors)


def bad_parameter(message: str):
    """A request with a bad period: an Italian page, status 400."""
    return render_template(
        "errors/error.html", status=400, title=_("Parametri non validi"), message=message
    ), 400


def parameter_error(form):
    """A download asked for with a bad period: the form's messages on an error page."""
    return bad_parameter(form_messages(form))


def last_month() -> Month:
    """The most recent concluded month: what statements and SIUSS flows are usually about."""
    return Month.of(clock.today()).previous()


def month_label(month: Month) -> str:
    """«marzo 2026» (or «March 2026») in the reader's language."""
    return format_date(month.start, "MMMM y")


def month_last_day(month: Month):
    return month.end - timedelta(days=1)


def send_file(content: bytes, mimetype: str, filename: str) -> Response:
    return Response(
        content,
        content_type=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def record_download(report_name: str, fmt: str, **params) -> None:
    """Record a report download in the audit trail (its name and parameters, never personal
    data), as the reports API does; the request boundary commits it with the answer."""
    audit.record(current_actor(), "report.downloaded", "report", report_name, format=fmt, **params)


def send_report(report_name: str, fmt: str, data: dict, **params) -> Response:
    """A report as a CSV, XLSX or PDF file, through the renderers the API uses."""
    content, mimetype, filename = render(report_name, fmt, data)
    record_download(report_name, fmt, **params)
    return send_file(content, mimetype, filename)


def number(value, places: int = 0) -> str:
    """A number in the reader's language: 1.234 or 1.234,50."""
    if value is None:
        return "—"
    if places:
        return format_decimal(Decimal(value), format="#,##0." + "0" * places)
    return format_decimal(value, format="#,##0")


def share(part: int, whole: int) -> str:
    """`part` as a percentage of `whole`, one decimal: «12,5%» (a dash without a whole)."""
    if not whole:
        return "—"
    return format_percent(Decimal(part) / Decimal(whole), format="#,##0.0%")


@bp.context_processor
def _reports_context() -> dict:
    return {
        "formats": FORMATS,
        "format_labels": FORMAT_LABELS,
        "statement_status_labels": STATEMENT_STATUS_LABELS,
        "number": number,
        "share": share,
        "month_label": month_label,
    }
