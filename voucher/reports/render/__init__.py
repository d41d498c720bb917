"""Renderers: pure functions from a report's data to file bytes.

`render()` is the one path shared by the API (`?format=`) and the pages, so a report reads
the same in every format.
"""

from ..common import UNFINISHED_NOTE, period_unfinished
from ..liquidation import liquidation_table
from ..tables import Table, tabulate

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "xml": "application/xml",
}
FORMATS = ("csv", "xlsx", "pdf")


def render(report_name: str, fmt: str, data: dict) -> tuple[bytes, str, str]:
    """The report as a file: (content, mimetype, filename)."""
    if report_name == "siuss":
        if fmt != "xml":
            raise ValueError("the SIUSS flow is XML only")
        from .siuss_xml import flow_filename, render_flow

        return render_flow(data), MIMETYPES["xml"], flow_filename(data)
    table = table_of(report_name, data)
    if period_unfinished(data):
        # Beside the period: under the PDF's title and in the XLSX's information sheet (the
        # CSV is the table alone, read by programs).
        table.period = f"{table.period} - {UNFINISHED_NOTE}"
    if fmt == "csv":
        from .csv import render_csv as renderer
    elif fmt == "xlsx":
        from .xlsx import render_xlsx as renderer
    elif fmt == "pdf":
        from .pdf import render_pdf as renderer
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return renderer(table), MIMETYPES[fmt], f"{table.filename}.{fmt}"


def table_of(report_name: str, data: dict) -> Table:
    """The table of a report's data: the liquidation proposal builds its own, in sections."""
    if report_name == "liquidation":
        return liquidation_table(data)
    return tabulate(report_name, data)
