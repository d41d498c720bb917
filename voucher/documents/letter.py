"""The printable voucher letter (A4, reportlab): one letter per voucher, and one PDF for a batch.

Pure: plain values in, PDF bytes out. Everything a batch's letters share (the ente, the scheme,
the services, the providers, the instructions) is laid out once per distinct content as a form
XObject that every page reuses; each page then adds only what is personal: the name, the QR
code, the voucher code and the PIN. That keeps a batch of thousands of letters small and fast.
"""

import io
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import PDFName, PDFStream
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.textobject import PDFTextObject

from ..resources import resource_dir
from .pdf_qr import draw_qr

MAX_PROVIDERS = 5  # more than this and the letter points to the complete list online
# Fast compression: the pages are mostly QR rectangles, where the default level costs six times
# as much for a fifth less size.
ZLIB_LEVEL = 1

PAGE_WIDTH, PAGE_HEIGHT = A4
LEFT = 50.0
WIDTH = PAGE_WIDTH - 2 * LEFT
TOP = PAGE_HEIGHT - 42
BOTTOM = 50.0
BODY, LEADING = 11.0, 14.5  # body text never below 11 pt, for readers with low vision
LABEL_WIDTH = 80.0
KEEP_TOGETHER = 6  # paragraphs of up to this many lines move whole to the next page
QR_AREA = 142.0  # the QR code's side with its quiet zone: about 0.65 mm per module
CARD_PAD = 8.0
CARD_HEIGHT = QR_AREA + 2 * CARD_PAD
RECIPIENT_X = 312.0  # the address shows through the window of a DL envelope
RECIPIENT_TOP = PAGE_HEIGHT - 118
RECIPIENT_BOTTOM = RECIPIENT_TOP - 84

REGULAR, BOLD, MONO = "Helvetica", "Helvetica-Bold", "Courier-Bold"
# The standard PDF fonts cover only Windows-1252: names in other scripts use DejaVu Sans.
_FALLBACK = {
    REGULAR: ("VoucherSans", "DejaVuSans.ttf"),
    BOLD: ("VoucherSans-Bold", "DejaVuSans-Bold.ttf"),
}


@dataclass(frozen=True)
class VoucherLetter:
    """What one printed voucher says. Plain values only: see services.letters.letter_for."""

    ente_name: str
    ente_address: str
    beneficiary_name: str
    scheme_name: str
    fund_name: str
    services: list[str]
    value_text: str  # e.g. "500,00 €" or "25 ore (500,00 €)"
    coverage_text: str  # what the voucher pays and what the family pays the provider
    valid_from: date
    valid_until: date
    providers: list[tuple[str, str]]  # (name, contact), all accredited; the letter shortens
    qr_payload: str
    code: str
    pin: str | None
    balance_url: str
    beneficiary_address: str = ""
    issued_on: date | None = None


# The fields that differ from one voucher to the next; all the others are shared by a batch.
_PERSONAL = frozenset({"beneficiary_name", "beneficiary_address", "qr_payload", "code", "pin"})


def _shared_key(letter: VoucherLetter) -> tuple:
    values = []
    for f in fields(letter):
        if f.name not in _PERSONAL:
            value = getattr(letter, f.name)
            values.append(tuple(map(tuple, value)) if f.name == "providers" else value)
    return tuple(tuple(v) if isinstance(v, list) else v for v in values)


def _it_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _font(name: str, text: str) -> str:
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


def _text(
    c: Canvas, x: float, y: float, text: str, font: str = REGULAR, size: float = BODY
) -> None:
    c.setFont(_font(font, text), size)
    c.drawString(x, y, text)


@dataclass
class _Template:
    """The shared part of a letter, laid out: one form per page and where the personal parts go."""

    forms: list[str]
    card_page: int  # 1 unless the shared text above the card fills a whole page
    qr_origin: tuple[float, float]  # top-left corner of the QR area
    code_at: tuple[float, float]
    pin_at: tuple[float, float]


