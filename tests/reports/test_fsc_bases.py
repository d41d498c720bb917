"""The FSC report on its two bases (cash and competence), attributed by the Comune of
competence, over two years worked out by hand.

The world: Firenze (048017) and Fiesole (048015), an hourly area-A scheme of 2025 that runs
into March 2026 (80 % coverage, 20,00 €/h), an hourly area-A scheme of 2026 (100 %) and a
euro area-B scheme of 2026 (100 %, hours recorded beside the amounts).

- Anna lives in Firenze: voucher V1 (2025 scheme, Firenze). She moves to Fiesole in
  January 2026; V1 stays Firenze's, and her new voucher V3 (2026 scheme) is Fiesole's.
- Bruno lives in Fiesole: voucher V2 (2025 scheme, Fiesole), transferred to Firenze from
  1 October 2025 (after an October service was already recorded: it moves too).
- Carla lives in Fiesole: voucher V4 (2026 euro scheme, Fiesole).

The ledger, cost / public / copay in cents, and the Comune each entry counts for:
  e1  V1 2025-03-10 10 h    20000 / 16000 / 4000   Firenze
  e2  V1 2025-11-05  5 h    10000 /  8000 / 2000   Firenze
  e2r reversal of e2       -10000 / -8000 /-2000   Firenze
  e3  V1 2026-02-10  4 h     8000 /  6400 / 1600   Firenze
  e4  V2 2025-06-20  6 h    12000 /  9600 / 2400   Fiesole (before the transfer)
  e5  V2 2025-10-15  5 h    10000 /  8000 / 2000   Firenze (moved by the transfer)
  e6  V2 2026-01-20  2.5 h   5000 /  4000 / 1000   Firenze
  e7  V3 2026-03-03  3 h     6000 /  6000 /    0   Fiesole
  e8  V4 2026-04-02 75,00 € with 3 h: 7500 / 7500 / 0   Fiesole
  e9  V4 2026-05-07 50,00 € with 2 h: 5000 / 5000 / 0   Fiesole
Balances: V1 60000 − 16000 − 8000 + 8000 − 6400 = 37600; V2 60000 − 9600 − 8000 − 4000 =
38400; V3 60000 − 6000 = 54000; V4 40000 − 7500 − 5000 = 27500.
"""

import csv
import io
import re
from datetime import date
from html import unescape

import pymupdf
import pytest
from openpyxl import load_workbook

from tests import factories as f
from tests.reports.world import Ledger, headers_for, issue, make_provider, make_scheme
from voucher.extensions import db
from voucher.models import LedgerEntry
from voucher.reports.fsc import fsc_report
from voucher.services import SYSTEM, beneficiaries, competence, schemes, vouchers

FIRENZE, FIESOLE = f.FIRENZE["istat_code"], f.FIESOLE["istat_code"]
FIELDS = (
    "beneficiaries",
    "vouchers",
    "committed_cents",
    "redeemed_cents",
    "copay_cents",
    "amount_cents",
    "hours",
    "prior_year_beneficiaries",
    "prior_year_hours",
)


def row(*values) -> dict:
    return dict(zip(FIELDS, values, strict=True))


