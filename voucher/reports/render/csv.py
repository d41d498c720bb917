"""CSV for Excel in Italy: UTF-8 with a byte-order mark, `;` between fields, decimal comma."""

import csv
import io
from datetime import date
from decimal import Decimal

from ..tables import Table

# A cell that a spreadsheet would run as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def format_value(value, kind: str) -> str:
    """One cell as Italian spreadsheet text."""
    if value is None:
        return ""
    if kind == "cents" and isinstance(value, int):
        sign = "-" if value < 0 else ""
        return f"{sign}{abs(value) // 100},{abs(value) % 100:02d}"
    if kind == "decimal" and isinstance(value, int | Decimal | float):
        return f"{Decimal(value):.2f}".replace(".", ",")
    if kind == "date" and isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    text = str(value)
    if kind == "text" and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def render_csv(table: Table) -> bytes:
    """The table, a header line in Italian and a final totals line."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([c.header for c in table.columns])
    for row in table.rows:
        writer.writerow([format_value(v, c.kind) for v, c in zip(row, table.columns, strict=True)])
    if table.totals is not None:
        writer.writerow(
            [
                format_value(v, "text" if i == 0 else c.kind)
                for i, (v, c) in enumerate(zip(table.totals, table.columns, strict=True))
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")
