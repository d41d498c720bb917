"""The letter read back as a family and a provider would: the box the provider is shown
holds the QR code and the code but never the PIN, the PIN has a box of its own marked as the
family's, nothing on the page tells the reader to show the PIN, and the office to call is
printed where the letter says to call (or, when the ente gave none, no contact is made up)."""

import pymupdf

from tests import factories as f
from voucher.documents.letter import PIN_PART, PROVIDER_PART, WHO_SEES_WHAT, letters_pdf

from .support import pdf_pages, sample_letter

OFFICE = {key: value for key, value in f.OFFICE.items()}


def boxes(page) -> list[pymupdf.Rect]:
    """The rectangles drawn on the page (the two boxes), largest first."""
    rects = [d["rect"] for d in page.get_drawings() if d["rect"].width > 300]
    return sorted(rects, key=lambda r: -r.height)


def find(page, text: str) -> pymupdf.Rect:
    """Where the text first appears on the page, from the top (the search ignores case)."""
    hits = sorted(page.search_for(text), key=lambda r: r.y0)
    assert hits, text
    return hits[0]


def test_the_pin_is_in_its_own_box_not_in_the_providers_one():
    letter = sample_letter(**OFFICE)
    with pymupdf.open(stream=letters_pdf([letter]), filetype="pdf") as document:
        assert len(document) == 1
        page = document[0]
        provider_label = find(page, PROVIDER_PART.upper())
        pin_label = find(page, PIN_PART.upper())
        provider_box = next(b for b in boxes(page) if b.contains(provider_label))
        pin_box = next(b for b in boxes(page) if b.contains(pin_label))
        assert provider_box != pin_box and not provider_box.intersects(pin_box)
        pin = find(page, letter.pin)
        code = find(page, letter.code)
        assert provider_box.contains(code) and not provider_box.intersects(pin)
        assert pin_box.contains(pin) and pin_box.y0 > provider_box.y1  # further down
        sentence = page.search_for("il PIN è solo per te")
        assert sentence and all(provider_box.contains(r) for r in sentence)


def test_no_sentence_tells_the_reader_to_show_the_whole_sheet():
    for pin in ("482913", None):
        text = " ".join(" ".join(pdf_pages(letters_pdf([sample_letter(pin=pin)]))).split())
        assert "questo foglio al fornitore" not in text.lower()
        assert "mostra questo foglio" not in text.lower()
        assert WHO_SEES_WHAT in text
        assert (
            "Il PIN serve solo a te: non mostrarlo e non dirlo a nessuno, nemmeno al fornitore."
            in text
        )
        assert f"mostra al fornitore il riquadro «{PROVIDER_PART}»" in text


def test_the_office_is_printed_where_the_letter_says_to_call():
    text = " ".join(" ".join(pdf_pages(letters_pdf([sample_letter(**OFFICE)]))).split())
    call = text.index("Chiama subito i servizi sociali:")
    for label, key in (
        ("Telefono", "office_phone"),
        ("E-mail", "office_email"),
        ("Indirizzo", "office_address"),
        ("Orari", "office_hours"),
    ):
        assert text.index(f"{label} {OFFICE[key]}") > call
    assert "del tuo Comune" not in text


def test_without_office_contacts_the_letter_invents_none():
    text = " ".join(" ".join(pdf_pages(letters_pdf([sample_letter()]))).split())
    assert "Chiama subito i servizi sociali del tuo Comune:" in text
    assert "Telefono" not in text and "Orari" not in text


def test_a_letter_with_the_office_and_two_providers_is_still_one_page():
    providers = [("Cooperativa Aurora", "055 123456"), ("Cooperativa Borea", "055 654321")]
    pdf = letters_pdf([sample_letter(providers=providers, **OFFICE)])
    assert len(pdf_pages(pdf)) == 1