EXPECTED = {
    # 2025 cash: the 2025 vouchers (V1 and V2, both Firenze's on 31 December 2025);
    # entries dated 2025.
    (2025, "cash"): {
        # beneficiaries Anna and Bruno; committed = the two vouchers' values, neither
        # revoked nor expired: 60000 + 60000 = 120000. Redeemed e1 + e2 + e2r + e5 = 16000
        # + 8000 − 8000 + 8000 = 24000; copay 4000 + 2000 − 2000 + 2000 = 6000; cost 20000
        # + 10000 − 10000 + 10000 = 30000; hours 10 + 5 − 5 + 5 = 15.
        (FIRENZE, "A"): row(2, 2, 120000, 24000, 6000, 30000, "15.00", 0, "0.00"),
        # No voucher held at year end; e4 alone, delivered here before the transfer.
        (FIESOLE, "A"): row(0, 0, 0, 9600, 2400, 12000, "6.00", 0, "0.00"),
    },
    # 2025 competence: the same vouchers; every entry of V1 and V2 whatever its date.
    (2025, "competence"): {
        # Redeemed e1 + e2 + e2r + e3 + e5 + e6 = 16000 + 0 + 6400 + 8000 + 4000 = 34400;
        # copay 4000 + 0 + 1600 + 2000 + 1000 = 8600; cost 20000 + 0 + 8000 + 10000 + 5000
        # = 43000; hours 10 + 0 + 4 + 5 + 2.5 = 21.5.
        (FIRENZE, "A"): row(2, 2, 120000, 34400, 8600, 43000, "21.50", 0, "0.00"),
        (FIESOLE, "A"): row(0, 0, 0, 9600, 2400, 12000, "6.00", 0, "0.00"),
    },
    # 2026 cash: the 2026 vouchers (V3, V4, Fiesole's); entries dated 2026 of any scheme.
    (2026, "cash"): {
        # e3 + e6 on the 2025 vouchers: 6400 + 4000 = 10400, copay 1600 + 1000 = 2600,
        # cost 8000 + 5000 = 13000, hours 4 + 2.5 = 6.5. A year earlier (2025 cash):
        # 2 beneficiaries, 15 hours.
        (FIRENZE, "A"): row(0, 0, 0, 10400, 2600, 13000, "6.50", 2, "15.00"),
        # V3: committed 54000 + 6000 = 60000; e7. A year earlier: e4's 6 hours.
        (FIESOLE, "A"): row(1, 1, 60000, 6000, 0, 6000, "3.00", 0, "6.00"),
        # V4: committed 27500 + 7500 + 5000 = 40000; e8 + e9; hours 3 + 2 on a euro scheme.
        (FIESOLE, "B"): row(1, 1, 40000, 12500, 0, 12500, "5.00", 0, "0.00"),
    },
    # 2026 competence: the 2026 vouchers and all their entries.
    (2026, "competence"): {
        # Nothing of 2026 here; the row stays for the year before (2025 competence).
        (FIRENZE, "A"): row(0, 0, 0, 0, 0, 0, "0.00", 2, "21.50"),
        (FIESOLE, "A"): row(1, 1, 60000, 6000, 0, 6000, "3.00", 0, "6.00"),
        (FIESOLE, "B"): row(1, 1, 40000, 12500, 0, 12500, "5.00", 0, "0.00"),
    },
}
# Totals: beneficiaries and prior_year_beneficiaries count people once; hours add up.
EXPECTED_TOTALS = {
    (2025, "cash"): {"beneficiaries": 2, "redeemed_cents": 33600, "hours": "21.00"},
    (2025, "competence"): {"beneficiaries": 2, "redeemed_cents": 44000, "hours": "27.50"},
    (2026, "cash"): {
        "beneficiaries": 2,  # Anna (V3) and Carla (V4)
        "redeemed_cents": 28900,  # 10400 + 6000 + 12500
        "hours": "14.50",
        "prior_year_beneficiaries": 2,  # Anna and Bruno
        "prior_year_hours": "21.00",
    },
    (2026, "competence"): {
        "beneficiaries": 2,
        "redeemed_cents": 18500,
        "hours": "8.00",
        "prior_year_beneficiaries": 2,
        "prior_year_hours": "27.50",
    },
}


class World:
    """The two years above, built through the services."""

    def __init__(self):
        f.make_ente()
        self.provider = make_provider(2025)
        bands = [{"isee_max_cents": 9_000_000, "coverage_percent": 80}]
        self.s25 = make_scheme(
            2025, "A", face_value_cents=60_000, valid_until=date(2026, 3, 31), copay_bands=bands
        )
        self.s26 = make_scheme(2026, "A", face_value_cents=60_000)
        self.b26 = make_scheme(
            2026, "B", unit="EUR", unit_price_cents=None, face_value_cents=40_000
        )
        self.anna = f.make_beneficiary(comune=f.FIRENZE, categories=["elderly_self_sufficient"])
        self.bruno = f.make_beneficiary(comune=f.FIESOLE, categories=["elderly_dependent"])
        self.carla = f.make_beneficiary(age=12, comune=f.FIESOLE, categories=["minor"])
        self.ledger = ledger = Ledger()
        p = self.provider

        self.v1 = issue(self.s25, self.anna)
        self.v2 = issue(self.s25, self.bruno)
        ledger.redeem(p, self.v1, "A1", date(2025, 3, 10), quantity="10")
        e2 = ledger.redeem(p, self.v1, "A1", date(2025, 11, 5), quantity="5")
        ledger.reverse(e2)
        self.e4 = ledger.redeem(p, self.v2, "A2", date(2025, 6, 20), quantity="6")
        self.e5 = ledger.redeem(p, self.v2, "A2", date(2025, 10, 15), quantity="5")
        competence.transfer(SYSTEM, self.v2, FIRENZE, date(2025, 10, 1), "Trasferimento")
        db.session.commit()

        self.move(self.anna, FIESOLE)
        ledger.redeem(p, self.v1, "A1", date(2026, 2, 10), quantity="4")
        ledger.redeem(p, self.v2, "A2", date(2026, 1, 20), quantity="2.5")
        self.v3 = issue(self.s26, self.anna, day=date(2026, 2, 1))
        self.v4 = issue(self.b26, self.carla)
        ledger.redeem(p, self.v3, "A1", date(2026, 3, 3), quantity="3")
        ledger.redeem(p, self.v4, "B1", date(2026, 4, 2), amount=7500, hours="3")
        ledger.redeem(p, self.v4, "B1", date(2026, 5, 7), amount=5000, hours="2")

    @staticmethod
    def move(person, istat: str) -> None:
        beneficiaries.update_beneficiary(SYSTEM, person, comune_istat=istat)
        db.session.commit()


