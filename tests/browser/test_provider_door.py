"""A provider at a family's door, in a real browser on a small phone: every refusal is the
first thing on the screen with nothing else of the voucher; the whole flow by keyboard in no
more keystrokes than a mouse user's clicks and typing; the same-day cancellation. No serious
accessibility issue on these pages.

A world of its own (vouchers in every state, a provider that serves none of a scheme's
services, a suspended one), so that the shared one stays as the other journeys expect."""

import os
from datetime import timedelta

import pytest

from tests import factories as f
from tests.browser.support import (
    CHROMIUM,
    axe_violations,
    describe_violations,
    open_tab,
    serve,
    sign_in,
)
from tests.conftest import make_app
from voucher.extensions import db
from voucher.services import SYSTEM, clock, issuance, providers, vouchers

pytestmark = pytest.mark.browser

SMALL_PHONE = {"width": 375, "height": 667}


def _voucher(scheme, change=None):
    voucher, _pin = issuance.issue_voucher(SYSTEM, scheme, f.make_beneficiary())
    if change is not None:
        change(voucher)
    db.session.commit()
    return voucher.code


def _expire(voucher):
    voucher.valid_from = clock.today() - timedelta(days=30)
    voucher.valid_until = clock.today() - timedelta(days=1)


def _not_yet(voucher):
    voucher.valid_from = clock.today() + timedelta(days=1)
    voucher.valid_until = clock.today() + timedelta(days=30)


def _exhaust(voucher):
    voucher.balance_cents, voucher.status = 0, "exhausted"


def _seed() -> dict:
    f.make_ente()
    hours = f.make_scheme(service_codes=["A1", "A2"])
    meals = f.make_scheme(service_codes=["A2"])  # a service the provider is not accredited for
    since = clock.today() - timedelta(days=400)
    provider = f.make_provider(services=("A1",), valid_from=since)
    suspended = f.make_provider(services=("A1",), valid_from=since)
    operator = f.make_user("provider", provider=provider)
    idle = f.make_user("provider", provider=suspended)
    providers.suspend_provider(SYSTEM, suspended, "verifica del DURC")
    db.session.commit()
    refusals = [
        ("revoked", _voucher(hours, lambda v: vouchers.revoke_voucher(SYSTEM, v, "smarrito"))),
        ("suspended", _voucher(hours, lambda v: vouchers.suspend_voucher(SYSTEM, v, "verifica"))),
        ("expired", _voucher(hours, _expire)),
        ("not_yet_valid", _voucher(hours, _not_yet)),
        ("exhausted", _voucher(hours, _exhaust)),
        ("not_accredited", _voucher(meals)),
    ]
    return {
        "operator": operator.username,
        "idle_operator": idle.username,
        "usable": _voucher(hours),
        "cancellable": _voucher(hours),
        "refusals": refusals,
    }


@pytest.fixture(scope="module")
def door(tmp_path_factory):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    instance = tmp_path_factory.mktemp("instance-door")
    app = make_app(f"sqlite:///{instance / 'door.sqlite3'}", instance, WTF_CSRF_ENABLED=True)
    with app.app_context():
        seeded = _seed()
        db.session.remove()
    with serve(app) as url:
        yield {"url": url, **seeded}


@pytest.fixture
def phone(browser, door):
    tab = open_tab(browser, door["url"], SMALL_PHONE)
    yield tab
    tab.context.close()


def read(tab, code: str) -> None:
    tab.goto("/fornitore/")
    tab.fill("#voucher", code)
    tab.press("#voucher", "Enter")
    tab.wait_for_selector("#page-title")


def active_id(tab) -> str:
    return tab.evaluate("document.activeElement.id")


