"""The finance office in a real browser: the dashboard's charts are drawn from the JSON data
island under the Content-Security-Policy (no violation, no script error), their figures are
those of the tables, a statement is approved through the confirmation dialog, and the admin
downloads every report (CSV, XLSX, PDF, SIUSS XML), each recorded in the audit trail; no
serious accessibility issue on the reports pages."""

import csv
import io
import os

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests import factories as f
from tests.browser.support import CHROMIUM, DESKTOP, axe_violations, open_tab, serve, sign_in
from tests.conftest import make_app
from tests.fatturapa import invoice_xml
from tests.reports.world import Ledger, issue, make_payable, make_provider, make_scheme
from voucher.extensions import db
from voucher.periods import Month
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
    make_payable(provider)
    admin = f.make_user("admin")
    finance = f.make_user("finance")
    return {
        "admin": admin.username,
        "finance": finance.username,
        "provider_id": provider.id,
        "vat_number": provider.vat_number,
    }


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
    with serve(app) as url:
        yield {"url": url, **seeded}


@pytest.fixture
def tab(browser, reports_live):
    """A desktop-sized tab that collects console errors (a CSP violation is one)."""
    page = open_tab(browser, reports_live["url"], DESKTOP)
    sign_in(page, reports_live["admin"])
    yield page
    page.context.close()


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
    tab.wait_for_selector("text=Rendiconto di")
    tab.wait_for_selector("text=registrato dalla ragioneria")
    assert "Dopo l'approvazione non cambia più" in messages[0]
    assert tab.inner_text("#statement-status") == "Approvato, da pagare"
    assert tab.locator("form button:has-text('Registra il pagamento')").count() == 0
    assert tab.errors == []


def test_the_ragioneria_uploads_the_invoice_and_pays(browser, reports_live):
    """After the approval above: the invoice for the public share (60,00 € of home care and
    50,00 € of Fondo Povertà, no CUP), then the payment, in the ragioneria's own session."""
    page = open_tab(browser, reports_live["url"], DESKTOP)
    sign_in(page, reports_live["finance"])
    page.goto(f"/rendiconti/fornitori/{reports_live['provider_id']}?month={LAST}")
    assert "Manca una fattura" in page.inner_text("main")
    document = invoice_xml(reports_live["vat_number"], total_cents=11_000, number="FT-1")
    page.set_input_files(
        "input[type=file]",
        {"name": "IT_FT-1.xml", "mimeType": "application/xml", "buffer": document},
    )
    page.click("form button:has-text('Carica la fattura')")
    page.wait_for_selector("text=registrata: corrisponde al rendiconto")
    assert axe_violations(page) == []
    page.fill("#reference", "Mandato 7/2026")
    # The ente's calendar day (Rome), which the approval is dated by: between 23:00 and
    # midnight UTC the machine's own date is still the day before.
    page.fill("#paid_on", clock.today().isoformat())
    page.click("form button:has-text('Registra il pagamento')")
    page.wait_for_selector("text=Pagamento registrato.")
    assert page.inner_text("#statement-status") == "Pagato"
    assert page.errors == []
    page.context.close()


# The column that each report's files share with its page (tests/web/test_reports_downloads.py
# checks every figure; here, that each link gives the file it names).
REPORT_COLUMNS = {
    "FSC — obiettivi di servizio sociali": "Erogato (quota pubblica)",
    "Fondi per misura": "Rendicontato",
    "Fondo Povertà": "Rendicontato",
}


def download(tab, link):
    """Click a download link as a person would; the file's name and bytes."""
    with tab.expect_download() as started:
        link.click()
    return started.value.suggested_filename, started.value.path().read_bytes()


def check_files(tab, column: str) -> None:
    """Download the page's CSV, XLSX and PDF (for each basis of the FSC report): each is a
    real file of its kind, with the report's columns."""
    for group in tab.locator(".app-downloads").all():
        _check_group(tab, group.locator("a"), column)


def _check_group(tab, links, column: str) -> None:
    assert links.count() == 3
    for index, fmt in enumerate(("csv", "xlsx", "pdf")):
        name, data = download(tab, links.nth(index))
        assert name.endswith(f".{fmt}"), name
        if fmt == "csv":
            header = next(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
            assert column in header, header
        elif fmt == "xlsx":
            assert data.startswith(b"PK\x03\x04")
            sheet = load_workbook(io.BytesIO(data), read_only=True).active
            cells = {c for row in sheet.iter_rows(values_only=True) for c in row if c}
            assert column in cells
        else:
            assert data.startswith(b"%PDF-")
            assert len(PdfReader(io.BytesIO(data)).pages) >= 1


def test_the_admin_downloads_the_reports(tab, reports_live):
    admin_name = reports_live["admin"]
    for title, column in REPORT_COLUMNS.items():
        tab.goto("/rendiconti/")
        tab.click(f"h3.card-title a:has-text('{title}')")
        tab.fill("#year", str(LAST.year))
        tab.click("form.app-period button:has-text('Mostra')")
        tab.wait_for_url(f"**year={LAST.year}")
        check_files(tab, column)

    # A provider's monthly statement, chosen from the form.
    tab.goto("/rendiconti/fornitori")
    tab.select_option("#provider", value=str(reports_live["provider_id"]))
    tab.fill("#month", str(LAST))
    tab.click("button:has-text('Apri')")
    tab.wait_for_url(f"**/rendiconti/fornitori/{reports_live['provider_id']}?month={LAST}")
    check_files(tab, "Quota pubblica")

    # The month's SIUSS flow for INPS, as one XML file.
    tab.goto(f"/rendiconti/siuss/flussi?month={LAST}")
    name, data = download(tab, tab.locator("a:has-text('Scarica il flusso del mese')"))
    assert name.endswith(".xml")
    assert data.startswith(b"<?xml") and b"<" in data[40:]

    # Every download is in the audit trail, with what was downloaded (never personal data).
    tab.goto("/rendiconti/registro")
    tab.select_option("#azione", label="report.downloaded")
    tab.click("form.app-filters button[type=submit]")
    tab.wait_for_url("**azione=report.downloaded**")
    objects = tab.locator("#events-table tbody td:nth-child(5)").all_inner_texts()
    assert sorted(objects) == sorted(
        [f"report {name}" for name in ("fsc", "funds", "fondo-poverta", "statement")] * 3
        + ["report fsc"] * 3  # the FSC report on its second basis
        + ["report siuss"]
    )
    assert admin_name in tab.inner_text("#events-table tbody tr:first-child")
    assert axe_violations(tab) == []
    assert tab.errors == []