@pytest.fixture
def world(app):
    return World()


def figures(report: dict) -> dict:
    """The rows as {(istat, area): {field: value}}, hours as text with two decimals."""
    out = {}
    for r in report["rows"]:
        values = {k: r[k] for k in FIELDS}
        for k in ("hours", "prior_year_hours"):
            values[k] = f"{values[k]:.2f}"
        out[(r["comune_istat"], r["area"])] = values
    return out


def test_both_bases_and_both_years_as_worked_out_by_hand(world, client):
    headers = headers_for(client, "auditor")
    for (year, basis), rows in EXPECTED.items():
        response = client.get(f"/api/v1/reports/fsc?year={year}&basis={basis}", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert body["basis"] == basis
        assert figures(body) == rows, (year, basis)
        totals = {k: body["totals"][k] for k in EXPECTED_TOTALS[(year, basis)]}
        for k in ("hours", "prior_year_hours"):
            if k in totals:
                totals[k] = f"{totals[k]:.2f}"
        assert totals == EXPECTED_TOTALS[(year, basis)], (year, basis)


def test_cash_is_the_default_basis(world, client):
    headers = headers_for(client, "auditor")
    body = client.get("/api/v1/reports/fsc?year=2026", headers=headers).get_json()
    assert body["basis"] == "cash"
    assert figures(body) == EXPECTED[(2026, "cash")]


def test_committed_adds_up_to_the_scheme_pages_committed(world):
    def check():
        for year, ids in ((2025, [world.s25.id]), (2026, [world.s26.id, world.b26.id])):
            for basis in ("cash", "competence"):
                report = fsc_report(year, basis)
                want = sum(schemes.committed_cents(i) for i in ids)
                assert report["totals"]["committed_cents"] == want, (year, basis)

    check()
    # Revoking V2 releases its balance (38400) from Firenze's row, which holds V2 at the
    # end of 2025: 120000 − 38400 = 81600.
    vouchers.revoke_voucher(SYSTEM, world.v2, "Rinuncia")
    db.session.commit()
    check()
    rows = figures(fsc_report(2025, "cash"))
    assert rows[(FIRENZE, "A")]["committed_cents"] == 81600
    assert rows[(FIESOLE, "A")]["committed_cents"] == 0


def test_a_transfer_moves_the_entries_from_its_date_only(world):
    comune_of = {e.id: e.comune.istat_code for e in db.session.query(LedgerEntry)}
    assert comune_of[world.e4.id] == FIESOLE  # 20 June, before the transfer
    assert comune_of[world.e5.id] == FIRENZE  # 15 October, recorded before, moved by it
    assert world.v2.comune.istat_code == FIRENZE


def test_a_move_of_residence_leaves_last_years_rows_unchanged(world):
    before = {basis: figures(fsc_report(2025, basis)) for basis in ("cash", "competence")}
    world.move(world.bruno, f.PRATO["istat_code"])  # outside the ente altogether
    world.move(world.anna, FIRENZE)
    after = {basis: figures(fsc_report(2025, basis)) for basis in ("cash", "competence")}
    assert after == before
    assert before["cash"] == EXPECTED[(2025, "cash")]


def test_a_transfer_of_this_year_moves_the_balance_and_later_services(world):
    """V3 moves to Firenze from 1 March 2026: e7 (3 March) and the unspent balance go with
    it; the 2025 rows, whose entries are all before, do not change."""
    before = figures(fsc_report(2025, "cash"))
    competence.transfer(SYSTEM, world.v3, FIRENZE, date(2026, 3, 1))
    db.session.commit()
    rows = figures(fsc_report(2026, "competence"))
    assert rows[(FIRENZE, "A")] == row(1, 1, 60000, 6000, 0, 6000, "3.00", 2, "21.50")
    assert rows[(FIESOLE, "A")] == row(0, 0, 0, 0, 0, 0, "0.00", 0, "6.00")
    assert figures(fsc_report(2025, "cash")) == before


def test_a_transfer_after_the_year_leaves_its_rows_as_certified(world):
    """V1 (2025 scheme, running into 2026) moves to Fiesole from 1 February 2026: the 2025
    cash rows stay as they were; on the competence basis only e3 (10 February 2026, 2025
    money spent in 2026) moves, and the 2025 vouchers, people and commitments stay."""
    before = {basis: figures(fsc_report(2025, basis)) for basis in ("cash", "competence")}
    competence.transfer(SYSTEM, world.v1, FIESOLE, date(2026, 2, 1))
    db.session.commit()
    assert figures(fsc_report(2025, "cash")) == before["cash"]
    after = figures(fsc_report(2025, "competence"))
    assert after[(FIRENZE, "A")] == row(2, 2, 120000, 28000, 7000, 35000, "17.50", 0, "0.00")
    assert after[(FIESOLE, "A")] == row(0, 0, 0, 16000, 4000, 20000, "10.00", 0, "0.00")


@pytest.mark.parametrize("basis", ["invalid", "", "CASH", "cassa"])
def test_an_unknown_basis_is_422(app, client, basis):
    headers = headers_for(client, "auditor")
    response = client.get(f"/api/v1/reports/fsc?year=2026&basis={basis}", headers=headers)
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "validation_error" and "basis" in body["errors"]


# The files and the page ------------------------------------------------------------------

LABELS = {
    "cash": "Per cassa: prestazioni rese nell'anno",
    "competence": "Per competenza: buoni delle misure dell'anno, tutte le prestazioni",
}


def _text_of(fmt: str, content: bytes) -> str:
    """What a reader sees in the file, whitespace folded."""
    if fmt == "csv":
        text = content.decode("utf-8-sig")
    elif fmt == "xlsx":
        book = load_workbook(io.BytesIO(content))
        text = " ".join(
            str(cell)
            for sheet in book
            for row in sheet.iter_rows(values_only=True)
            for cell in row
            if cell is not None
        )
    else:
        with pymupdf.open(stream=content, filetype="pdf") as document:
            text = " ".join(page.get_text() for page in document)
    return " ".join(text.split())


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_each_file_names_its_basis_and_the_other(world, client, fmt):
    headers = headers_for(client, "auditor")
    for basis, other in (("cash", "competence"), ("competence", "cash")):
        response = client.get(
            f"/api/v1/reports/fsc?year=2026&basis={basis}&format={fmt}", headers=headers
        )
        assert response.status_code == 200
        name = {"cash": "per_cassa", "competence": "per_competenza"}[basis]
        assert f'filename="fsc_2026_{name}.{fmt}"' in response.headers["Content-Disposition"]
        text = _text_of(fmt, response.data)
        if fmt == "csv":  # no title: each row says its basis
            lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
            assert lines[0][0] == "Base"
            assert {line[0] for line in lines[1:-1]} == {LABELS[basis].split(":")[0]}
            assert "Beneficiari 2025" in lines[0] and "Incremento ore" in lines[0]
        else:
            assert LABELS[basis] in text and LABELS[other] in text
            assert "Comune di competenza" in text


def test_the_cash_csv_holds_the_rows_worked_out_by_hand(world, client):
    headers = headers_for(client, "auditor")
    response = client.get("/api/v1/reports/fsc?year=2026&format=csv", headers=headers)
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    rows = {(line[1], line[3]): dict(zip(lines[0], line, strict=True)) for line in lines[1:-1]}
    firenze = rows[(FIRENZE, "A")]
    assert firenze["Erogato (quota pubblica)"] == "104,00"
    assert (firenze["Ore"], firenze["Ore 2025"], firenze["Incremento ore"]) == (
        "6,50",
        "15,00",
        "-8,50",
    )
    assert (firenze["Beneficiari"], firenze["Beneficiari 2025"]) == ("0", "2")
    assert firenze["Incremento beneficiari"] == "-2"


def test_the_page_shows_both_bases_with_the_year_before(world, client):
    f.login(client, f.make_user("auditor"))
    response = client.get("/rendiconti/fsc?year=2026")
    assert response.status_code == 200
    html = unescape(response.get_data(as_text=True))
    assert LABELS["cash"] in html and LABELS["competence"] in html
    for fmt in ("csv", "xlsx", "pdf"):
        assert f'href="/rendiconti/fsc/{fmt}?year=2026"' in html
        assert f'href="/rendiconti/fsc/{fmt}?year=2026&basis=competence"' in html
    # Cash: 14,50 hours against 21,00 a year earlier; competence: 8,00 against 27,50.
    assert re.search(r'id="total-hours">14,50<', html)
    assert re.search(r'id="total-prior-hours">21,00<', html)
    assert re.search(r'id="total-increment-hours">-6,50<', html)
    assert re.search(r'id="total-competence-hours">8,00<', html)
    assert re.search(r'id="total-competence-increment-hours">-19,50<', html)


def test_the_page_downloads_either_basis(world, client):
    f.login(client, f.make_user("auditor"))
    response = client.get("/rendiconti/fsc/csv?year=2026&basis=competence")
    assert response.status_code == 200
    assert "fsc_2026_per_competenza.csv" in response.headers["Content-Disposition"]
    assert "Per competenza;" in response.data.decode("utf-8-sig")
    assert client.get("/rendiconti/fsc/csv?year=2026&basis=cassa").status_code == 400
