"""XLSX with typed cells: amounts are numbers in euros (exact Decimals) with a euro format."""

import io
import re
from datetime import date
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ..tables import Section, Table, euros

EURO_FORMAT = "#,##0.00 €"
NUMBER_FORMATS = {
    "int": "#,##0",
    "cents": EURO_FORMAT,
    "decimal": "#,##0.00",
    "date": "DD/MM/YYYY",
}
_WIDTHS = {"int": 12, "cents": 16, "decimal": 12, "date": 12}
_SHEET_FORBIDDEN = re.compile(r"[\\/?*\[\]:]")


def cell_value(value, kind: str):
    """A cell's typed value: cents become euros, quantities Decimals."""
    if value is None:
        return None
    if kind == "cents" and isinstance(value, int):
        return euros(value)
    if kind == "decimal" and isinstance(value, int | float | Decimal):
        return Decimal(value)
    if kind == "date" and isinstance(value, date):
        return value
    if kind == "int" and isinstance(value, int):
        return value
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _write_row(sheet, row_index: int, values, columns, bold: bool = False) -> None:
    for col_index, (value, column) in enumerate(zip(values, columns, strict=True), start=1):
        kind = "text" if bold and col_index == 1 and isinstance(value, str) else column.kind
        cell = sheet.cell(row=row_index, column=col_index, value=cell_value(value, kind))
        if cell.data_type == "f":  # text that looks like a formula stays text
            cell.data_type = "s"
        if kind in NUMBER_FORMATS:
            cell.number_format = NUMBER_FORMATS[kind]
        if bold:
            cell.font = Font(bold=True)


def sheet_name(text: str, taken: set[str]) -> str:
    """A valid sheet name (at most 31 characters, none of \\ / ? * [ ] :), unique in the
    book."""
    base = _SHEET_FORBIDDEN.sub("-", text)[:31].strip() or "Foglio"
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
    taken.add(name.lower())
    return name


def _write_section(sheet, section: Section) -> None:
    """A bold frozen header, the rows, a bold totals row."""
    for col_index, column in enumerate(section.columns, start=1):
        cell = sheet.cell(row=1, column=col_index, value=column.header)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        width = _WIDTHS.get(column.kind, max(14, min(40, len(column.header) + 4)))
        sheet.column_dimensions[get_column_letter(col_index)].width = width
    for row_index, row in enumerate(section.rows, start=2):
        _write_row(sheet, row_index, row, section.columns)
    if section.totals is not None:
        _write_row(sheet, len(section.rows) + 2, section.totals, section.columns, bold=True)
    sheet.freeze_panes = "A2"


def render_xlsx(table: Table) -> bytes:
    """A sheet with the table and one for each section (or, for a grouped report, one per
    section alone), then one with its context."""
    book = Workbook()
    taken: set[str] = set()
    for index, section in enumerate(table.parts()):
        sheet = book.active if index == 0 else book.create_sheet()
        sheet.title = sheet_name(section.sheet or section.title, taken)
        _write_section(sheet, section)

    info = book.create_sheet(sheet_name("Informazioni", taken))
    generated = table.generated_at.strftime("%d/%m/%Y %H:%M") if table.generated_at else ""
    for row in (
        ("Ente", table.ente_name),
        ("Codice fiscale", table.ente_fiscal_code),
        ("Report", table.title),
        ("Periodo", table.period),
        ("Generato il", generated),
        *(("Nota", note) for note in table.notes),
    ):
        info.append([ILLEGAL_CHARACTERS_RE.sub("", value) for value in row])
    for cell in info["B"]:
        if cell.data_type == "f":  # text that looks like a formula stays text
            cell.data_type = "s"
    info.column_dimensions["A"].width = 16
    info.column_dimensions["B"].width = 100
    book.properties.title = table.title
    book.properties.creator = table.ente_name or "Buoni servizio"

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
