"""A family checks its voucher in a real browser, with the keyboard only: code and PIN, the
balance page, the letter again and sign-out; the code filled in from /saldo#c=<code>; and no
serious accessibility issue on the form or on the balance page."""

import pytest

from tests.browser.conftest import FIRST_NAME, LAST_NAME, axe_violations

pytestmark = pytest.mark.browser


def wrong_pin(pin: str) -> str:
    return f"{(int(pin) + 1) % 10**6:06d}"


def tab_to(tab, selector: str, limit: int = 40) -> None:
    """Press Tab until the element has the focus, as a keyboard user would."""
    for _ in range(limit):
        if tab.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
        tab.keyboard.press("Tab")
    raise AssertionError(f"{selector} never got the focus with Tab")


def focused(tab) -> str:
    return tab.evaluate("document.activeElement.id")


def no_secrets_in_url(tab, live) -> None:
    compact = live.code.replace("-", "")
    for value in (live.code, compact, compact.lower(), live.pin):
        assert value not in tab.url


def test_keyboard_only_from_the_form_to_the_balance_and_out(page, live):
    page.goto("/saldo")
    tab_to(page, "#code")
    page.keyboard.type(live.code)
    page.keyboard.press("Tab")
    assert focused(page) == "pin"
    page.keyboard.type(live.pin)
    page.keyboard.press("Enter")
    page.wait_for_url("**/saldo/buono")
    no_secrets_in_url(page, live)

    assert page.locator("h1").inner_text() == "Il tuo buono"
    assert page.inner_text("#balance").endswith("€")
    assert "Attivo" in page.inner_text("#status")
    assert "ore di servizio" in page.inner_text("#balance-units")
    assert live.code in page.content()
    html = page.content()
    assert FIRST_NAME not in html and LAST_NAME not in html
    assert page.locator("#providers li.app-provider").count() == 1

    tab_to(page, "#letter-link")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename == "lettera-buono.pdf"

    tab_to(page, ".app-sign-out-bottom button")
    page.keyboard.press("Enter")
    page.wait_for_url("**/saldo")
    assert "Hai chiuso la consultazione" in page.inner_text(".app-flashes")
    page.goto("/saldo/buono")
    assert page.url.endswith("/saldo")
    assert page.errors == []


def test_the_code_comes_from_the_fragment_and_survives_a_wrong_pin(page, live):
    compact = live.code.replace("-", "").lower()
    page.goto(f"/saldo#c={compact}")
    assert page.input_value("#code") == compact
    assert page.url.endswith("/saldo")  # the fragment is gone from the address bar
    assert focused(page) == "pin"

    page.keyboard.type(wrong_pin(live.pin))
    page.keyboard.press("Enter")
    page.wait_for_selector("#failure")
    # The page's script has run (the load event may still be the previous page's).
    page.wait_for_selector("#balance-form[data-ready]", state="attached")
    assert "non sono corretti" in page.inner_text("#failure")
    assert page.input_value("#code") == compact  # typed again by the page, not the server
    assert focused(page) == "pin"

    page.keyboard.type(live.pin)
    page.keyboard.press("Enter")
    page.wait_for_url("**/saldo/buono")
    no_secrets_in_url(page, live)
    assert page.errors == []


def test_no_serious_accessibility_issue_on_the_form_and_the_balance(page, live):
    page.goto("/saldo")
    assert axe_violations(page) == []
    page.fill("#code", live.code)
    page.fill("#pin", wrong_pin(live.pin))
    page.press("#pin", "Enter")
    page.wait_for_selector("#failure")
    assert axe_violations(page) == []  # with the error message
    page.fill("#pin", live.pin)
    page.press("#pin", "Enter")
    page.wait_for_url("**/saldo/buono")
    assert axe_violations(page) == []
    # Large type: no text of the page's own content below 18px.
    smallest = page.evaluate(
        """() => Math.min(...[...document.querySelectorAll(
            '.app-beneficiary p, .app-beneficiary li, .app-beneficiary dd, .app-beneficiary td,'
            + ' .app-beneficiary label, .app-beneficiary .form-text')]
            .map((e) => parseFloat(getComputedStyle(e).fontSize)))"""
    )
    assert smallest >= 18
