"""The printable voucher letter (A4, reportlab): one letter per voucher, and one PDF for a batch.

Pure: plain values in, PDF bytes out. Everything a batch's letters share (the ente, the scheme,
the services, the providers, the instructions, the office to call) is laid out once per
distinct content as a form XObject that every page reuses; each page then adds only what is
personal: the name, the QR code, the voucher code and the PIN. That keeps a batch of
thousands of letters small and fast.

Who may see what is the letter's shape, not only its words: the box the provider is shown
holds the QR code and the voucher code and nothing else; the PIN sits in a box of its own
further down, under "Controlla il saldo", marked as the family's only.
"""

import io
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfdoc import PDFName, PDFStream
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.textobject import PDFTextObject

from .letter_writer import (
    BODY,
    BOLD,
    LEADING,
    LEFT,
    MONO,
    PAGE_HEIGHT,
    REGULAR,
    TOP,
    WIDTH,
    Writer,
    draw_text,
    font_for,
    split,
)
from .pdf_qr import draw_qr

MAX_PROVIDERS = 5  # more than this and the letter points to the complete list online
# Fast compression: the pages are mostly QR rectangles, where the default level costs six times
# as much for a fifth less size.
ZLIB_LEVEL = 1

QR_AREA = 142.0  # the QR code's side with its quiet zone: about 0.65 mm per module
CARD_PAD = 8.0
CARD_HEIGHT = QR_AREA + 2 * CARD_PAD
PIN_BOX_TOP = 36.0  # the PIN box's title line, above its text
RECIPIENT_X = 312.0  # the address shows through the window of a DL envelope
RECIPIENT_TOP = PAGE_HEIGHT - 118
RECIPIENT_BOTTOM = RECIPIENT_TOP - 78  # room for the name and four lines of address

# The words that tell who may see what: the provider's box, the family's PIN.
PROVIDER_PART = "Da mostrare al fornitore"
PIN_PART = "Il tuo PIN: solo per te"
WHO_SEES_WHAT = "Al fornitore mostra solo questo riquadro: il PIN è solo per te."
PIN_NOTE = "Il PIN serve solo a te: non mostrarlo e non dirlo a nessuno, nemmeno al fornitore."
SOCIAL_SERVICES_FALLBACK = "i servizi sociali del tuo Comune"


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
    # The social-services office to call (services.ente_office); empty when not set.
    office_phone: str = ""
    office_email: str = ""
    office_address: str = ""
    office_hours: str = ""

    @property
    def office_lines(self) -> list[tuple[str, str]]:
        """(label, value) of each office contact given."""
        given = (
            ("Telefono", self.office_phone),
            ("E-mail", self.office_email),
            ("Indirizzo", self.office_address),
            ("Orari", self.office_hours),
        )
        return [(label, value) for label, value in given if value]

    @property
    def office_reachable(self) -> bool:
        return bool(self.office_phone or self.office_email or self.office_address)


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


@dataclass
class _Template:
    """The shared part of a letter, laid out: one form per page and where the personal parts go."""

    forms: list[str]
    card_page: int  # 1 unless the shared text above the card fills a whole page
    qr_origin: tuple[float, float]  # top-left corner of the QR area
    code_at: tuple[float, float]
    pin_page: int
    pin_at: tuple[float, float]


def _header(w: Writer, letter: VoucherLetter) -> None:
    """The ente and the title on the left, the date and the addressee on the right."""
    left = RECIPIENT_X - LEFT - 24
    w.lines(letter.ente_name, BOLD, 14, width=left, leading=17)
    for part in filter(None, letter.ente_address.splitlines()):
        w.lines(part, width=left)
    w.y -= 16
    w.lines("Buono servizio", BOLD, 22, width=left, leading=26)
    w.y -= 2
    w.lines(letter.scheme_name, BOLD, 14, width=left, leading=18)
    w.lines(f"Finanziato con: {letter.fund_name}", width=left)
    if letter.issued_on:
        draw_text(w.c, RECIPIENT_X, TOP - LEADING, f"Emesso il {_it_date(letter.issued_on)}")
    draw_text(w.c, RECIPIENT_X, RECIPIENT_TOP, "Alla cortese attenzione di")
    w.y = min(w.y, RECIPIENT_BOTTOM)


def _card(w: Writer, letter: VoucherLetter) -> tuple:
    """The box the provider is shown: the QR code, the code, the value and the validity, and
    nothing else. Returns where the QR code and the code go."""
    c = w.c
    x = LEFT + CARD_PAD + QR_AREA + 12
    text_width = LEFT + WIDTH - CARD_PAD - x
    validity = f"Valido dal {_it_date(letter.valid_from)} al {_it_date(letter.valid_until)}"
    below_code = [
        *[
            (line, BOLD, 12.5, 16)
            for line in split(f"Valore: {letter.value_text}", BOLD, 12.5, text_width)
        ],
        *[(line, REGULAR, BODY, LEADING) for line in split(validity, REGULAR, BODY, text_width)],
        ("", REGULAR, BODY, 3),
        *[(line, BOLD, BODY, LEADING) for line in split(WHO_SEES_WHAT, BOLD, BODY, text_width)],
    ]
    # A long value or a long validity grows the box rather than spill out of it.
    height = max(CARD_HEIGHT, CARD_PAD + 15 + 20 + 48 + sum(r[3] for r in below_code))
    w.room(height + 10)
    top = w.y - 8
    bottom = top - height
    c.setLineWidth(2)
    c.roundRect(LEFT, bottom, WIDTH, height, 6)
    qr_origin = (LEFT + CARD_PAD, top - CARD_PAD)
    y = top - CARD_PAD - 15
    draw_text(c, x, y, PROVIDER_PART.upper(), BOLD, 13)
    y -= 20
    draw_text(c, x, y, "Codice del buono")
    code_at = (x, y - 24)
    y -= 48
    for line, font, size, leading in below_code:
        if line:
            draw_text(c, x, y, line, font, size)
        y -= leading
    w.y = bottom - 2
    return qr_origin, code_at


