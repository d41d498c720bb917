"""The printed letter, read back as a person and a scanner would: its text, its type sizes,
and its QR code decoded from the rendered page."""

from datetime import date

import pymupdf
import pytest

from voucher.documents.letter import MAX_PROVIDERS, letters_pdf
from voucher.documents.signing import KeyRing, voucher_claims

from .support import page_qr_codes, pdf_pages, pdf_text, sample_letter, verify_jws


@pytest.fixture(scope="module")
def ring(tmp_path_factory):
    return KeyRing.load(str(tmp_path_factory.mktemp("keys")))


def signed(ring, code: str) -> str:
    return ring.sign(voucher_claims(code, date(2026, 1, 1), date(2026, 12, 31), "01307110484"))


def test_one_letter_is_one_page_whose_qr_is_the_payload(ring):
    letter = sample_letter(qr_payload=signed(ring, "K7QM-3XRT-9WBC-HN44"))
    pdf = letters_pdf([letter])
    assert pdf.startswith(b"%PDF")
    assert page_qr_codes(pdf) == [[letter.qr_payload]]
    header, claims = verify_jws(page_qr_codes(pdf)[0][0], ring.jwks())
    assert claims["code"] == letter.code


def test_the_letter_says_what_the_beneficiary_needs(ring):
    letter = sample_letter(qr_payload=signed(ring, "K7QM-3XRT-9WBC-HN44"))
    text = " ".join(pdf_text(letters_pdf([letter])).split())
    for expected in (
        "Società della Salute di Prova",
        "Maria Rossi",
        "Via Roma 12",
        "Assistenza domiciliare anziani",
        "Fondo di solidarietà comunale (FSC)",
        "Pasti a domicilio",
        "25 ore (500,00 €)",
        "lo paga la famiglia direttamente al fornitore",
        "Valido dal 01/01/2026 al 31/12/2026",
        "Cooperativa Aurora — 055 123456 · info@aurora.example",
        "K7QM-3XRT-9WBC-HN44",
        "PIN 482913",
        "Come si usa",
        "https://buoni.example.it/saldo",
        "Se perdi questo foglio",
        "servizi sociali",
        "nuovo con il saldo rimasto",
    ):
        assert expected in text, expected


def test_without_pin_the_letter_points_to_the_one_given_at_issue(ring):
    letter = sample_letter(qr_payload=signed(ring, "K7QM-3XRT-9WBC-HN44"), pin=None)
    text = pdf_text(letters_pdf([letter]))
    assert "PIN: quello ricevuto al rilascio" in text
    assert "482913" not in text


def test_batch_of_three_letters_in_order(ring):
    codes = ["AAAA-BBBB-CCCC-DDD1", "EEEE-FFFF-GGGG-HHH2", "JJJJ-KKKK-MMMM-NNN3"]
    letters = [
        sample_letter(
            qr_payload=signed(ring, code),
            code=code,
            pin=f"00000{i}",
            beneficiary_name=f"Persona {i}",
        )
        for i, code in enumerate(codes)
    ]
    pdf = letters_pdf(letters)
    pages = pdf_pages(pdf)
    assert len(pages) == 3
    assert page_qr_codes(pdf) == [[letter.qr_payload] for letter in letters]
    for i, (page, letter) in enumerate(zip(pages, letters, strict=True)):
        assert letter.code in page and f"Persona {i}" in page and letter.pin in page
        others = [other for other in letters if other is not letter]
        assert not any(o.code in page or o.pin in page for o in others)


def test_letters_of_different_schemes_in_one_batch(ring):
    first = sample_letter(
        qr_payload=signed(ring, "AAAA-BBBB-CCCC-DDD1"), code="AAAA-BBBB-CCCC-DDD1"
    )
    second = sample_letter(
        qr_payload=signed(ring, "EEEE-FFFF-GGGG-HHH2"),
        code="EEEE-FFFF-GGGG-HHH2",
        scheme_name="Centro diurno disabili",
        value_text="300,00 €",
    )
    pdf = letters_pdf([first, second, first])
    pages = pdf_pages(pdf)
    assert ["Assistenza domiciliare anziani" in p for p in pages] == [True, False, True]
    assert ["Centro diurno disabili" in p for p in pages] == [False, True, False]
    assert page_qr_codes(pdf) == [[first.qr_payload], [second.qr_payload], [first.qr_payload]]


