"""Reports downloaded from the pages: the right file type, the same totals as the JSON of the
reports API (and as the page), and every download recorded in the audit trail."""

import csv
import io
import re
from decimal import Decimal

import pymupdf
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests import factories as f
from tests.web.reports_world import MONTH, YEAR, build
from voucher.extensions import db
from voucher.models import AuditEvent
from voucher.services.money import format_euro

# name -> (page, download, API JSON, {total key: column header in the files})
REPORTS = {
    "funds": (
        f"/rendiconti/fondi?year={YEAR}",
        f"/rendiconti/fondi/{{fmt}}?year={YEAR}",
        f"/api/v1/reports/funds?year={YEAR}",
        {"committed_cents": "Impegnato", "redeemed_cents": "Rendicontato"},
    ),
    "fondo-poverta": (
        f"/rendiconti/fondo-poverta?year={YEAR}",
        f"/rendiconti/fondo-poverta/{{fmt}}?year={YEAR}",
        f"/api/v1/reports/fondo-poverta?year={YEAR}",
        {"committed_cents": "Impegnato", "redeemed_cents": "Rendicontato"},
    ),
    "fsc": (
        f"/rendiconti/fsc?year={YEAR}",
        f"/rendiconti/fsc/{{fmt}}?year={YEAR}",
        f"/api/v1/reports/fsc?year={YEAR}",
        {
            "committed_cents": "Impegnato",
            "redeemed_cents": "Erogato (quota pubblica)",
            "copay_cents": "Compartecipazione",
        },
    ),
    "statement": (
        "/rendiconti/fornitori/{provider}?month=" + MONTH,
        "/rendiconti/fornitori/{provider}/{fmt}?month=" + MONTH,
        "/api/v1/reports/providers/{provider}/statement?month=" + MONTH,
        {"total_public_cents": "Quota pubblica", "total_copay_cents": "Compartecipazione"},
    ),
}
# Where each page shows the totals: the id of the element for each key.
PAGE_IDS = {
    "committed_cents": "total-committed",
    "redeemed_cents": "total-redeemed",
    "copay_cents": "total-copay",
    "total_public_cents": "total-public",
    "total_copay_cents": "total-copay",
}
MIMETYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


@pytest.fixture
def world(app, client):
    w = build(client)
    w.api = f.api_token(client, w.users["admin"])
    w.login("auditor")
    return w


def _paths(w, name: str) -> tuple[str, str, str]:
    page, download, api, _labels = REPORTS[name]
    provider = w.provider.id
    return (
        page.format(provider=provider),
        download.replace("{provider}", str(provider)),
        api.format(provider=provider),
    )


def _totals(w, name: str) -> dict:
    response = w.client.get(_paths(w, name)[2], headers=w.api)
    assert response.status_code == 200
    body = response.get_json()
    return body if name == "statement" else body["totals"]


def _download(w, name: str, fmt: str):
    response = w.client.get(_paths(w, name)[1].format(fmt=fmt))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == MIMETYPES[fmt]
    assert re.match(
        r'attachment; filename="[\w.-]+\.' + fmt + '"', response.headers["Content-Disposition"]
    )
    return response


def _euro_text(cents: int) -> str:
    return f"{'-' if cents < 0 else ''}{abs(cents) // 100},{abs(cents) % 100:02d}"


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_csv_holds_the_totals_of_the_json(world, name):
    totals = _totals(world, name)
    response = _download(world, name, "csv")
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert lines[-1][0] == "Totale"
    row = dict(zip(lines[0], lines[-1], strict=True))
    for key, header in REPORTS[name][3].items():
        assert totals[key] != 0, key
        assert row[header] == _euro_text(totals[key]), key


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_xlsx_holds_the_totals_of_the_json(world, name):
    totals = _totals(world, name)
    response = _download(world, name, "xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    header = [c.value for c in sheet[1]]
    last = [c.value for c in sheet[sheet.max_row]]
    assert last[0] == "Totale"
    row = dict(zip(header, last, strict=True))
    for key, column in REPORTS[name][3].items():
        assert Decimal(str(row[column])) == Decimal(totals[key]) / 100, key


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_pdf_holds_the_totals_of_the_json(world, name):
    totals = _totals(world, name)
    response = _download(world, name, "pdf")
    with pymupdf.open(stream=response.data, filetype="pdf") as document:
        text = "\n".join(page.get_text() for page in document)
    assert "Società della Salute di Prova" in text and "Totale" in text
    for key in REPORTS[name][3]:
        assert format_euro(totals[key]) in text, key


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_page_shows_the_totals_of_the_json(world, name):
    totals = _totals(world, name)
    html = world.client.get(_paths(world, name)[0]).get_data(as_text=True)
    for key in REPORTS[name][3]:
        shown = re.search(rf'id="{PAGE_IDS[key]}">([^<]+)<', html).group(1)
        assert shown == format_euro(totals[key]), key


@pytest.mark.parametrize(("name", "fmt"), [("fsc", "pdf"), ("statement", "xlsx")])
def test_each_download_is_recorded(world, name, fmt):
    _download(world, name, fmt)
    event = db.session.execute(
        select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)
    ).scalar_one()
    assert (event.action, event.object_type, event.object_id) == (
        "report.downloaded",
        "report",
        name,
    )
    assert event.actor_label == world.users["auditor"].username
    expected = {"format": fmt}
    expected.update(
        {"provider_id": world.provider.id, "month": MONTH}
        if name == "statement"
        else {"year": YEAR}
    )
    if name == "fsc":
        expected["basis"] = "cash"  # the default basis, recorded all the same
    assert event.data == expected


def test_provider_downloads_its_own_statement(world):
    client = world.client
    client.post("/esci")
    world.login("provider")
    response = _download(world, "statement", "pdf")
    with pymupdf.open(stream=response.data, filetype="pdf") as document:
        text = document[0].get_text()
    assert world.provider.name in text


def test_the_page_links_every_format_with_the_period_only(world):
    html = world.client.get(_paths(world, "fsc")[0]).get_data(as_text=True)
    for fmt in ("csv", "xlsx", "pdf"):
        assert f'href="/rendiconti/fsc/{fmt}?year={YEAR}"' in html
    html = world.client.get(_paths(world, "statement")[0]).get_data(as_text=True)
    provider = world.provider.id
    for fmt in ("csv", "xlsx", "pdf"):
        assert f'href="/rendiconti/fornitori/{provider}/{fmt}?month={MONTH}"' in html
