"""The finance office in a real browser: the dashboard's charts are drawn from the JSON data
island under the Content-Security-Policy (no violation, no script error), their figures are
those of the tables, and a statement is approved through the confirmation dialog; no serious
accessibility issue on the reports pages."""

import os
import threading
from datetime import date

import pytest
from werkzeug.serving import make_server

from tests import factories as f
from tests.browser.support import CHROMIUM, axe_violations, console_error, sign_in
from tests.conftest import make_app
from tests.reports.world import Ledger, issue, make_provider, make_scheme
from voucher.extensions import db
from voucher.reports.periods import Month
from voucher.services import clock

pytestmark = pytest.mark.browser

LAST = Month.of(clock.today()).previous()  # a concluded month within the dashboard's window


def _seed() -> dict:
    f.make_ente()
    provider = make_provider(LAST.year, services=("A1", "A2", "P2"))
    hours = make_scheme(LAST.year, "A", name="Assistenza domiciliare anziani", budget_cents=150_000)
    poverty = make_scheme(
        LAST.year, "P", fund="FONDO_POVERTA", name="Inclusione attiva", budget_cents=400_000
    )
    ledger = Ledger()
    person = f.make_beneficiary()
    ledger.redeem(provider, issue(hours, person), "A1", LAST.start, quantity="3")
    ledger.redeem(provider, issue(poverty, person), "P2", LAST.start, quantity="2.5")
    admin = f.make_user("admin")
    return {"admin": admin.username, "provider_id": provider.id}


@pytest.fixture(scope="module")
def reports_live(tmp_path_factory):
    """The application on a free port, with last month's activity and an admin."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    instance = tmp_path_factory.mktemp("instance-reports")
    app = make_app(f"sqlite:///{instance / 'reports.sqlite3'}", instance, WTF_CSRF_ENABLED=True)
    with app.app_context():
        seeded = _seed()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_port}", **seeded}
    finally:
        server.shutdown()
        thread.join(5)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def tab(browser, reports_live):
    """A desktop-sized tab that collects console errors (a CSP violation is one)."""
    context = browser.new_context(
        base_url=reports_live["url"], viewport={"width": 1280, "height": 900}, locale="it-IT"
    )
    context.set_default_timeout(30_000)  # a loaded CI machine: see conftest.page
    page = context.new_page()
    page.errors = []
    page.on("console", lambda message: console_error(page, message))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    sign_in(page, reports_live["admin"])
    yield page
    context.close()


def test_dashboard_charts_draw_under_the_csp(tab):
    violations = []
    tab.expose_function("reportViolation", lambda text: violations.append(text))
    tab.add_init_script(
        "document.addEventListener('securitypolicyviolation', e =>"
        " window.reportViolation(e.violatedDirective + ' ' + e.blockedURI));"
    )
    response = tab.goto(f"/rendiconti/cruscotto?year={LAST.year}")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    tab.wait_for_function("() => window.Chart && Chart.getChart('chart-providers')")
    drawn = tab.evaluate(
        """() => ['chart-burn', 'chart-spending', 'chart-providers'].map(id => {
            const chart = Chart.getChart(id);
            return {
              labels: chart.data.labels,
              data: chart.data.datasets.map(d => d.data),
              height: chart.height,
            };
        })"""
    )
    island = tab.evaluate("() => JSON.parse(document.getElementById('dashboard-data').textContent)")
    for chart, key in zip(drawn, ("burn", "spending", "providers"), strict=True):
        assert chart["labels"] == island[key]["labels"]
        assert chart["height"] > 100
    for chart, key in zip(drawn[1:], ("spending", "providers"), strict=True):
        assert chart["data"] == [
            [cents / 100 for cents in values] for values in island[key]["series"].values()
        ]
    # Budget burn: committed and redeemed as a percentage of each scheme's budget.
    burn = island["burn"]["series"]
    assert drawn[0]["data"] == [
        [cents * 100 / budget for cents, budget in zip(burn[k], burn["budget_cents"], strict=True)]
        for k in ("committed_cents", "redeemed_cents")
    ]
    assert "Assistenza domiciliare anziani" in drawn[0]["labels"]
    # Only the styles that Bootstrap Italia's bundle injects may be refused (see the vendor
    # notes): no script, and so neither the data island nor the charts, is blocked.
    assert [v for v in violations if not v.startswith("style-src")] == []
    assert tab.errors == []
    assert axe_violations(tab) == []


@pytest.mark.parametrize(
    "path",
    [
        "/rendiconti/",
        f"/rendiconti/fsc?year={LAST.year}",
        f"/rendiconti/fondi?year={LAST.year}",
        "/rendiconti/registro",
        "/rendiconti/siuss",
    ],
)
def test_reports_pages_have_no_serious_accessibility_issue(tab, path):
    tab.goto(path)
    assert axe_violations(tab) == []
    assert tab.errors == []


def test_approve_a_statement_through_the_confirmation(tab, reports_live):
    tab.goto(f"/rendiconti/fornitori/{reports_live['provider_id']}?month={LAST}")
    assert axe_violations(tab) == []
    messages = []

    def answer(dialog):
        messages.append(dialog.message)
        dialog.dismiss() if len(messages) == 1 else dialog.accept()

    tab.on("dialog", answer)
    tab.click("button:has-text('Approva il rendiconto')")  # dismissed: nothing happens
    assert tab.inner_text("#statement-status") == "Aperto"
    tab.click("button:has-text('Approva il rendiconto')")
    tab.wait_for_selector("text=Registra il pagamento")
    assert "Dopo l'approvazione non cambia più" in messages[0]
    assert tab.inner_text("#statement-status") == "Approvato, da pagare"
    tab.fill("#reference", "Mandato 7/2026")
    tab.fill("#paid_on", date.today().isoformat())
    tab.click("form button:has-text('Registra il pagamento')")
    tab.wait_for_selector("text=Pagamento registrato.")
    assert tab.inner_text("#statement-status") == "Pagato"
    assert tab.errors == []
