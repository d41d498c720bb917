"""CSV, XLSX and PDF exports hold the same figures as the JSON; the statement's also its
fund, CUP, Comune and legal model, and its subtotals."""

import csv
import io
from datetime import date
from decimal import Decimal

import pymupdf
import pytest
from openpyxl import load_workbook

from tests import factories as f
from tests.reports.world import (
    Ledger,
    headers_for,
    issue,
    make_provider,
    make_scheme,
    send_invoice,
)
from voucher.reports.render import render
from voucher.services import clock
from voucher.services.money import format_euro

YEAR = clock.today().year - 1


@pytest.fixture
def world(app, client):
    f.make_ente()
    provider = make_provider(YEAR)
    ledger = Ledger()
    hours = make_scheme(
        YEAR, "A", copay_bands=[{"isee_max_cents": 9_000_000, "coverage_percent": 70}]
    )
    disability = make_scheme(YEAR, "C", unit_price_cents=2333)
    poverty = make_scheme(YEAR, "P", fund="FONDO_POVERTA")
    for comune in (f.FIRENZE, f.FIESOLE):
        person = f.make_beneficiary(comune=comune, categories=["elderly_dependent", "disabled"])
        for scheme, service in ((hours, "A1"), (disability, "C1"), (poverty, "P3")):
            voucher = issue(scheme, person)
            ledger.redeem(provider, voucher, service, date(YEAR, 2, 11), quantity="1.25")
            entry = ledger.redeem(provider, voucher, service, date(YEAR, 2, 12), quantity="3")
        ledger.reverse(entry)
    return {"client": client, "headers": headers_for(client, "auditor"), "provider": provider}


def fetch(w, path: str, fmt: str):
    sep = "&" if "?" in path else "?"
    response = w["client"].get(f"{path}{sep}format={fmt}", headers=w["headers"])
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


REPORTS = {
    "funds": ("/api/v1/reports/funds?year={year}", ("committed_cents", "redeemed_cents")),
    "fsc": (
        "/api/v1/reports/fsc?year={year}",
        ("committed_cents", "redeemed_cents", "copay_cents"),
    ),
    "fondo-poverta": ("/api/v1/reports/fondo-poverta?year={year}", ("committed_cents",)),
    "statement": (
        "/api/v1/reports/providers/{provider}/statement?month={year}-02",
        ("total_public_cents", "total_copay_cents"),
    ),
}


def totals_of(name: str, body: dict) -> dict:
    return body if name == "statement" else body["totals"]


def _path(w, name: str) -> str:
    return REPORTS[name][0].format(year=YEAR, provider=w["provider"].id)


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_xlsx_matches_json(world, name):
    w = world
    body = fetch(w, _path(w, name), "json").get_json()
    response = fetch(w, _path(w, name), "xlsx")
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert all(c.font.bold for c in sheet[1])
    totals_row = list(sheet.iter_rows(min_row=sheet.max_row, max_row=sheet.max_row))[0]
    assert totals_row[0].value == "Totale" and totals_row[0].font.bold
    values = dict(zip(header, (c.value for c in totals_row), strict=True))
    number_formats = dict(zip(header, (c.number_format for c in totals_row), strict=True))
    labels = {
        "committed_cents": "Impegnato",
        "redeemed_cents": "Rendicontato" if name != "fsc" else "Erogato (quota pubblica)",
        "copay_cents": "Compartecipazione",
        "total_public_cents": "Quota pubblica",
        "total_copay_cents": "Compartecipazione",
    }
    for key in REPORTS[name][1]:
        cents = totals_of(name, body)[key]
        assert cents != 0 or name == "statement"
        assert Decimal(str(values[labels[key]])) == Decimal(cents) / 100
        assert number_formats[labels[key]] == "#,##0.00 €"
    rows = sheet.max_row - 2
    assert rows == len(body["lines"] if name == "statement" else body["rows"])


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_pdf_matches_json(world, name):
    w = world
    body = fetch(w, _path(w, name), "json").get_json()
    response = fetch(w, _path(w, name), "pdf")
    assert response.mimetype == "application/pdf"
    with pymupdf.open(stream=response.data, filetype="pdf") as document:
        text = "\n".join(page.get_text() for page in document)
        pages = document.page_count
    assert "Società della Salute di Prova" in text
    assert f"Pagina 1 di {pages}" in text
    assert "Generato il" in text and "Totale" in text
    for key in REPORTS[name][1]:
        assert format_euro(totals_of(name, body)[key]) in text


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_csv_matches_json(world, name):
    w = world
    body = fetch(w, _path(w, name), "json").get_json()
    response = fetch(w, _path(w, name), "csv")
    assert response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert lines[-1][0] == "Totale"
    totals = dict(zip(lines[0], lines[-1], strict=True))
    public = "Quota pubblica" if name == "statement" else "Impegnato"
    key = "total_public_cents" if name == "statement" else "committed_cents"
    cents = totals_of(name, body)[key]
    assert totals[public] == f"{'-' if cents < 0 else ''}{abs(cents) // 100},{abs(cents) % 100:02d}"


def test_statement_export_shows_reversals_negative(world):
    w = world
    response = fetch(w, _path(w, "statement"), "csv")
    text = response.data.decode("utf-8-sig")
    assert "Storno" in text and ";-" in text


