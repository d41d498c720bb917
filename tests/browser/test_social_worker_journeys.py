"""A social worker in a real browser, on a desktop: registers a person (the codice fiscale
checked first), checks the scheme's rules, issues a voucher whose PIN is shown once, prints
the letter with the PIN and again without it, and finds the person again by name; the PIN
then opens the family's balance page. No serious accessibility issue on any step."""

import io
import re

import pytest
from pypdf import PdfReader

from tests import factories as f
from tests.browser.support import DESKTOP, PHONE, axe_violations, open_tab, sign_in
from voucher.services import clock

pytestmark = pytest.mark.browser

FIRST, LAST = "Giovanni", "Bartolini"


@pytest.fixture
def desk(browser, live):
    """The social worker's desktop tab, signed in."""
    tab = open_tab(browser, live.url, DESKTOP)
    sign_in(tab, live.social_worker)
    yield tab
    tab.context.close()


def pdf_text(download) -> str:
    """The text of a downloaded PDF, after checking that it is one."""
    data = download.path().read_bytes()
    assert data.startswith(b"%PDF-"), data[:20]
    assert len(data) > 2_000
    reader = PdfReader(io.BytesIO(data))
    return " ".join(page.extract_text() for page in reader.pages)


def register(desk, fiscal_code: str, first_name: str = FIRST) -> None:
    """The registration form, as a person fills it: the codice fiscale checked first."""
    desk.goto("/servizi/beneficiari")
    desk.fill("#q", fiscal_code)
    desk.click("form[role=search] button[type=submit]")
    desk.wait_for_selector("#results-title")
    assert "Nessun beneficiario trovato" in desk.inner_text(
        "section[aria-labelledby=results-title]"
    )
    assert fiscal_code not in desk.url
    assert axe_violations(desk) == []
    desk.click("text=Registra un nuovo beneficiario")

    desk.fill("#fiscal_code", fiscal_code.lower())
    desk.click("button[name=action][value=check]")
    desk.wait_for_selector(".alert-info[role=status]")
    assert "sesso Maschio" in desk.inner_text(".alert-info[role=status]")
    assert axe_violations(desk) == []
    desk.fill("#first_name", first_name)
    desk.fill("#last_name", LAST)
    desk.select_option("#comune_istat", label="Fiesole")
    desk.click("label[for=categories-0]")  # the styled checkbox: its label is what one clicks
    desk.fill("#isee", "8.500,00")
    desk.fill("#address", "Via Matteotti 3, Fiesole")
    desk.click("form button[type=submit]:has-text('Registra')")
    desk.wait_for_selector("text=Beneficiario registrato.")


def test_register_issue_and_print_a_voucher_then_the_pin_opens_the_balance(desk, browser, live):
    fiscal_code = f.fiscal_code_for(f.unique_birth_date(78), "M", LAST, FIRST)
    register(desk, fiscal_code)
    assert re.search(r"/servizi/beneficiari/\d+$", desk.url)
    assert desk.locator("h1").inner_text() == f"{FIRST} {LAST}"
    assert "Nessun buono emesso per questa persona." in desk.content()
    assert "Fiesole" in desk.inner_text("section[aria-labelledby=data-title]")
    assert axe_violations(desk) == []

    # Choose the scheme: every rule is shown, met, before the voucher can be issued.
    desk.select_option("#misura", label=f"{live.hours_scheme} ({clock.today().year})")
    desk.click("button:has-text('Verifica i requisiti')")
    desk.wait_for_selector("#scheme-title")
    assert desk.inner_text("#scheme-title") == live.hours_scheme
    assert "Non soddisfatta" not in desk.inner_text(".app-checks")
    assert desk.locator(".app-checks li").count() >= 3
    assert axe_violations(desk) == []
    with desk.expect_response(lambda r: r.request.method == "POST") as issued:
        desk.click("button:has-text('Conferma ed emetti il buono')")

    # The PIN, once: a page that no cache keeps.
    assert issued.value.headers["cache-control"] == "no-store"
    assert desk.locator("h1").inner_text() == "Buono emesso"
    code = desk.inner_text(".app-pin-card dd.font-monospace:not(#pin)").strip()
    pin = desk.inner_text("#pin").strip()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", code)
    assert re.fullmatch(r"\d{6}", pin)
    assert f"{FIRST} {LAST}" in desk.inner_text(".app-pin-card")
    assert "Il PIN è mostrato solo ora" in desk.content()
    assert axe_violations(desk) == []

    with desk.expect_download() as letter:
        desk.click("button:has-text('Stampa la lettera con il PIN')")
    assert letter.value.suggested_filename == f"buono-{code}.pdf"
    text = pdf_text(letter.value)
    assert code in text and pin in text

    desk.click("text=Vai alla pagina del buono")
    desk.wait_for_url(re.compile(r"/servizi/buoni/\d+$"))
    assert code in desk.locator("h1").inner_text()
    assert "Attivo" in desk.locator("h1").inner_text()
    assert desk.locator("#pin").count() == 0 and pin not in desk.content()
    trail = desk.inner_text("section[aria-labelledby=trail-title]")
    assert "Emissione" in trail and live.social_worker in trail
    assert axe_violations(desk) == []
    with desk.expect_download() as reprint:
        desk.click("text=Stampa la lettera (senza PIN)")
    text = pdf_text(reprint.value)
    assert code in text and pin not in text
    assert desk.errors == []

    # The family, on a phone, with the code and the PIN of the letter.
    family = open_tab(browser, live.url, PHONE)
    try:
        family.goto("/saldo")
        family.fill("#code", code)
        family.fill("#pin", pin)
        family.press("#pin", "Enter")
        family.wait_for_url("**/saldo/buono")
        assert family.inner_text("#balance") == "500,00 €"
        assert "Attivo" in family.inner_text("#status")
    finally:
        family.context.close()


def test_find_a_beneficiary_by_name(desk):
    fiscal_code = f.fiscal_code_for(f.unique_birth_date(81), "M", LAST, "Leopoldo")
    register(desk, fiscal_code, "Leopoldo")
    desk.goto("/servizi/beneficiari")
    desk.fill("#q", LAST.lower())
    desk.press("#q", "Enter")
    desk.wait_for_selector("#results-title")
    rows = desk.locator("section[aria-labelledby=results-title] tbody tr")
    assert rows.count() >= 1
    found = rows.filter(has_text=fiscal_code)
    assert found.count() == 1
    assert LAST.lower() not in desk.url.lower()  # the search travels in a POST body
    assert axe_violations(desk) == []
    found.locator("a").click()
    desk.wait_for_url(re.compile(r"/servizi/beneficiari/\d+$"))
    assert desk.locator("h1").inner_text() == f"Leopoldo {LAST}"
    assert desk.errors == []
