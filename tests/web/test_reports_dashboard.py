"""The dashboard: each chart's figures travel in a JSON data island (no inline script) and the
table under the chart holds exactly the same figures; they agree with the funds report and
with the ledger."""

import json
import re
from datetime import date
from html.parser import HTMLParser

import pytest

from tests import factories as f
from tests.reports.world import Ledger, issue
from tests.web.reports_world import YEAR, build
from voucher.reports.dashboard import last_months
from voucher.services import clock
from voucher.services.money import format_euro

TODAY = clock.today()


class Tables(HTMLParser):
    """Every table of a page by id: its body rows as lists of (tag, attributes, text)."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, list[list[tuple]]] = {}
        self.captions: dict[str, str] = {}
        self._table = self._section = self._cell = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = attrs.get("id")
            self.tables[self._table] = []
        elif tag in ("thead", "tbody", "tfoot", "caption"):
            self._section = tag
            if tag == "caption":
                self.captions[self._table] = ""
        elif tag == "tr" and self._section == "tbody":
            self.tables[self._table].append([])
        elif tag in ("th", "td") and self._section == "tbody":
            self._cell = [tag, attrs, ""]

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None:
            self.tables[self._table][-1].append(tuple(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag in ("thead", "tbody", "tfoot", "caption"):
            self._section = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[2] += data
        elif self._section == "caption" and self._table:
            self.captions[self._table] += data


@pytest.fixture
def world(app, client):
    w = build(client)
    # This year's activity, so that the last twelve months have figures in two areas.
    hours = f.make_scheme(name="Assistenza anziani corrente")
    poverty = f.make_scheme(
        name="Inclusione corrente", fund_code="FONDO_POVERTA", service_codes=["P2", "P3"]
    )
    provider = f.make_provider(
        services=("A1", "P2"), valid_from=date(TODAY.year, 1, 1), name="Cooperativa Zeta"
    )
    ledger = Ledger()
    person = f.make_beneficiary()
    first = TODAY.replace(day=1)
    ledger.redeem(provider, issue(hours, person, day=first), "A1", TODAY, quantity="2")
    voucher = issue(poverty, person, day=first)
    ledger.redeem(provider, voucher, "P2", first, quantity="1.5")
    wrong = ledger.redeem(provider, voucher, "P2", TODAY, quantity="1")
    ledger.reverse(wrong)
    w.current = ledger
    w.current_provider = provider
    w.login("auditor")
    return w


def _island(html: str) -> dict:
    match = re.search(
        r'<script type="application/json" id="dashboard-data">(.*?)</script>', html, re.S
    )
    assert match, "no data island"
    return json.loads(match.group(1))


def _cents(row) -> list[int]:
    return [int(attrs["data-cents"]) for _tag, attrs, _text in row if "data-cents" in attrs]


def test_tables_hold_the_figures_of_the_charts(world):
    html = world.client.get("/rendiconti/cruscotto").get_data(as_text=True)
    chart = _island(html)
    tables = Tables(html)

    burn = chart["burn"]
    rows = tables.tables["burn-table"]
    assert [row[0][2] for row in rows] == burn["labels"]
    keys = ("budget_cents", "committed_cents", "redeemed_cents")
    for i, row in enumerate(rows):
        assert _cents(row) == [burn["series"][k][i] for k in keys]
        texts = [text for _tag, attrs, text in row if "data-cents" in attrs]
        assert texts == [format_euro(burn["series"][k][i]) for k in keys]

    spending = chart["spending"]
    rows = tables.tables["spending-table"]
    assert [row[0][2] for row in rows] == spending["labels"] and len(rows) == 12
    for i, row in enumerate(rows):
        by_area = [spending["series"][area][i] for area in ("A", "B", "C", "P")]
        assert _cents(row) == [*by_area, sum(by_area)]

    providers = chart["providers"]
    rows = tables.tables["providers-table"]
    assert [row[0][2] for row in rows] == providers["labels"]
    assert [_cents(row)[0] for row in rows] == providers["series"]["redeemed_cents"]


def test_figures_agree_with_the_funds_report_and_the_ledger(world):
    client = world.client
    api = f.api_token(client, world.users["admin"])
    html = client.get(f"/rendiconti/cruscotto?year={TODAY.year}").get_data(as_text=True)
    chart = _island(html)
    funds = client.get(f"/api/v1/reports/funds?year={TODAY.year}", headers=api).get_json()
    assert chart["burn"]["labels"] == [r["scheme_name"] for r in funds["rows"]]
    for key in ("budget_cents", "committed_cents", "redeemed_cents"):
        assert chart["burn"]["series"][key] == [r[key] for r in funds["rows"]]

    # This month's spending per area, recomputed from the entries the test wrote.
    area_of = {"A1": "A", "P2": "P"}
    expected = {"A": 0, "P": 0}
    for entry in world.current.entries:
        expected[area_of[entry.service_code]] += entry.public_cents
    spending = chart["spending"]["series"]
    assert spending["A"][-1] == expected["A"] and spending["P"][-1] == expected["P"] > 0
    months = [str(m) for m in last_months(TODAY)]
    assert chart["spending"]["labels"][-1].endswith(str(TODAY.year)) and len(months) == 12

    # Last year's March falls in the window only when it is less than twelve months ago.
    march = f"{YEAR}-03"
    last_year = sum(e.public_cents for e in world.ledger.entries)
    in_window = march in months
    total = sum(sum(values) for values in spending.values())
    assert total == sum(expected.values()) + (last_year if in_window else 0)

    providers = chart["providers"]
    top = dict(zip(providers["labels"], providers["series"]["redeemed_cents"], strict=True))
    assert top["Cooperativa Zeta"] == sum(expected.values())


def test_charts_are_described_for_assistive_technology(world):
    html = world.client.get("/rendiconti/cruscotto").get_data(as_text=True)
    canvases = re.findall(r"<canvas ([^>]*)>", html)
    assert len(canvases) == 3
    for attrs in canvases:
        assert 'role="img"' in attrs
        label = re.search(r'aria-label="([^"]+)"', attrs).group(1)
        assert len(label) > 20
    assert "Cooperativa Zeta" in re.search(r'id="chart-providers"[^>]*', html).group(0)
    tables = Tables(html)
    assert set(tables.captions) >= {"burn-table", "spending-table", "providers-table"}
    assert all(caption.strip() for caption in tables.captions.values())
    assert 'scope="col"' in html and 'scope="row"' in html
    # Data only: nothing on the page is an executable inline script.
    scripts = re.findall(r"<script([^>]*)>", html)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)
    assert "/static/vendor/chartjs/chart.umd.min.js" in html
    assert "/static/js/reports-dashboard.js" in html


def test_an_empty_year_still_renders(world):
    response = world.client.get("/rendiconti/cruscotto?year=2001")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nessuna misura per il 2001." in html
    assert _island(html)["burn"]["labels"] == []


def test_the_index_shows_the_year_totals_of_the_dashboard(world):
    html = world.client.get("/rendiconti/").get_data(as_text=True)
    chart = _island(world.client.get("/rendiconti/cruscotto").get_data(as_text=True))
    committed = sum(chart["burn"]["series"]["committed_cents"])
    assert f'id="headline-committed">{format_euro(committed)}<' in html
