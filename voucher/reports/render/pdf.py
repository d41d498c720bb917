"""PDF (reportlab platypus): the ente's header, title, period, the table with its totals, the
generation timestamp and page numbers on every page."""

import io
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as PdfTable

from ...services.money import format_euro
from ..tables import Table

PAGE = landscape(A4)
MARGIN = 12 * mm
_MIN_TEXT_WIDTH = 18 * mm
_WIDE_TABLE = 14  # columns beyond which cells get narrower side padding


def _side_padding(table: Table) -> float:
    """Points of padding each side of a cell: less on a table with many columns."""
    return 3 if len(table.columns) > _WIDE_TABLE else 6


def format_value(value, kind: str) -> str:
    """One cell as Italian text: 1.234,56 €, 12,50, 31/03/2026."""
    if value is None:
        return ""
    if kind == "cents" and isinstance(value, int):
        return format_euro(value)
    if kind == "int" and isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    if kind == "decimal" and isinstance(value, int | float | Decimal):
        text = f"{Decimal(value):,.2f}"
        return text.replace(",", "_").replace(".", ",").replace("_", ".")
    if kind == "date" and isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return str(value)


class _NumberedCanvas(canvas.Canvas):
    """Holds every page until the end, to write «Pagina n di N» on each."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self):  # noqa: N802 - reportlab's API
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont("Helvetica", 7.5)
            self.drawRightString(PAGE[0] - MARGIN, 7 * mm, f"Pagina {self._pageNumber} di {total}")
            super().showPage()
        super().save()


def _column_widths(table: Table, font_size: float) -> list[float]:
    """Each column as wide as its longest value or header word, then stretched (or, for text
    columns, squeezed) to fill the page."""
    char = font_size * 0.52  # average Helvetica glyph width
    padding = 2 * _side_padding(table)

    def natural(index: int, column) -> float:
        values = [format_value(row[index], column.kind) for row in table.rows[:500]]
        longest = max((stringWidth(v, "Helvetica", font_size) for v in values), default=0)
        # A header wraps between words only: its longest word, in bold, must fit.
        word = max(stringWidth(w, "Helvetica-Bold", font_size) for w in column.header.split())
        return max(longest, word, 4 * char) + padding

    widths = [natural(i, c) for i, c in enumerate(table.columns)]
    available = PAGE[0] - 2 * MARGIN
    total = sum(widths)
    if total <= available:
        return [w * available / total for w in widths]
    texts = [i for i, c in enumerate(table.columns) if c.kind == "text"]
    fixed = sum(w for i, w in enumerate(widths) if i not in texts)
    room = max(available - fixed, _MIN_TEXT_WIDTH * len(texts))
    text_total = sum(widths[i] for i in texts) or 1
    return [
        max(_MIN_TEXT_WIDTH, w * room / text_total) if i in texts else w
        for i, w in enumerate(widths)
    ]


def _body(table: Table, font_size: float) -> list[list]:
    styles = getSampleStyleSheet()
    text = ParagraphStyle(
        "cell", parent=styles["BodyText"], fontSize=font_size, leading=font_size + 2
    )
    head = ParagraphStyle("head", parent=text, fontName="Helvetica-Bold")
    head_right = ParagraphStyle("head_right", parent=head, alignment=TA_RIGHT)

    def header(column):
        style = head_right if column.kind in ("int", "cents", "decimal") else head
        return Paragraph(escape(column.header), style)

    rows = [[header(c) for c in table.columns]]
    for row in table.rows:
        rows.append(
            [
                Paragraph(escape(format_value(v, c.kind)), text)
                if c.kind == "text"
                else format_value(v, c.kind)
                for v, c in zip(row, table.columns, strict=True)
            ]
        )
    if not table.rows:
        rows.append(["Nessun dato per il periodo."] + [""] * (len(table.columns) - 1))
    if table.totals is not None:
        rows.append(
            [
                format_value(v, "text" if i == 0 else c.kind)
                for i, (v, c) in enumerate(zip(table.totals, table.columns, strict=True))
            ]
        )
    return rows


def render_pdf(table: Table) -> bytes:
    """The table on landscape A4 pages."""
    out = io.BytesIO()
    styles = getSampleStyleSheet()
    generated = table.generated_at.strftime("%d/%m/%Y %H:%M") if table.generated_at else ""

    def footer(pdf, doc):
        pdf.saveState()
        pdf.setFont("Helvetica", 7.5)
        pdf.drawString(MARGIN, 7 * mm, f"{table.ente_name} - generato il {generated}")
        pdf.restoreState()

    doc = SimpleDocTemplate(
        out,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=14 * mm,
        title=table.title,
        author=table.ente_name,
    )
    font_size = 7 if len(table.columns) > 10 else 8.5
    rows = _body(table, font_size)
    grid = PdfTable(rows, colWidths=_column_widths(table, font_size), repeatRows=1)
    numeric = [i for i, c in enumerate(table.columns) if c.kind in ("int", "cents", "decimal")]
    style = [
        ("FONT", (0, 0), (-1, -1), "Helvetica", font_size),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f6f6f6")]),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), _side_padding(table)),
        ("RIGHTPADDING", (0, 0), (-1, -1), _side_padding(table)),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    style += [("ALIGN", (i, 1), (i, -1), "RIGHT") for i in numeric]
    if table.totals is not None:
        style += [
            ("FONT", (0, -1), (-1, -1), "Helvetica-Bold", font_size),
            ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black),
            ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#e8eef4")),
        ]
    grid.setStyle(TableStyle(style))

    ente = escape(table.ente_name or "")
    if table.ente_fiscal_code:
        ente += f" - C.F. {escape(table.ente_fiscal_code)}"
    story = [
        Paragraph(ente, styles["Heading4"]),
        Paragraph(escape(table.title), styles["Title"]),
        Paragraph(escape(table.period), styles["Heading3"]),
        Spacer(1, 3 * mm),
        grid,
        Spacer(1, 4 * mm),
    ]
    story += [Paragraph(escape(note), styles["BodyText"]) for note in table.notes]
    story.append(Paragraph(f"Generato il {escape(generated)}", styles["BodyText"]))
    doc.build(story, onFirstPage=footer, onLaterPages=footer, canvasmaker=_NumberedCanvas)
    return out.getvalue()
