"""A social worker in a real browser filters the caseload: the vouchers of one scheme, the
filters in the address (no names), the list downloaded as CSV; then the people with an open
voucher, one person's page with their timeline. No serious accessibility issue on any step."""

import csv
import io
import re

import pytest

from tests.browser.support import DESKTOP, FIRST_NAME, LAST_NAME, axe_violations, open_tab, sign_in
from voucher.services import clock

pytestmark = pytest.mark.browser


def test_filter_the_caseload_download_it_and_open_a_timeline(browser, live):
    desk = open_tab(browser, live.url, DESKTOP)
    try:
        sign_in(desk, live.social_worker)
        desk.goto("/servizi/buoni")
        assert axe_violations(desk) == []
        desk.select_option("#misura", label=f"{live.hours_scheme} ({clock.today().year})")
        desk.select_option("#ordina", label="Saldo più basso")
        desk.click("button:has-text('Applica i filtri')")
        desk.wait_for_url(re.compile(r"/servizi/buoni\?.*misura=\d+"))
        assert LAST_NAME not in desk.url and "ordina=saldo" in desk.url
        table = desk.inner_text("section[aria-labelledby=latest-title] table")
        assert live.code in table and live.eur_code not in table
        assert axe_violations(desk) == []

        with desk.expect_download() as download:
            desk.click(".app-caseload-export button[value=csv]")
        assert re.fullmatch(r"buoni-\d{4}-\d{2}-\d{2}\.csv", download.value.suggested_filename)
        text = download.value.path().read_bytes().decode("utf-8-sig")
        header, *rows = list(csv.reader(io.StringIO(text), delimiter=";"))
        assert header[:3] == ["Codice del buono", "Cognome", "Nome"]
        # Other journeys may issue vouchers of the scheme too: every row is of the scheme.
        assert {row[4] for row in rows} == {live.hours_scheme}
        mine = [row for row in rows if row[0] == live.code]
        assert [(row[1], row[2]) for row in mine] == [(LAST_NAME, FIRST_NAME)]
        assert live.eur_code not in text

        # The people holding an active voucher of the scheme, then one person's history.
        desk.goto("/servizi/beneficiari")
        desk.select_option("#stato", label="Attivo")
        desk.click("button:has-text('Applica i filtri')")
        desk.wait_for_url(re.compile(r"stato=active"))
        row = desk.locator("section[aria-labelledby=caseload-title] tbody tr").filter(
            has_text=LAST_NAME
        )
        assert row.count() == 1
        assert axe_violations(desk) == []
        row.locator("a").click()
        desk.wait_for_url(re.compile(r"/servizi/beneficiari/\d+$"))
        story = desk.locator("section[aria-labelledby=timeline-title] li").all_inner_texts()
        assert sum("Buono emesso" in entry for entry in story) >= 2
        assert "Registrazione del beneficiario" in story[-1]  # the oldest, last
        links = desk.locator("section[aria-labelledby=timeline-title] a.font-monospace")
        assert live.code in links.all_inner_texts()
        assert axe_violations(desk) == []
        assert desk.errors == []
    finally:
        desk.context.close()