def _pin_box(w: Writer, letter: VoucherLetter) -> tuple[int, tuple[float, float]]:
    """The family's own box, apart from the provider's: the PIN, where to use it, and that
    nobody else needs it. Returns the page and the place of the PIN."""
    c = w.c
    how = (
        f"Vai su {letter.balance_url} e scrivi il codice del buono e il PIN: vedrai il "
        "saldo, la scadenza, i servizi ricevuti e i fornitori."
    )
    inner = WIDTH - 2 * (CARD_PAD + 4)
    lines = [(line, REGULAR) for line in split(how, REGULAR, BODY, inner)]
    lines += [(line, BOLD) for line in split(PIN_NOTE, BOLD, BODY, inner)]
    height = PIN_BOX_TOP + LEADING * len(lines) + CARD_PAD
    w.room(height + 8)
    top = w.y - 6
    c.setLineWidth(1.5)
    c.setDash(5, 3)  # dashed: a different box from the provider's, at a glance
    c.roundRect(LEFT, top - height, WIDTH, height, 6)
    c.setDash()
    x = LEFT + CARD_PAD + 4
    draw_text(c, x, top - 26, PIN_PART.upper(), BOLD, 13)
    pin_at = (x + 210, top - 27)
    y = top - PIN_BOX_TOP - 11
    for line, font in lines:
        draw_text(c, x, y, line, font)
        y -= LEADING
    w.y = top - height - 4
    return w.page, pin_at


def _providers(w: Writer, letter: VoucherLetter) -> None:
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


def _office(w: Writer, letter: VoucherLetter) -> None:
    """What to do when the letter or the PIN is lost, and whom to call: the office's
    contacts when the ente gave them, never made up when it did not."""
    w.heading("Se perdi questo foglio o il PIN")
    who = "i servizi sociali" if letter.office_reachable else SOCIAL_SERVICES_FALLBACK
    w.lines(
        f"Chiama subito {who}: bloccheranno questo buono e te ne daranno uno nuovo con il "
        "saldo rimasto. Chiamali anche se hai dimenticato il PIN o hai bisogno di aiuto."
    )
    if letter.office_lines:
        w.y -= 3
        for label, value in letter.office_lines:
            w.field(label, value, BOLD if label == "Telefono" else REGULAR)


def _body(w: Writer, letter: VoucherLetter) -> tuple[int, tuple[float, float]]:
    w.y -= 2
    w.field("Servizi", "; ".join(letter.services) + ".")
    w.field("Copertura", letter.coverage_text)
    _providers(w, letter)

    w.heading("Come si usa")
    w.bullet("Scegli uno dei fornitori accreditati e concorda con lui il servizio.")
    w.bullet(
        f"Quando ricevi il servizio, mostra al fornitore il riquadro «{PROVIDER_PART}»: "
        "lui inquadra il codice QR (o scrive il codice) e il costo viene scalato dal saldo."
    )
    w.bullet(
        "Se il buono non copre tutto il costo, la parte restante la paghi direttamente al "
        f"fornitore. Dopo il {_it_date(letter.valid_until)} il saldo rimasto non si può più "
        "spendere."
    )

    w.heading("Controlla il saldo su internet")
    pin_place = _pin_box(w, letter)
    _office(w, letter)
    return pin_place


def _template(c: Canvas, letter: VoucherLetter, prefix: str) -> _Template:
    w = Writer(c, prefix)
    _header(w, letter)
    qr_origin, code_at = _card(w, letter)
    card_page = w.page
    pin_page, pin_at = _body(w, letter)
    return _Template(w.finish(), card_page, qr_origin, code_at, pin_page, pin_at)


def _put(t: PDFTextObject, x: float, y: float, text: str, font=REGULAR, size=BODY) -> None:
    t.setFont(font_for(font, text), size)
    t.setTextOrigin(x, y)
    t.textOut(text)


def _addressee(t: PDFTextObject, letter: VoucherLetter) -> None:
    y = RECIPIENT_TOP - 18
    _put(t, RECIPIENT_X, y, letter.beneficiary_name, BOLD, 13)
    for part in filter(None, letter.beneficiary_address.splitlines()):
        y -= LEADING
        _put(t, RECIPIENT_X, y, part)


def _code(t: PDFTextObject, template: _Template, letter: VoucherLetter) -> None:
    _put(t, *template.code_at, letter.code, MONO, 20)


def _pin(t: PDFTextObject, template: _Template, letter: VoucherLetter) -> None:
    x, y = template.pin_at
    if letter.pin:
        _put(t, x, y, "PIN", BOLD, 13)
        _put(t, x + 36, y, letter.pin, MONO, 22)
    else:
        _put(t, x, y, "PIN: quello ricevuto al rilascio", BOLD, 13)


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
                _code(text, template, letter)
            if number == template.pin_page:
                _pin(text, template, letter)
            _footer(text, letter, number, pages)
            c.drawText(text)
            c.showPage()
    if not letters:
        c.showPage()
    c.save()
    return buffer.getvalue()
