"""The liquidation proposal of a month: one document per fund and CUP, each provider's
state (paid, ready, blocked with its reasons), totals that add up across months, its files,
and who may read it."""

import csv
import io
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from html import unescape
from pathlib import Path

import pymupdf
import pytest
import xmlschema
from openpyxl import load_workbook
from sqlalchemy import event

from tests import factories as f
from tests.fatturapa import invoice_xml
from tests.reports.world import (
    Ledger,
    headers_for,
    issue,
    make_payable,
    make_provider,
    make_scheme,
    send_invoice,
)
from voucher.extensions import db
from voucher.periods import Month
from voucher.reports.liquidation import liquidation_report
from voucher.services import clock
from voucher.services.money import format_euro

YEAR = clock.today().year - 1
MARCH, APRIL = f"{YEAR}-03", f"{YEAR}-04"
FSC_CUP, PNRR_CUP = "J12B34000010001", "D54H22000120006"
SCHEMA = Path(__file__).parent.parent / "fixtures" / "fatturapa"
URL = "/api/v1/reports/liquidation"


@pytest.fixture
def world(app, client):
    """Four providers in March: `paid` (FSC and PNRR, both invoiced, paid), `ready` (FSC
    invoiced, and a contribution scheme that needs no invoice), `blocked` (no payment data,
    only its PNRR invoice), `open` (its month not approved). `ready` has a March entry
    reversed after approval, carried into its approved April."""
    f.make_ente()
    schemes = {
        "fsc": make_scheme(YEAR, "A", cup=FSC_CUP),
        "pnrr": make_scheme(YEAR, "C", fund="PNRR", cup=PNRR_CUP),
        "poverty": make_scheme(YEAR, "P", fund="FONDO_POVERTA", legal_model="contribution"),
    }
    services = {"fsc": "A1", "pnrr": "C1", "poverty": "P2"}
    plan = {
        "paid": ("fsc", "pnrr"),
        "ready": ("fsc", "poverty"),
        "blocked": ("fsc", "pnrr"),
        "open": ("fsc",),
    }
    providers = {name: make_provider(YEAR) for name in plan}
    ledger = Ledger()
    expected = defaultdict(int)  # (provider, fund, cup) -> public cents of March
    entries = {}
    for n, comune in enumerate((f.FIRENZE, f.FIESOLE)):
        person = f.make_beneficiary(comune=comune)
        vouchers = {key: issue(scheme, person) for key, scheme in schemes.items()}
        for name, keys in plan.items():
            for key in keys:
                entry = ledger.redeem(
                    providers[name],
                    vouchers[key],
                    services[key],
                    date(YEAR, 3, 10 + n),
                    quantity=f"{n + 1}.5",
                )
                scheme = schemes[key]
                expected[(name, scheme.fund_code, scheme.cup)] += entry.public_cents
                entries[(name, key, n)] = entry
    admin, finance = headers_for(client, "admin"), headers_for(client, "finance")

    def base(name):
        return f"/api/v1/reports/providers/{providers[name].id}/statement"

    for name in ("paid", "ready", "blocked"):
        response = client.post(f"{base(name)}/approve", json={"month": MARCH}, headers=admin)
        assert response.status_code == 200, response.get_json()
    make_payable(providers["paid"])
    make_payable(providers["ready"])
    for name, fund, cup in (
        ("paid", "FSC_OS", FSC_CUP),
        ("paid", "PNRR", PNRR_CUP),
        ("ready", "FSC_OS", FSC_CUP),
        ("blocked", "PNRR", PNRR_CUP),
    ):
        cents = expected[(name, fund, cup)]
        response = send_invoice(client, finance, providers[name], MARCH, cents, cup=cup)
        assert response.status_code == 201, response.get_json()
    paid = client.post(
        f"{base('paid')}/paid",
        json={"month": MARCH, "reference": "Mandato 77/2025", "paid_on": str(clock.today())},
        headers=finance,
    )
    assert paid.status_code == 200, paid.get_json()

    # After approval: a reversal dated in March, and an April redemption; April approved.
    reversed_entry = entries[("ready", "fsc", 0)]
    reversal = ledger.reverse(reversed_entry)
    person = f.make_beneficiary(comune=f.FIESOLE)
    april = ledger.redeem(
        providers["ready"], issue(schemes["fsc"], person), "A1", date(YEAR, 4, 2), quantity="4"
    )
    response = client.post(f"{base('ready')}/approve", json={"month": APRIL}, headers=admin)
    assert response.status_code == 200
    return {
        "client": client,
        "providers": providers,
        "expected": expected,
        "april_public": april.public_cents + reversal.public_cents,
        "admin": admin,
        "finance": finance,
        "auditor": headers_for(client, "auditor"),
        "base": base,
    }


