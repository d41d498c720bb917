"""Browser tests: the application served for real by werkzeug on 127.0.0.1 (a free port), on
an SQLite file migrated with Flask-Migrate and committed to (not the rolled-back `app`
fixture of the other tests), driven by Playwright with Debian's Chromium.

Every test module here is marked `browser` (pytestmark); `scripts/test` runs them with the
rest of the suite.
"""

import os
from dataclasses import dataclass
from datetime import timedelta

import pytest

from tests import factories as f
from tests.browser.support import (  # noqa: F401 - also imported from here by test modules
    CHROMIUM,
    FIRST_NAME,
    LAST_NAME,
    PHONE,
    axe_violations,
    console_error,
    launch,
    open_tab,
    serve,
    sign_in,
)
from tests.conftest import make_app
from voucher.extensions import db
from voucher.services import SYSTEM, clock, issuance


@dataclass
class LiveWorld:
    url: str
    operator: str  # the provider operator's username
    code: str  # a voucher of a scheme by the hour, 100% covered
    payload: str  # its signed QR payload
    pin: str  # its PIN, for the beneficiary's self-service pages
    eur_code: str  # a voucher of a scheme in euro, 75% covered
    eur_payload: str
    social_worker: str  # a social worker's username
    hours_scheme: str  # the name of the scheme by the hour, open to everyone


def _seed() -> dict:
    f.make_ente()
    hours = f.make_scheme(service_codes=["A1", "A2"])
    euros = f.make_scheme(
        service_codes=["A3"],
        unit="EUR",
        unit_price_cents=None,
        face_value_cents=30_000,
        copay_bands=[{"isee_max_cents": 2_000_000, "coverage_percent": 75}],
    )
    provider = f.make_provider(
        services=("A1", "A3"), valid_from=clock.today() - timedelta(days=400)
    )
    person = f.make_beneficiary(first_name=FIRST_NAME, last_name=LAST_NAME, isee_cents=900_000)
    voucher, pin = issuance.issue_voucher(SYSTEM, hours, person)
    eur_voucher, _pin = issuance.issue_voucher(SYSTEM, euros, person)
    db.session.commit()
    operator = f.make_user("provider", provider=provider)
    worker = f.make_user("social_worker")
    return {
        "operator": operator.username,
        "social_worker": worker.username,
        "hours_scheme": hours.name,
        "code": voucher.code,
        "payload": voucher.qr_payload,
        "pin": pin,
        "eur_code": eur_voucher.code,
        "eur_payload": eur_voucher.qr_payload,
    }


@pytest.fixture(scope="session")
def live(tmp_path_factory):
    """The application on a free port of 127.0.0.1, with an ente, two vouchers, a provider
    operator and a social worker (password factories.PASSWORD)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    instance = tmp_path_factory.mktemp("instance-browser")
    app = make_app(f"sqlite:///{instance / 'browser.sqlite3'}", instance, WTF_CSRF_ENABLED=True)
    with app.app_context():
        seeded = _seed()
        db.session.remove()
    with serve(app) as url:
        yield LiveWorld(url=url, **seeded)


@pytest.fixture(scope="session")
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as runner:
        yield runner


@pytest.fixture(scope="session")
def browser(playwright):
    chromium = launch(playwright)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser, live):
    """A fresh browser context (no cookies) with a phone-sized window; console errors (a CSP
    violation, a script error) are collected in `page.errors`."""
    tab = open_tab(browser, live.url, PHONE)
    yield tab
    tab.context.close()