class _Writer:
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
        font = _font(font, text)
        lines = simpleSplit(text, font, size, width) or [""]
        if len(lines) <= KEEP_TOGETHER:
            self.room(leading * len(lines))
        for i, line in enumerate(lines):
            self.room(leading)
            self.y -= leading
            if i == 0 and marker:
                _text(self.c, marker[2], self.y, marker[0], marker[1])
            self.c.setFont(font, size)
            self.c.drawString(x, self.y, line)

    def heading(self, text: str) -> None:
        self.room(2.2 * LEADING + 18)  # never a heading alone at the foot of a page
        self.y -= 6
        self.lines(text, BOLD, 13.5, leading=17)
        self.y -= 1

    def field(self, label: str, value: str) -> None:
        self.lines(
            value, x=LEFT + LABEL_WIDTH, width=WIDTH - LABEL_WIDTH, marker=(label, BOLD, LEFT)
        )

    def bullet(self, text: str, font=REGULAR) -> None:
        self.lines(text, font, x=LEFT + 20, width=WIDTH - 20, marker=("•", REGULAR, LEFT + 6))


def _header(w: _Writer, letter: VoucherLetter) -> None:
    """The ente and the title on the left, the date and the addressee on the right."""
    left = RECIPIENT_X - LEFT - 24
    w.lines(letter.ente_name, BOLD, 14, width=left, leading=17)
    for part in filter(None, letter.ente_address.splitlines()):
        w.lines(part, width=left)
    w.y -= 18
    w.lines("Buono servizio", BOLD, 22, width=left, leading=26)
    w.y -= 2
    w.lines(letter.scheme_name, BOLD, 14, width=left, leading=18)
    w.lines(f"Finanziato con: {letter.fund_name}", width=left)
    if letter.issued_on:
        _text(w.c, RECIPIENT_X, TOP - LEADING, f"Emesso il {_it_date(letter.issued_on)}")
    _text(w.c, RECIPIENT_X, RECIPIENT_TOP, "Alla cortese attenzione di")
    w.y = min(w.y, RECIPIENT_BOTTOM)


def _card(w: _Writer, letter: VoucherLetter) -> tuple:
    """The boxed part with the QR code, the code and the PIN; returns their positions."""
    c = w.c
    w.room(CARD_HEIGHT + 10)
    top = w.y - 10
    bottom = top - CARD_HEIGHT
    c.setLineWidth(1.5)
    c.roundRect(LEFT, bottom, WIDTH, CARD_HEIGHT, 6)
    qr_origin = (LEFT + CARD_PAD, top - CARD_PAD)
    x = LEFT + CARD_PAD + QR_AREA + 12
    text_width = LEFT + WIDTH - CARD_PAD - x
    y = top - CARD_PAD - 14
    _text(c, x, y, "Codice del buono")
    code_at = (x, y - 24)
    pin_at = (x, y - 50)
    w.y = y - 90
    for line in simpleSplit(f"Valore: {letter.value_text}", BOLD, 12, text_width):
        _text(c, x, w.y, line, BOLD, 12)
        w.y -= 16
    validity = f"Valido dal {_it_date(letter.valid_from)} al {_it_date(letter.valid_until)}"
    for line in simpleSplit(validity, REGULAR, BODY, text_width):
        _text(c, x, w.y, line)
        w.y -= LEADING
    w.y -= 4
    for line in simpleSplit("Mostra questo foglio al fornitore.", REGULAR, BODY, text_width):
        _text(c, x, w.y, line)
        w.y -= LEADING
    w.y = bottom - 4
    return qr_origin, code_at, pin_at


def _body(w: _Writer, letter: VoucherLetter) -> None:
    w.y -= 4
    w.field("Servizi", "; ".join(letter.services) + ".")
    w.field("Copertura", letter.coverage_text)

    w.heading("Dove usarlo: i fornitori accreditati")
    shown = letter.providers[:MAX_PROVIDERS]
    for name, contact in shown:
        w.bullet(f"{name} — {contact}" if contact else name)
    rest = len(letter.providers) - len(shown)
    if not shown:
        w.lines(
            "L'elenco dei fornitori accreditati è online, all'indirizzo indicato sotto, e presso "
            "i servizi sociali."
        )
    elif rest:
        w.lines(
            f"… e altri {rest} fornitori: elenco completo online su {letter.balance_url} "
            "(con il codice del buono e il PIN)."
        )

    w.heading("Come si usa")
    w.bullet("Scegli uno dei fornitori accreditati e concorda con lui il servizio.")
    w.bullet(
        "Quando ricevi il servizio, mostra questo foglio: il fornitore inquadra il codice QR "
        "(oppure scrive il codice del buono) e registra la prestazione. Il costo viene scalato "
        "dal saldo del buono."
    )
    w.bullet(
        "Se il buono non copre tutto il costo, la parte restante la paghi direttamente al "
        f"fornitore. Dopo il {_it_date(letter.valid_until)} il saldo rimasto non si può più "
        "spendere."
    )

    w.heading("Controlla il saldo")
    w.lines(
        f"Vai su {letter.balance_url} e inserisci il codice del buono e il PIN: vedrai il saldo, "
        "la scadenza, i servizi già registrati e l'elenco dei fornitori. Il PIN serve solo a te: "
        "non darlo a nessuno, nemmeno al fornitore."
    )

    w.heading("Se perdi questo foglio")
    w.lines(
        f"Chiama subito i servizi sociali di {letter.ente_name}: bloccheranno questo "
        "buono e te ne daranno uno nuovo con il saldo rimasto. Il vecchio codice non potrà più "
        "essere usato da nessuno."
    )


