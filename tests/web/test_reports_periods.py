"""The auditor's pages: every SIUSS month's files are a click away (no URL to type), and a
report of a period still running says so, on the page and in the downloaded file's header."""

import io

import pytest
from openpyxl import load_workbook

from tests.web.reports_world import MONTH, YEAR, build
from voucher.periods import Month
from voucher.reports.common import UNFINISHED_NOTE, period_unfinished
from voucher.services import clock

WARNING = "Il periodo non è concluso: i dati possono ancora cambiare."


@pytest.fixture
def world(app, client):
    w = build(client)
    w.login("auditor")
    return w


def test_period_unfinished_for_this_month_and_this_year_only():
    today = clock.today()
    this_month = Month.of(today)
    assert period_unfinished(today.year) and period_unfinished(today.year + 1)
    assert not period_unfinished(today.year - 1)
    assert period_unfinished(this_month) and period_unfinished(str(this_month))
    assert not period_unfinished(this_month.previous())
    assert period_unfinished({"month": str(this_month), "year": today.year - 1})
    assert not period_unfinished({"year": today.year - 1})
    assert not period_unfinished("not a month") and not period_unfinished(None)


def test_siuss_page_links_each_generated_month_files(world, client):
    world.login("admin")
    assert client.post("/rendiconti/siuss/genera", data={"month": MONTH}).status_code == 302
    html = client.get("/rendiconti/siuss").get_data(as_text=True)
    xml_link = f'href="/rendiconti/siuss/flusso.xml?month={MONTH}"'
    assert xml_link in html
    assert f'href="/rendiconti/siuss/flussi?month={MONTH}"' in html
    assert "Flussi archiviati (6)" in html
    response = client.get(f"/rendiconti/siuss/flusso.xml?month={MONTH}")
    assert response.status_code == 200 and response.mimetype == "application/xml"


def test_siuss_page_without_flows_offers_any_month_download(world, client):
    html = client.get("/rendiconti/siuss").get_data(as_text=True)
    assert "Nessun flusso generato." in html
    assert 'action="/rendiconti/siuss/flusso.xml"' in html and 'name="month"' in html
    assert f'value="{Month.of(clock.today()).previous()}"' in html  # the last concluded month
    # The form's GET, as the browser sends it, gives the month's PS flow.
    response = client.get("/rendiconti/siuss/flusso.xml", query_string={"month": MONTH})
    assert response.status_code == 200 and b"<" in response.data[:10]


@pytest.mark.parametrize(
    "path",
    [
        "/rendiconti/fsc?year={year}",
        "/rendiconti/fondi?year={year}",
        "/rendiconti/fondo-poverta?year={year}",
    ],
)
def test_yearly_reports_warn_for_the_running_year_only(world, client, path):
    running = client.get(path.format(year=clock.today().year))
    assert running.status_code == 200 and WARNING in running.get_data(as_text=True)
    past = client.get(path.format(year=YEAR))
    assert past.status_code == 200 and WARNING not in past.get_data(as_text=True)


def test_monthly_pages_warn_for_the_running_month_only(world, client):
    this_month = str(Month.of(clock.today()))
    assert WARNING in client.get(world.statement_url(month=this_month)).get_data(as_text=True)
    assert WARNING not in client.get(world.statement_url()).get_data(as_text=True)
    flows = client.get(f"/rendiconti/siuss/flussi?month={this_month}").get_data(as_text=True)
    assert WARNING in flows
    past = client.get(f"/rendiconti/siuss/flussi?month={MONTH}").get_data(as_text=True)
    assert WARNING not in past


def test_downloaded_files_of_a_running_period_carry_the_note(world, client):
    running = client.get(f"/rendiconti/fondi/xlsx?year={clock.today().year}")
    assert running.status_code == 200
    info = load_workbook(io.BytesIO(running.data))["Informazioni"]
    period = {row[0]: row[1] for row in info.iter_rows(values_only=True)}["Periodo"]
    assert UNFINISHED_NOTE in period
    past = client.get(f"/rendiconti/fondi/xlsx?year={YEAR}")
    info = load_workbook(io.BytesIO(past.data))["Informazioni"]
    assert not any(
        UNFINISHED_NOTE in str(v) for row in info.iter_rows(values_only=True) for v in row
    )
    pdf = client.get(f"/rendiconti/fsc/pdf?year={clock.today().year}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    import pymupdf

    with pymupdf.open(stream=pdf.data, filetype="pdf") as document:
        assert "Il periodo non è concluso" in document[0].get_text()
    # The CSV stays the table alone, as programs read it.
    csv = client.get(f"/rendiconti/fondi/csv?year={clock.today().year}")
    assert UNFINISHED_NOTE.encode() not in csv.data