def get(w, month=MARCH, headers=None, **params):
    query = "&".join(f"{k}={v}" for k, v in {"month": month, **params}.items())
    response = w["client"].get(f"{URL}?{query}", headers=headers or w["auditor"])
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response


def rows_by_provider(body: dict, w) -> dict:
    """{(provider name, fund, cup): row} over every group."""
    names = {p.id: name for name, p in w["providers"].items()}
    return {
        (names[row["provider_id"]], group["fund_code"], group["cup"]): row
        for group in body["groups"]
        for row in group["rows"]
    }


def test_one_document_per_fund_and_cup_with_each_state_and_its_reasons(world):
    w = world
    body = get(w).get_json()
    assert [(g["fund_code"], g["cup"]) for g in body["groups"]] == [
        ("FONDO_POVERTA", None),
        ("FSC_OS", FSC_CUP),
        ("PNRR", PNRR_CUP),
    ]
    rows = rows_by_provider(body, w)
    # The open month's provider is not proposed; every other amount is its March ledger's.
    assert {key: row["public_cents"] for key, row in rows.items()} == {
        key: cents for key, cents in w["expected"].items() if key[0] != "open"
    }
    paid = w["providers"]["paid"]
    for key, row in rows.items():
        assert (
            row["reasons"]
            == {
                "paid": [],
                "ready": [],
                "blocked": [
                    "missing_iban",
                    "durc_expired",
                    "dedicated_account_missing",
                    "invoice_missing",
                ],
            }[key[0]]
        )
        assert row["state"] == key[0]
    paid_row = rows[("paid", "PNRR", PNRR_CUP)]
    assert paid_row["payment_reference"] == "Mandato 77/2025"
    assert paid_row["iban"] and paid_row["fiscal_code"] == paid.vat_number
    assert [i["matches"] for i in paid_row["invoices"]] == [True]
    assert paid_row["invoices"][0]["cup"] == PNRR_CUP
    # The contribution scheme has nothing to invoice, and blocks nothing.
    poverty = rows[("ready", "FONDO_POVERTA", None)]
    assert poverty["purchase_cents"] == 0 and not poverty["invoice_missing"]
    assert poverty["invoices"] == []
    # One invoice matches the PNRR document of `blocked`, none its FSC document.
    blocked_pnrr, blocked_fsc = (
        rows[("blocked", "PNRR", PNRR_CUP)],
        rows[("blocked", "FSC_OS", FSC_CUP)],
    )
    assert [i["matches"] for i in blocked_pnrr["invoices"]] == [True]
    assert not blocked_pnrr["invoice_missing"]
    assert blocked_fsc["invoices"] == [] and blocked_fsc["invoice_missing"]
    assert [len(c["comuni"]) for c in (blocked_fsc, blocked_pnrr)] == [2, 2]
    assert sum(c["public_cents"] for c in blocked_fsc["comuni"]) == blocked_fsc["public_cents"]

    # Totals: each document's add up its rows, the grand total the statements' totals.
    for group in body["groups"]:
        totals = group["totals"]
        assert totals["providers"] == len(group["rows"])
        assert totals["public_cents"] == sum(r["public_cents"] for r in group["rows"])
        assert totals["public_cents"] == sum(
            totals[f"{s}_cents"] for s in ("paid", "ready", "blocked")
        )
    statements = {
        name: w["client"]
        .get(f"{w['base'](name)}?month={MARCH}", headers=w["auditor"])
        .get_json()["total_public_cents"]
        for name in ("paid", "ready", "blocked")
    }
    assert body["totals"]["public_cents"] == sum(statements.values())
    assert body["totals"]["paid_cents"] == statements["paid"]
    assert body["totals"]["ready_cents"] == statements["ready"]
    assert body["totals"]["blocked_cents"] == statements["blocked"]
    assert body["totals"]["purchase_cents"] == sum(
        cents
        for (name, fund, _), cents in w["expected"].items()
        if name != "open" and fund != "FONDO_POVERTA"
    )

    # One fund, one CUP.
    only = get(w, fund_code="PNRR").get_json()
    assert [g["cup"] for g in only["groups"]] == [PNRR_CUP]
    assert only["totals"]["public_cents"] == only["groups"][0]["totals"]["public_cents"]
    assert [g["fund_code"] for g in get(w, cup=FSC_CUP).get_json()["groups"]] == ["FSC_OS"]
    bad = w["client"].get(f"{URL}?month={MARCH}&cup=X';--", headers=w["auditor"])
    assert bad.status_code == 422