def test_a_long_provider_list_is_cut_and_points_online(ring):
    providers = [(f"Cooperativa {n:02d}", f"055 0000{n:02d}") for n in range(MAX_PROVIDERS + 4)]
    letter = sample_letter(qr_payload=signed(ring, "K7QM-3XRT-9WBC-HN44"), providers=providers)
    text = " ".join(pdf_text(letters_pdf([letter])).split())
    for name, _contact in providers[:MAX_PROVIDERS]:
        assert name in text
    for name, _contact in providers[MAX_PROVIDERS:]:
        assert name not in text
    assert "altri 4 fornitori: elenco completo online su https://buoni.example.it/saldo" in text


def test_a_letter_too_long_for_one_page_goes_on_to_a_second(ring):
    services = [f"Servizio numero {n} con un nome piuttosto lungo da leggere" for n in range(40)]
    letters = [
        sample_letter(qr_payload=signed(ring, code), code=code, services=services)
        for code in ("AAAA-BBBB-CCCC-DDD1", "EEEE-FFFF-GGGG-HHH2")
    ]
    pdf = letters_pdf(letters)
    pages = pdf_pages(pdf)
    assert len(pages) == 4
    assert page_qr_codes(pdf) == [[letters[0].qr_payload], [], [letters[1].qr_payload], []]
    assert "AAAA-BBBB-CCCC-DDD1 (segue)" in pages[1]
    assert "pagina 2 di 2" in pages[3] and "EEEE-FFFF-GGGG-HHH2" in pages[3]
    assert "Se perdi questo foglio" in pages[1]


def test_names_outside_latin_1_are_printed(ring):
    letter = sample_letter(
        qr_payload=signed(ring, "K7QM-3XRT-9WBC-HN44"),
        beneficiary_name="Łukasz Ștefănescu",
        beneficiary_address="Strada Ğazi 3",
    )
    text = pdf_text(letters_pdf([letter]))
    assert "Łukasz Ștefănescu" in text
    assert "Strada Ğazi 3" in text


def test_type_is_large_enough_to_read(ring):
    pdf = letters_pdf([sample_letter(qr_payload=signed(ring, "K7QM-3XRT-9WBC-HN44"))])
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        blocks = document[0].get_text("dict")["blocks"]
    sizes = [
        span["size"]
        for block in blocks
        for line in block.get("lines", [])
        for span in line["spans"]
        if span["text"].strip()
    ]
    assert sizes and min(sizes) >= 11


def test_text_is_black_on_white(ring):
    pdf = letters_pdf([sample_letter(qr_payload=signed(ring, "K7QM-3XRT-9WBC-HN44"))])
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        blocks = document[0].get_text("dict")["blocks"]
    colours = {
        span["color"] for b in blocks for line in b.get("lines", []) for span in line["spans"]
    }
    assert colours == {0}


def form_count(pdf: bytes) -> int:
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        return sum(
            document.xref_get_key(xref, "Subtype") == ("name", "/Form")
            for xref in range(1, document.xref_length())
        )


def test_shared_content_is_stored_once_per_distinct_content(ring):
    letters = [
        sample_letter(qr_payload=signed(ring, f"AAAA-BBBB-CCCC-{n:04d}"), code=f"X{n}")
        for n in range(20)
    ]
    assert form_count(letters_pdf(letters)) == 1
    other = sample_letter(qr_payload=signed(ring, "AAAA"), coverage_text="Copre tutto.")
    assert form_count(letters_pdf([*letters, other])) == 2


def test_no_letters_is_still_a_valid_pdf():
    pdf = letters_pdf([])
    assert len(pdf_pages(pdf)) == 1


def test_a_very_long_heading_moves_the_card_whole_to_the_next_page(ring):
    letter = sample_letter(
        qr_payload=signed(ring, "K7QM-3XRT-9WBC-HN44"),
        ente_address="\n".join(f"Ufficio numero {n}" for n in range(45)),
    )
    pdf = letters_pdf([letter])
    pages = pdf_pages(pdf)
    assert page_qr_codes(pdf) == [[], [letter.qr_payload]]
    assert "Maria Rossi" in pages[0]
    assert letter.code in pages[1] and "PIN" in pages[1]