def _template(c: Canvas, letter: VoucherLetter, prefix: str) -> _Template:
    w = _Writer(c, prefix)
    _header(w, letter)
    qr_origin, code_at, pin_at = _card(w, letter)
    card_page = len(w.forms)
    _body(w, letter)
    return _Template(w.finish(), card_page, qr_origin, code_at, pin_at)


def _put(t: PDFTextObject, x: float, y: float, text: str, font=REGULAR, size=BODY) -> None:
    t.setFont(_font(font, text), size)
    t.setTextOrigin(x, y)
    t.textOut(text)


def _addressee(t: PDFTextObject, letter: VoucherLetter) -> None:
    y = RECIPIENT_TOP - 18
    _put(t, RECIPIENT_X, y, letter.beneficiary_name, BOLD, 13)
    for part in filter(None, letter.beneficiary_address.splitlines()):
        y -= LEADING
        _put(t, RECIPIENT_X, y, part)


def _code_and_pin(t: PDFTextObject, template: _Template, letter: VoucherLetter) -> None:
    _put(t, *template.code_at, letter.code, MONO, 20)
    x, y = template.pin_at
    if letter.pin:
        _put(t, x, y, "PIN")
        _put(t, x + 30, y, letter.pin, MONO, 20)
    else:
        _put(t, x, y, "PIN: quello ricevuto al rilascio", BOLD, 12)


def _footer(t: PDFTextObject, letter: VoucherLetter, page: int, pages: int) -> None:
    if page > 1:
        _put(t, LEFT, TOP - LEADING, f"Buono servizio {letter.code} (segue)", BOLD)
    label = f"Buono {letter.code}" + (f" · pagina {page} di {pages}" if pages > 1 else "")
    _put(t, LEFT, 32, label)


class _BatchCanvas(Canvas):
    """A canvas that compresses each page's content as soon as the page is finished, so that a
    batch of thousands of letters is held compressed rather than as text until it is saved."""

    def showPage(self):
        super().showPage()
        page = self._doc.Pages.pages[-1]
        content = PDFStream(content=zlib.compress(page.stream.encode("utf8"), ZLIB_LEVEL))
        content.dictionary["Filter"] = PDFName("FlateDecode")  # already applied: kept as is
        page.Contents, page.stream = content, None


def letters_pdf(letters: Sequence[VoucherLetter]) -> bytes:
    """One PDF with a letter for each voucher, in the order given: one A4 page each, or more
    when the shared text is long."""
    buffer = io.BytesIO()
    c = _BatchCanvas(buffer, pagesize=A4, pageCompression=1, lang="it-IT")
    c.setTitle("Buoni servizio" if len(letters) != 1 else f"Buono servizio {letters[0].code}")
    if letters:
        c.setAuthor(letters[0].ente_name)
    c.setSubject("Buono servizio per servizi sociali")
    templates: dict[tuple, _Template] = {}
    for letter in letters:
        key = _shared_key(letter)
        template = templates.get(key)
        if template is None:
            template = templates[key] = _template(c, letter, f"L{len(templates) + 1}")
        pages = len(template.forms)
        for number, form in enumerate(template.forms, start=1):
            c.doForm(form)
            text = c.beginText()
            if number == 1:
                _addressee(text, letter)
            if number == template.card_page:
                draw_qr(c, letter.qr_payload, *template.qr_origin, QR_AREA)
                _code_and_pin(text, template, letter)
            _footer(text, letter, number, pages)
            c.drawText(text)
            c.showPage()
    if not letters:
        c.showPage()
    c.save()
    return buffer.getvalue()