def test_large_statement_pdf_has_page_numbers():
    lines = [
        {
            "entry_id": i,
            "date": date(2025, 3, 1 + i % 28),
            "kind": "redemption",
            "voucher_code": "ABCD-EFGH-JKLM",
            "service_code": "A1",
            "service_name": "Assistenza domiciliare sociale per anziani autosufficienti",
            "quantity": Decimal("1.50"),
            "amount_cents": 3000,
            "public_cents": 2400,
            "copay_cents": 600,
            "carried_over": False,
        }
        for i in range(120)
    ]
    data = {
        "provider_id": 1,
        "provider_name": "Cooperativa <Alfa> & Beta",
        "provider_vat_number": "12345670017",
        "month": "2025-03",
        "month_label": "marzo 2025",
        "status": "paid",
        "lines": lines,
        "total_amount_cents": 360_000,
        "total_public_cents": 288_000,
        "total_copay_cents": 72_000,
        "payment_reference": "=HYPERLINK(1)",
        "paid_on": date(2025, 4, 30),
        "ente_name": "Comune di Prova",
        "ente_fiscal_code": "01307110484",
        "generated_at": clock.now(),
    }
    content, mimetype, filename = render("statement", "pdf", data)
    assert (mimetype, filename) == ("application/pdf", "rendiconto_1_2025-03.pdf")
    with pymupdf.open(stream=content, filetype="pdf") as document:
        assert document.page_count > 2
        last = document[-1].get_text()
        assert f"Pagina {document.page_count} di {document.page_count}" in last
        assert "2.880,00 €" in last
        assert "Cooperativa <Alfa> & Beta" in document[0].get_text()
    xlsx, _, _ = render("statement", "xlsx", data)
    info = load_workbook(io.BytesIO(xlsx))["Informazioni"]
    assert any(row[1] and "=HYPERLINK(1)" in row[1] for row in info.iter_rows(values_only=True))


@pytest.mark.parametrize("lang", ["it", "en"])
def test_statement_export_names_each_kind_with_its_one_italian_word(world, lang):
    """The word the pages use ("Prestazione", "Storno"), in Italian whatever the reader's
    language: an export is an Italian document."""
    w = world
    w["client"].set_cookie("lang", lang)
    response = fetch(w, _path(w, "statement"), "csv")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    kinds = {row[1] for row in rows[1:-1]}
    assert kinds == {"Prestazione", "Storno"}
    xlsx = fetch(w, _path(w, "statement"), "xlsx")
    info = load_workbook(io.BytesIO(xlsx.data))["Informazioni"]
    cells = [str(cell) for row in info.iter_rows(values_only=True) for cell in row if cell]
    assert any("Stato del rendiconto: aperto." in cell for cell in cells)


def test_statement_files_show_fund_cup_comune_model_and_subtotals(world):
    """Lines carry fund, CUP, Comune and legal model; a second section sums them per fund,
    CUP and Comune to the statement's totals; the notes say the model and the invoices."""
    w = world
    path = _path(w, "statement")
    body = fetch(w, path, "json").get_json()
    sent = send_invoice(
        w["client"],
        headers_for(w["client"], "finance"),
        w["provider"],
        f"{YEAR}-02",
        body["total_public_cents"],
        number="FT-9",
    )
    assert sent.status_code == 201, sent.get_json()

    book = load_workbook(io.BytesIO(fetch(w, path, "xlsx").data))
    assert book.sheetnames == [book.worksheets[0].title, "Subtotali", "Informazioni"]
    lines = list(book.worksheets[0].iter_rows(values_only=True))
    rows = [dict(zip(lines[0], line, strict=True)) for line in lines[1:-1]]
    assert {(r["Fondo"], r["Codice ISTAT"], r["Comune"]) for r in rows} == {
        (fund, comune["istat_code"], comune["name"])
        for fund in ("FSC_OS", "FONDO_POVERTA")
        for comune in (f.FIRENZE, f.FIESOLE)
    }
    assert {r["Modello"] for r in rows} == {"Acquisto"} and {r["CUP"] for r in rows} == {None}
    subtotals = list(book["Subtotali"].iter_rows(values_only=True))
    assert subtotals[0] == (
        "Fondo",
        "CUP",
        "Codice ISTAT",
        "Comune",
        "Quota pubblica",
        "Compartecipazione",
        "Da fatturare",
    )
    assert len(subtotals) == 2 + len(body["subtotals"]) == 6
    total = dict(zip(subtotals[0], subtotals[-1], strict=True))
    assert total["Fondo"] == "Totale"
    for header, key in (
        ("Quota pubblica", "total_public_cents"),
        ("Compartecipazione", "total_copay_cents"),
        ("Da fatturare", "total_public_cents"),  # every scheme here is a purchase
    ):
        assert Decimal(str(total[header])) * 100 == body[key]
    notes = [row[1] for row in book["Informazioni"].iter_rows(values_only=True) if row[0] == "Nota"]
    assert any("Modello: acquisto del servizio" in note for note in notes)
    assert any(
        note.startswith("Fatture registrate: n. FT-9 del ")
        and note.endswith(", corrisponde al rendiconto.")
        for note in notes
    )

    with pymupdf.open(stream=fetch(w, path, "pdf").data, filetype="pdf") as document:
        text = " ".join(page.get_text() for page in document).replace("\n", " ")
    assert "Subtotali per fondo, CUP e Comune" in text and "Fiesole" in text
    assert "n. FT-9 del" in text

    csv_lines = list(
        csv.reader(io.StringIO(fetch(w, path, "csv").data.decode("utf-8-sig")), delimiter=";")
    )
    assert csv_lines[0][4:9] == ["Fondo", "CUP", "Codice ISTAT", "Comune", "Modello"]
    assert {line[7] for line in csv_lines[1:-1]} == {"Firenze", "Fiesole"}
