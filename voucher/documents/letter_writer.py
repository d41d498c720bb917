"""The type and the flowing text of the voucher letter: fonts (DejaVu Sans where the
standard PDF fonts cannot show a name), sizes, and a writer that lays paragraphs, headings,
labelled fields and boxes into form XObjects, a new page when one is full."""

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from ..resources import resource_dir

PAGE_WIDTH, PAGE_HEIGHT = A4
LEFT = 50.0
WIDTH = PAGE_WIDTH - 2 * LEFT
TOP = PAGE_HEIGHT - 42
BOTTOM = 46.0  # the footer line is at 32
# Body text never below 11.5 pt, for readers with low vision; headings and the parts a
# person must find again (the code, the PIN, the office's phone) larger still.
BODY, LEADING = 11.5, 14.5
LABEL_WIDTH = 84.0
KEEP_TOGETHER = 6  # paragraphs of up to this many lines move whole to the next page

REGULAR, BOLD, MONO = "Helvetica", "Helvetica-Bold", "Courier-Bold"
# The standard PDF fonts cover only Windows-1252: names in other scripts use DejaVu Sans.
_FALLBACK = {
    REGULAR: ("VoucherSans", "DejaVuSans.ttf"),
    BOLD: ("VoucherSans-Bold", "DejaVuSans-Bold.ttf"),
}


def font_for(name: str, text: str) -> str:
    """The standard font when it can show the text, otherwise the bundled DejaVu Sans."""
    try:
        text.encode("cp1252")
        return name
    except UnicodeEncodeError:
        pass
    fallback, filename = _FALLBACK.get(name, _FALLBACK[REGULAR])
    if fallback not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(
            TTFont(fallback, str(Path(resource_dir("static")) / "fonts" / filename))
        )
    return fallback


def draw_text(
    c: Canvas, x: float, y: float, text: str, font: str = REGULAR, size: float = BODY
) -> None:
    c.setFont(font_for(font, text), size)
    c.drawString(x, y, text)


def split(text: str, font: str, size: float, width: float) -> list[str]:
    """The text wrapped to `width`, in the font that will show it."""
    return simpleSplit(text, font_for(font, text), size, width) or [""]


class Writer:
    """Flows the shared text of a letter into form XObjects, starting a new page when full."""

    def __init__(self, c: Canvas, prefix: str):
        self.c, self.prefix, self.forms = c, prefix, []
        self.y = TOP
        self._begin()

    def _begin(self) -> None:
        name = f"{self.prefix}_{len(self.forms) + 1}"
        self.c.beginForm(name)
        self.forms.append(name)
        self.y = TOP - (0 if len(self.forms) == 1 else 2 * LEADING)  # room for the page header

    @property
    def page(self) -> int:
        """The page being written, from 1."""
        return len(self.forms)

    def finish(self) -> list[str]:
        self.c.endForm()
        return self.forms

    def room(self, height: float) -> None:
        if self.y - height < BOTTOM:
            self.c.endForm()
            self._begin()

    def lines(
        self,
        text: str,
        font=REGULAR,
        size=BODY,
        x=LEFT,
        width=WIDTH,
        leading=LEADING,
        marker: tuple[str, str, float] | None = None,
    ) -> None:
        """A paragraph, wrapped; a short one is never split across pages. `marker` (text, font,
        x) is drawn beside the first line: a bullet or a label."""
        font = font_for(font, text)
        lines = simpleSplit(text, font, size, width) or [""]
        if len(lines) <= KEEP_TOGETHER:
            self.room(leading * len(lines))
        for i, line in enumerate(lines):
            self.room(leading)
            self.y -= leading
            if i == 0 and marker:
                draw_text(self.c, marker[2], self.y, marker[0], marker[1])
            self.c.setFont(font, size)
            self.c.drawString(x, self.y, line)

    def heading(self, text: str) -> None:
        self.room(2.2 * LEADING + 18)  # never a heading alone at the foot of a page
        self.y -= 4
        self.lines(text, BOLD, 14, leading=17.5)
        self.y -= 1

    def field(self, label: str, value: str, font=REGULAR) -> None:
        self.lines(
            value,
            font,
            x=LEFT + LABEL_WIDTH,
            width=WIDTH - LABEL_WIDTH,
            marker=(label, BOLD, LEFT),
        )

    def bullet(self, text: str, font=REGULAR) -> None:
        self.lines(text, font, x=LEFT + 20, width=WIDTH - 20, marker=("•", REGULAR, LEFT + 6))
