"""docs/fsc-worked-example.md, built and checked: the scenario the document tells, through
the services, and every FSC row it shows, for both years and both bases.

The figures are written here by hand (with their arithmetic) and the document's tables must
hold the same lines, so that the document, the code and this test cannot drift apart."""

from datetime import date
from pathlib import Path

import pytest

from tests import factories as f
from tests.reports.world import Ledger, issue, make_provider, make_scheme
from voucher.extensions import db
from voucher.models import IseeRecord, VoucherCoverage
from voucher.reports.fsc import fsc_report
from voucher.services import SYSTEM, beneficiaries
from voucher.services.money import format_euro

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "fsc-worked-example.md"
FIRENZE, FIESOLE = "048017", "048015"
NAMES = {FIRENZE: "Firenze", FIESOLE: "Fiesole"}
BASIS_WORDS = {"cash": "per cassa", "competence": "per competenza"}
BANDS = [
    {"isee_max_cents": 1_000_000, "coverage_percent": 70},
    {"isee_max_cents": 3_000_000, "coverage_percent": 50},
]

# (year, basis) -> {Comune: (beneficiaries, vouchers, committed, redeemed, copay, cost,
#                            hours, beneficiaries a year earlier, hours a year earlier)}
EXPECTED = {
    (2025, "cash"): {
        # Bianchi's voucher: 800,00 € held or spent; 210 + 70 − 70 + 70 = 280,00 € public,
        # 90 + 30 − 30 + 30 = 120,00 € copay, 15 + 5 − 5 + 5 = 20 hours.
        FIRENZE: (1, 1, 80000, 28000, 12000, 40000, "20.00", 0, "0.00"),
        # Rossi's voucher stays Fiesole's after her move: 140 (70 %) + 100 + 80 (50 %, after
        # the ISEE renewal) = 320,00 € public; 60 + 100 + 80 = 240,00 € copay; 28 hours.
        FIESOLE: (1, 1, 80000, 32000, 24000, 56000, "28.00", 0, "0.00"),
    },
    (2025, "competence"): {
        FIRENZE: (1, 1, 80000, 28000, 12000, 40000, "20.00", 0, "0.00"),
        # … and February 2026 too (6 h at 50 %: 60,00 € + 60,00 €): 380,00 € public.
        FIESOLE: (1, 1, 80000, 38000, 30000, 68000, "34.00", 0, "0.00"),
    },
    (2026, "cash"): {
        # The 2026 vouchers of Rossi (now resident in Firenze, 50 %) and Bianchi (70 %):
        # 120 + 280 = 400,00 € public, 120 + 120 = 240,00 € copay, 12 + 20 = 32 hours.
        FIRENZE: (2, 2, 160000, 40000, 24000, 64000, "32.00", 1, "20.00"),
        # Rossi's 2025 voucher, February 2026: 6 h, 60,00 € + 60,00 €.
        FIESOLE: (0, 0, 0, 6000, 6000, 12000, "6.00", 1, "28.00"),
    },
    (2026, "competence"): {
        FIRENZE: (2, 2, 160000, 40000, 24000, 64000, "32.00", 1, "20.00"),
        # No 2026 voucher is Fiesole's: the row shows only the year before.
        FIESOLE: (0, 0, 0, 0, 0, 0, "0.00", 1, "34.00"),
    },
}


