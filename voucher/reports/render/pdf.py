"""PDF (reportlab platypus): the ente's header, title, period, the table with its totals and
its further sections each under its title, the generation timestamp and page numbers on
every page; an act ends with room for its signature."""

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
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as PdfTable

from ...services.money import format_euro
from ..tables import Section, Table

PAGE = landscape(A4)
MARGIN = 12 * mm
_MIN_TEXT_WIDTH = 18 * mm
_WIDE_TABLE = 14  # columns beyond which cells get narrower side padding


def _side_padding(section: Section) -> float:
    """Points of padding each side of a cell: less on a table with many columns."""
    return 3 if len(section.columns) > _WIDE_TABLE else 6


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


def _column_widths(section: Section, font_size: float) -> list[float]:
    """Each column as wide as its longest value or header word, then stretched (or, for text
    columns, squeezed) to fill the page."""
    char = font_size * 0.52  # average Helvetica glyph width
    padding = 2 * _side_padding(section)

    def natural(index: int, column) -> float:
        values = [format_value(row[index], column.kind) for row in section.rows[:500]]
        longest = max((stringWidth(v, "Helvetica", font_size) for v in values), default=0)
        # A header wraps between words only: its longest word, in bold, must fit.
        # (A point to spare: a word exactly as wide as its cell is broken.)
        word = max(stringWidth(w, "Helvetica-Bold", font_size) for w in column.header.split()) + 1
        return max(longest, word, 4 * char) + padding

    widths = [natural(i, c) for i, c in enumerate(section.columns)]
    available = PAGE[0] - 2 * MARGIN
    total = sum(widths)
    if total <= available:
        return [w * available / total for w in widths]
    # Too wide: the wrapping text columns share what the others leave, in proportion to
    # their natural width, none narrower than the minimum.
    squeezable = {i for i, c in enumerate(section.columns) if c.kind == "text" and c.wrap}
    room = available - sum(w for i, w in enumerate(widths) if i not in squeezable)
    floored: set[int] = set()
    while True:
        free = squeezable - floored
        share = max(room - _MIN_TEXT_WIDTH * len(floored), 0)
        scale = share / (sum(widths[i] for i in free) or 1)
        below = {i for i in free if widths[i] * scale < _MIN_TEXT_WIDTH}
        if not below:
            break
        floored |= below
    return [
        _MIN_TEXT_WIDTH if i in floored else w * scale if i in squeezable else w
        for i, w in enumerate(widths)
    ]


def _body(section: Section, font_size: float) -> list[list]:
    styles = getSampleStyleSheet()
    text = ParagraphStyle(
        "cell", parent=styles["BodyText"], fontSize=font_size, leading=font_size + 2
    )
    head = ParagraphStyle("head", parent=text, fontName="Helvetica-Bold")
    head_right = ParagraphStyle("head_right", parent=head, alignment=TA_RIGHT)

    def header(column):
        style = head_right if column.kind in ("int", "cents", "decimal") else head
        return Paragraph(escape(column.header), style)

    rows = [[header(c) for c in section.columns]]
    for row in section.rows:
        rows.append(
            [
                Paragraph(escape(format_value(v, c.kind)), text)
                if c.kind == "text" and c.wrap
                else format_value(v, c.kind)
                for v, c in zip(row, section.columns, strict=True)
            ]
        )
    if not section.rows:
        rows.append(["Nessun dato per il periodo."] + [""] * (len(section.columns) - 1))
    if section.totals is not None:
        rows.append(
            [
                format_value(v, "text" if i == 0 else c.kind)
                for i, (v, c) in enumerate(zip(section.totals, section.columns, strict=True))
            ]
        )
    return rows


def _printed(section: Section) -> Section:
    """The section without the columns left out of the PDF; the totals keep their label."""
    keep = [i for i, c in enumerate(section.columns) if c.in_pdf]
    if len(keep) == len(section.columns):
        return section
    totals = None
    if section.totals is not None:
        totals = [section.totals[i] for i in keep]
        totals[0] = section.totals[0]
    return Section(
        title=section.title,
        columns=[section.columns[i] for i in keep],
        rows=[[row[i] for i in keep] for row in section.rows],
        totals=totals,
    )


def _grid(section: Section) -> PdfTable:
    """A section as a table: a shaded header repeated on every page, a bold totals row."""
    font_size = 7 if len(section.columns) > 10 else 8.5
    rows = _body(section, font_size)
    grid = PdfTable(rows, colWidths=_column_widths(section, font_size), repeatRows=1)
    numeric = [i for i, c in enumerate(section.columns) if c.kind in ("int", "cents", "decimal")]
    style = [
        ("FONT", (0, 0), (-1, -1), "Helvetica", font_size),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f6f6f6")]),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), _side_padding(section)),
        ("RIGHTPADDING", (0, 0), (-1, -1), _side_padding(section)),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    style += [("ALIGN", (i, 1), (i, -1), "RIGHT") for i in numeric]
    if section.totals is not None:
        style += [
            ("FONT", (0, -1), (-1, -1), "Helvetica-Bold", font_size),
            ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black),
            ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#e8eef4")),
        ]
    grid.setStyle(TableStyle(style))
    return grid


def _signature(officer: str) -> KeepTogether:
    """Room for the place, the date and the officer's signature, at the end of the act."""
    styles = getSampleStyleSheet()
    line = "_" * 40
    block = PdfTable(
        [
            [
                Paragraph("Luogo e data", styles["BodyText"]),
                Paragraph(escape(officer), styles["BodyText"]),
            ],
            ["", ""],
            [line, line],
        ],
        colWidths=[(PAGE[0] - 2 * MARGIN) / 2] * 2,
        rowHeights=[None, 14 * mm, None],
    )
    block.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return KeepTogether([Spacer(1, 8 * mm), block])


def render_pdf(table: Table) -> bytes:
    """The table on landscape A4 pages, then its sections, each under its title (a grouped
    report: its sections alone)."""
    out = io.BytesIO()
    styles = getSampleStyleSheet()
    heading = ParagraphStyle("section", parent=styles["Heading3"], keepWithNext=True)
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
    ente = escape(table.ente_name or "")
    if table.ente_fiscal_code:
        ente += f" - C.F. {escape(table.ente_fiscal_code)}"
    story = [
        Paragraph(ente, styles["Heading4"]),
        Paragraph(escape(table.title), styles["Title"]),
        Paragraph(escape(table.period), styles["Heading3"]),
        Spacer(1, 3 * mm),
    ]
    for index, section in enumerate(table.parts()):
        if table.grouped or index > 0:
            story.append(Paragraph(escape(section.title), heading))
        story += [_grid(_printed(section)), Spacer(1, 4 * mm)]
    story += [Paragraph(escape(note), styles["BodyText"]) for note in table.notes]
    story.append(Paragraph(f"Generato il {escape(generated)}", styles["BodyText"]))
    if table.signature:
        story.append(_signature(table.signature))
    doc.build(story, onFirstPage=footer, onLaterPages=footer, canvasmaker=_NumberedCanvas)
    return out.getvalue()