def _count_queries():
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    return statements, count


def test_reversal_carried_into_the_next_month_and_queries_fixed_in_number(world, app):
    w = world
    april = get(w, APRIL).get_json()
    rows = rows_by_provider(april, w)
    assert list(rows) == [("ready", "FSC_OS", FSC_CUP)]
    row = rows[("ready", "FSC_OS", FSC_CUP)]
    assert row["public_cents"] == w["april_public"] and row["state"] == "blocked"
    # April has not been invoiced: its reversal makes the amount smaller, not zero.
    assert row["reasons"] == ["invoice_missing"] and row["invoice_missing"]
    statement = (
        w["client"].get(f"{w['base']('ready')}?month={APRIL}", headers=w["auditor"]).get_json()
    )
    assert april["totals"]["public_cents"] == statement["total_public_cents"]
    assert sum(s["public_cents"] for s in statement["subtotals"]) == statement["total_public_cents"]
    assert any(line["carried_over"] and line["kind"] == "reversal" for line in statement["lines"])
    # March stays as approved, reversal or not.
    march = rows_by_provider(get(w).get_json(), w)
    assert (
        march[("ready", "FSC_OS", FSC_CUP)]["public_cents"]
        == (w["expected"][("ready", "FSC_OS", FSC_CUP)])
    )

    # Set-based: as many queries for three providers as for one.
    counts = []
    for month in (MARCH, APRIL, f"{YEAR}-05"):
        statements, count = _count_queries()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            liquidation_report(Month.parse(month))
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        counts.append(len(statements))
    assert counts[0] == counts[1] == counts[2] <= 6


def _text_of_pdf(content: bytes) -> str:
    with pymupdf.open(stream=content, filetype="pdf") as document:
        return "\n".join(page.get_text() for page in document)


def test_files_hold_one_document_per_fund_and_cup(world):
    w = world
    body = get(w).get_json()
    response = get(w, format="xlsx")
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert f"proposta_liquidazione_{MARCH}.xlsx" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == [
        "FONDO_POVERTA senza CUP",
        f"FSC_OS {FSC_CUP}",
        f"PNRR {PNRR_CUP}",
        "Riepilogo",
        "Informazioni",
    ]
    for group, sheet in zip(body["groups"], book.worksheets, strict=False):
        header = [c.value for c in sheet[1]]
        for column in ("Fornitore", "Partita IVA", "Codice fiscale", "IBAN", "CUP", "Fondo"):
            assert column in header
        for column in ("Fattura n.", "Data fattura", "Identificativo SdI", "Stato"):
            assert column in header
        rows = [dict(zip(header, r, strict=True)) for r in sheet.iter_rows(values_only=True)][1:]
        assert rows[-1]["Fondo"] == "Totale"
        assert (
            Decimal(str(rows[-1]["Importo da liquidare"])) * 100 == group["totals"]["public_cents"]
        )
        assert {r["CUP"] for r in rows[:-1]} == {group["cup"]}
        assert len(rows) - 1 == len(group["rows"])
    fsc = [
        dict(zip([c.value for c in book.worksheets[1][1]], r, strict=True))
        for r in book.worksheets[1].iter_rows(min_row=2, values_only=True)
    ]
    by_state = {r["Stato"]: r for r in fsc[:-1]}
    assert set(by_state) == {"Pagato", "Pronto per il pagamento", "Bloccato"}
    assert "manca l'IBAN del fornitore" in by_state["Bloccato"]["Motivi del blocco"]
    assert by_state["Pagato"]["Fattura n."].startswith(f"{MARCH}/")
    assert isinstance(by_state["Pagato"]["Data fattura"], datetime)
    assert by_state["Bloccato"]["Fattura n."] is None
    assert by_state["Pagato"]["Pagamento"].startswith("Mandato 77/2025 del ")
    summary = list(book["Riepilogo"].iter_rows(values_only=True))
    assert summary[-1][0] == "Totale generale"
    assert Decimal(str(summary[-1][3])) * 100 == body["totals"]["public_cents"]

    text = _text_of_pdf(get(w, format="pdf").data)
    assert f"Proposta di liquidazione – marzo {YEAR}" in text
    assert "Società della Salute di Prova" in text and "Il responsabile del servizio" in text
    for group in body["groups"]:
        assert group["fund_name"] in text.replace("\n", " ")
        assert format_euro(group["totals"]["public_cents"]) in text
    assert f"CUP {PNRR_CUP}" in text and "Totale generale" in text
    assert format_euro(body["totals"]["public_cents"]) in text
    assert w["providers"]["blocked"].name in text.replace("\n", " ")

    response = get(w, format="csv")
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert lines[0][:2] == ["Fondo", "CUP"]
    assert len(lines) == 2 + sum(len(g["rows"]) for g in body["groups"])
    total = dict(zip(lines[0], lines[-1], strict=True))
    cents = body["totals"]["public_cents"]
    assert total["Fondo"] == "Totale"
    assert total["Importo da liquidare"] == f"{cents // 100},{cents % 100:02d}"
    assert {line[1] for line in lines[1:-1]} == {"", FSC_CUP, PNRR_CUP}