def build():
    """The Ambito's two years, as docs/fsc-worked-example.md tells them."""
    f.make_ente()
    provider = make_provider(2025, services=("A1",))
    common = dict(unit_price_cents=2000, face_value_cents=80_000, copay_bands=BANDS)
    s25 = make_scheme(2025, "A", valid_until=date(2026, 3, 31), **common)
    s26 = make_scheme(2026, "A", **common)
    rossi = f.make_beneficiary(
        first_name="Maria",
        last_name="Rossi",
        comune=f.FIESOLE,
        isee_cents=800_000,
        categories=["elderly_dependent"],
    )
    bianchi = f.make_beneficiary(
        sex="M",
        first_name="Giuseppe",
        last_name="Bianchi",
        comune=f.FIRENZE,
        isee_cents=500_000,
        categories=["elderly_self_sufficient"],
    )
    ledger = Ledger()
    r25, b25 = issue(s25, rossi), issue(s25, bianchi)
    ledger.redeem(provider, r25, "A1", date(2025, 3, 12), quantity="10")
    ledger.redeem(provider, b25, "A1", date(2025, 4, 9), quantity="15")
    # The ISEE renewal, DSU of 14 May 2025: coverage 50 % from 1 June 2025 (the record and
    # the coverage period that entering it on the person's page writes).
    renewal = IseeRecord(
        beneficiary=rossi,
        type="ordinario",
        value_cents=1_800_000,
        dsu_protocol="INPS-ISEE-2025-000123456-00",
        dsu_date=date(2025, 5, 14),
        valid_until=date(2026, 12, 31),
    )
    db.session.add(renewal)
    r25.coverages.append(
        VoucherCoverage(coverage_percent=50, from_date=date(2025, 6, 1), isee_record=renewal)
    )
    db.session.commit()
    mistaken = ledger.redeem(provider, b25, "A1", date(2025, 5, 20), quantity="5")
    ledger.reverse(mistaken)
    ledger.redeem(provider, r25, "A1", date(2025, 6, 18), quantity="10")
    # Rossi moves to Firenze in September 2025; her voucher is not transferred.
    beneficiaries.update_beneficiary(SYSTEM, rossi, comune_istat=FIRENZE)
    db.session.commit()
    ledger.redeem(provider, r25, "A1", date(2025, 10, 8), quantity="8")
    ledger.redeem(provider, b25, "A1", date(2025, 11, 19), quantity="5")
    r26, b26 = issue(s26, rossi), issue(s26, bianchi)
    ledger.redeem(provider, r25, "A1", date(2026, 2, 11), quantity="6")
    ledger.redeem(provider, r26, "A1", date(2026, 3, 10), quantity="12")
    ledger.redeem(provider, b26, "A1", date(2026, 4, 15), quantity="20")
    return {"r25": r25, "b25": b25, "r26": r26, "b26": b26, "ledger": ledger}


@pytest.fixture
def example(app):
    return build()


def figures(report: dict) -> dict:
    keys = (
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
    return {
        r["comune_istat"]: tuple(f"{r[k]:.2f}" if "hours" in k else r[k] for k in keys)
        for r in report["rows"]
        if r["area"] == "A"
    }


def document_line(year: int, basis: str, istat: str, values: tuple) -> str:
    """The row as the document's results table writes it."""
    people, vouchers, committed, redeemed, copay, cost, hours, prior_people, prior_hours = values

    def hours_text(text: str) -> str:
        return text.replace(".", ",")

    cells = [
        str(year),
        BASIS_WORDS[basis],
        f"{NAMES[istat]} ({istat})",
        str(people),
        str(vouchers),
        format_euro(committed),
        format_euro(redeemed),
        format_euro(copay),
        format_euro(cost),
        hours_text(hours),
        str(prior_people),
        hours_text(prior_hours),
    ]
    return "| " + " | ".join(cells) + " |"


def test_the_coverage_and_the_comuni_are_as_told(example):
    entries = example["ledger"].entries
    shares = [(e.service_date.isoformat(), e.public_cents, e.copay_cents) for e in entries]
    assert ("2025-03-12", 14000, 6000) in shares  # 10 h × 20,00 € at 70 %
    assert ("2025-06-18", 10000, 10000) in shares  # at 50 % after the renewal
    assert ("2026-02-11", 6000, 6000) in shares
    assert example["r25"].comune.istat_code == FIESOLE  # the move changed nothing
    assert example["r26"].comune.istat_code == FIRENZE  # the residence at issue
    assert example["r26"].coverage_percent == 50  # the renewed ISEE, at issue


def test_the_rows_are_the_documents(example):
    text = DOCUMENT.read_text(encoding="utf-8")
    for (year, basis), rows in EXPECTED.items():
        assert figures(fsc_report(year, basis)) == rows, (year, basis)
        for istat, values in rows.items():
            line = document_line(year, basis, istat, values)
            assert line in text, f"docs/fsc-worked-example.md lacks the line\n{line}"