def test_every_refusal_is_the_first_thing_on_a_small_phone(phone, door):
    cases = [(door["operator"], reason, code) for reason, code in door["refusals"]]
    cases.append((door["idle_operator"], "provider_suspended", door["usable"]))
    signed_in = None
    problems = []
    for operator, reason, code in cases:
        if operator != signed_in:
            if signed_in is not None:
                phone.context.clear_cookies()
            sign_in(phone, operator)
            signed_in = operator
        read(phone, code)
        refusal = phone.wait_for_selector("#card-refusal")
        box = refusal.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= SMALL_PHONE["height"], reason
        assert phone.get_attribute("#card-refusal-box", "role") == "alert", reason
        main = phone.inner_text("main")
        assert "Saldo" not in main and "Beneficiario" not in main, reason
        assert phone.locator("#card-balance, #card-initials, #record-form").count() == 0, reason
        if reason in ("not_accredited", "provider_suspended"):
            assert "Questo buono non può essere usato dal vostro ente." in main
            assert code not in phone.content(), reason
        assert active_id(phone) == "page-title", reason  # focus where the refusal is read
        if reason in ("revoked", "not_accredited"):
            problems += describe_violations(reason, axe_violations(phone))
    assert problems == []
    assert phone.errors == []


def test_the_whole_flow_by_keyboard(phone, door):
    sign_in(phone, door["operator"])  # the operator lands on the scan page
    assert phone.url.endswith("/fornitore/")
    keys = phone.keyboard
    pressed = typed = 0

    def type_text(text):
        nonlocal typed
        keys.type(text)
        typed += len(text)

    def press(key):
        nonlocal pressed
        keys.press(key)
        pressed += 1

    assert active_id(phone) == "voucher"
    type_text(door["usable"])
    press("Enter")
    phone.wait_for_selector("#record-form[data-live-ready]", state="attached")
    assert active_id(phone) == "quantity"  # the one service and today's date are chosen
    type_text("1,5")
    press("Enter")
    phone.wait_for_selector("#confirm-form")
    assert active_id(phone) == "confirm-button"
    press("Enter")
    phone.wait_for_selector("#receipt-id")
    assert active_id(phone) == "receipt-title"
    assert "Prestazione registrata." in phone.inner_text(".app-flashes")
    # A mouse user clicks "Cerca il buono", "Anteprima" and "Conferma e registra", and
    # types the same characters.
    mouse_clicks = 3
    assert pressed + typed <= mouse_clicks + typed
    assert pressed == 3

    # An error: focus goes to the field, the summary links to it.
    read(phone, door["usable"])
    phone.wait_for_selector("#record-form[data-live-ready]", state="attached")
    type_text("1,555")
    press("Enter")
    phone.wait_for_selector("#error-summary")
    assert active_id(phone) == "quantity"
    assert phone.get_attribute("#quantity", "aria-invalid") == "true"
    assert "quantity-error" in phone.get_attribute("#quantity", "aria-describedby")
    assert phone.locator('#error-summary a[href="#quantity"]').count() == 1
    assert describe_violations("errore", axe_violations(phone)) == []

    # The skip link leads to the content.
    phone.goto("/fornitore/prestazioni")
    press("Tab")
    assert phone.evaluate("document.activeElement.getAttribute('href')") == "#main"
    press("Enter")
    assert active_id(phone) == "main"
    assert phone.errors == []


def test_the_same_day_cancellation(phone, door):
    sign_in(phone, door["operator"])
    read(phone, door["cancellable"])
    phone.wait_for_selector("#record-form[data-live-ready]", state="attached")
    before = phone.inner_text("#card-balance")
    phone.fill("#quantity", "2")
    phone.click("button:has-text('Anteprima')")
    phone.click("#confirm-button")
    phone.wait_for_selector("#receipt-id")
    entry_id = phone.inner_text("#receipt-id")

    phone.click("#cancel-entry")
    phone.wait_for_selector("#cancel-form")
    assert active_id(phone) == "reason"
    problems = describe_violations("annulla", axe_violations(phone))
    phone.fill("#reason", "Registrata due volte")
    phone.click("#cancel-button")
    phone.wait_for_selector("#receipt-kind")
    assert f"Prestazione n. {entry_id} annullata" in phone.inner_text(".app-flashes")
    assert "Annullata dal fornitore" in phone.inner_text("#receipt-kind")
    assert phone.inner_text("#receipt-balance") == before
    assert phone.locator("#cancel-entry").count() == 0
    problems += describe_violations("annullamento", axe_violations(phone))

    phone.goto("/fornitore/prestazioni")
    rows = phone.locator("tbody tr")
    assert "Annullata dal fornitore" in rows.first.inner_text()
    assert phone.locator(f'a[href="/fornitore/prestazioni/{entry_id}/annulla"]').count() == 0
    problems += describe_violations("prestazioni", axe_violations(phone))
    assert problems == []
    assert phone.errors == []