@pytest.mark.parametrize(
    ("role", "status"),
    [("auditor", 200), ("admin", 200), ("finance", 200), ("social_worker", 403), ("provider", 403)],
)
def test_who_reads_the_proposal(app, client, role, status):
    f.make_ente()
    provider = f.make_provider() if role == "provider" else None
    response = client.get(f"{URL}?month={MARCH}", headers=headers_for(client, role, provider))
    assert response.status_code == status
    f.login(client, f.make_user(role, provider=provider))
    page = client.get(f"/rendiconti/liquidazione?month={MARCH}")
    assert page.status_code == status
    assert client.get(f"/rendiconti/liquidazione/pdf?month={MARCH}").status_code == status


def test_page_shows_states_reasons_and_the_way_to_pay(world):
    w = world
    client = w["client"]
    f.login(client, f.make_user("finance"))
    html = client.get(f"/rendiconti/liquidazione?month={MARCH}").get_data(as_text=True)
    assert f"CUP {PNRR_CUP}" in html and "Manca l'IBAN del fornitore" in unescape(html)
    assert "Mandato 77/2025" in html
    ready = w["providers"]["ready"]
    statement = f"/rendiconti/fornitori/{ready.id}?month={MARCH}"
    assert html.count("Registra il pagamento") == 2  # both documents of `ready`
    assert f'<a class="btn btn-primary btn-sm" href="{statement}">' in html
    for fmt in ("csv", "xlsx", "pdf"):
        assert f'href="/rendiconti/liquidazione/{fmt}?month={MARCH}"' in html
    download = client.get(f"/rendiconti/liquidazione/xlsx?month={MARCH}")
    assert download.status_code == 200
    assert client.get("/rendiconti/liquidazione?month=2026-13").status_code == 400

    client.post("/esci")
    f.login(client, f.make_user("auditor"))
    html = client.get(f"/rendiconti/liquidazione?month={MARCH}").get_data(as_text=True)
    assert "Registra il pagamento" not in html and "Bloccato" in html


@pytest.mark.parametrize(
    "build",
    [
        {"total_cents": 123_456, "cup": PNRR_CUP},  # exempt (N4), with its CUP
        {"lines": [(100_000, "5.00"), (2_500, None)]},  # a social cooperative's 5 % VAT
    ],
)
def test_the_invoices_built_for_the_tests_are_valid_fatturapa(build):
    """The documents the tests upload follow the official FatturaPA 1.2.1 schema."""
    schema = xmlschema.XMLSchema(SCHEMA / "Schema_del_file_xml_FatturaPA_v1.2.1.xsd")
    document = invoice_xml(f.valid_vat(1234567), number="FT-7", **build).decode("utf-8")
    schema.validate(document)
    assert "FPA12" in document
