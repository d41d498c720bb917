"""Provider statements: approval freezes a month for good; late entries and reversals go to the
next open statement; payment is recorded on approved statements only."""

from datetime import date

import pytest
import sqlalchemy as sa

from tests import factories as f
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
from voucher.services import clock

YEAR = clock.today().year - 1


@pytest.fixture
def world(app, client):
    f.make_ente()
    scheme = make_scheme(YEAR, "P", fund="FONDO_POVERTA")
    provider = make_provider(YEAR)
    voucher = issue(scheme, f.make_beneficiary(categories=["inclusion_household"]))
    ledger = Ledger()
    return {
        "client": client,
        "provider": provider,
        "voucher": voucher,
        "ledger": ledger,
        "admin": headers_for(client, "admin"),
        "finance": headers_for(client, "finance"),
        "base": f"/api/v1/reports/providers/{provider.id}/statement",
    }


def get(w, month: str) -> dict:
    response = w["client"].get(f"{w['base']}?month={month}", headers=w["admin"])
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def approve(w, month: str):
    return w["client"].post(f"{w['base']}/approve", json={"month": month}, headers=w["admin"])


def redeem(w, day: date, hours: str = "1"):
    return w["ledger"].redeem(w["provider"], w["voucher"], "P2", day, quantity=hours)


def test_approved_statement_never_changes(world):
    w = world
    first = redeem(w, date(YEAR, 3, 5), "2")
    redeem(w, date(YEAR, 3, 20), "1.5")
    response = approve(w, f"{YEAR}-03")
    assert response.status_code == 200
    frozen = response.get_json()
    assert frozen["status"] == "approved"
    assert frozen["total_public_cents"] == 7000 and frozen["line_count"] == 2
    assert frozen["approved_at"]

    # A late redemption dated in March, and the reversal of a March entry.
    late = redeem(w, date(YEAR, 3, 28), "1")
    reversal = w["ledger"].reverse(first)

    again = get(w, f"{YEAR}-03")
    assert {**again, "generated_at": None} == {**frozen, "generated_at": None}
    april = get(w, f"{YEAR}-04")
    assert april["status"] == "open"
    carried = {line["entry_id"]: line for line in april["lines"]}
    assert set(carried) == {late.id, reversal.id}
    assert all(line["carried_over"] for line in carried.values())
    assert carried[reversal.id]["public_cents"] == -4000
    assert carried[reversal.id]["kind"] == "reversal"
    assert april["total_public_cents"] == 2000 - 4000

    # April approved with the carried-over lines; May no longer sees them.
    redeem(w, date(YEAR, 4, 2), "1")
    approved_april = approve(w, f"{YEAR}-04").get_json()
    assert approved_april["line_count"] == 3
    assert approved_april["total_public_cents"] == 2000 - 4000 + 2000
    assert get(w, f"{YEAR}-05")["lines"] == []
    assert get(w, f"{YEAR}-03")["total_public_cents"] == 7000


def test_late_entry_skips_every_approved_month(world):
    w = world
    redeem(w, date(YEAR, 5, 3))
    assert approve(w, f"{YEAR}-05").status_code == 200
    assert approve(w, f"{YEAR}-06").status_code == 200  # an empty month can be closed too
    late = redeem(w, date(YEAR, 5, 30))
    assert [line["entry_id"] for line in get(w, f"{YEAR}-07")["lines"]] == [late.id]
    assert get(w, f"{YEAR}-06")["lines"] == []


def test_out_of_order_approval_leaves_the_open_month_alone(world):
    w = world
    march = redeem(w, date(YEAR, 3, 3))
    assert approve(w, f"{YEAR}-04").status_code == 200
    assert [line["entry_id"] for line in get(w, f"{YEAR}-03")["lines"]] == [march.id]
    late_april = redeem(w, date(YEAR, 4, 9))
    assert [line["entry_id"] for line in get(w, f"{YEAR}-05")["lines"]] == [late_april.id]
    assert get(w, f"{YEAR}-03")["lines"][0]["carried_over"] is False


def test_approval_refusals(world):
    w = world
    assert approve(w, f"{YEAR}-02").status_code == 200
    again = approve(w, f"{YEAR}-02")
    assert again.status_code == 409 and again.get_json()["code"] == "conflict"
    this_month = clock.today().strftime("%Y-%m")
    assert approve(w, this_month).status_code == 409
    assert approve(w, f"{YEAR + 2}-01").status_code == 409
    unknown = w["client"].post(
        "/api/v1/reports/providers/999999/statement/approve",
        json={"month": f"{YEAR}-02"},
        headers=w["admin"],
    )
    assert unknown.status_code == 404


def test_payment_of_an_approved_statement(world):
    w = world
    redeem(w, date(YEAR, 9, 9), "3")
    make_payable(w["provider"])
    url = f"{w['base']}/paid"
    body = {"month": f"{YEAR}-09", "reference": "Mandato 2024/118", "paid_on": str(clock.today())}
    not_yet = w["client"].post(url, json=body, headers=w["finance"])
    assert not_yet.status_code == 409
    assert not_yet.get_json()["reasons"] == ["invoice_missing", "not_approved"]

    assert approve(w, f"{YEAR}-09").status_code == 200
    invoiced = send_invoice(w["client"], w["finance"], w["provider"], f"{YEAR}-09", 6000)
    assert invoiced.status_code == 201
    future = {**body, "paid_on": "2999-01-01"}
    assert w["client"].post(url, json=future, headers=w["finance"]).status_code == 422
    blank = {**body, "reference": "   "}
    assert w["client"].post(url, json=blank, headers=w["finance"]).status_code == 422
    # Segregation of duties: the admin approves, only the ragioneria pays.
    assert w["client"].post(url, json=body, headers=w["admin"]).status_code == 403

    paid = w["client"].post(url, json=body, headers=w["finance"])
    assert paid.status_code == 200
    statement = paid.get_json()
    assert statement["status"] == "paid"
    assert statement["payment_reference"] == "Mandato 2024/118"
    assert statement["paid_on"] == str(clock.today())
    assert statement["total_public_cents"] == 6000
    assert w["client"].post(url, json=body, headers=w["finance"]).status_code == 409
    assert get(w, f"{YEAR}-09")["status"] == "paid"


def test_fondo_poverta_liquidato_follows_paid_statements(world):
    w = world
    redeem(w, date(YEAR, 1, 10), "2")
    redeem(w, date(YEAR, 2, 10), "1")
    approve(w, f"{YEAR}-01")
    approve(w, f"{YEAR}-02")
    make_payable(w["provider"])
    send_invoice(w["client"], w["finance"], w["provider"], f"{YEAR}-01", 4000)
    paid = w["client"].post(
        f"{w['base']}/paid",
        json={"month": f"{YEAR}-01", "reference": "Mandato 7", "paid_on": str(clock.today())},
        headers=w["finance"],
    )
    assert paid.status_code == 200, paid.get_json()
    report = (
        w["client"].get(f"/api/v1/reports/fondo-poverta?year={YEAR}", headers=w["admin"]).get_json()
    )
    (row,) = report["rows"]
    assert row["committed_cents"] == 50_000
    assert row["redeemed_cents"] == 6000
    assert row["paid_cents"] == 4000
    assert row["approved_cents"] == 2000
    assert report["services"] == [
        {
            "service_code": "P2",
            "service_name": report["services"][0]["service_name"],
            "redeemed_cents": 6000,
            "approved_cents": 2000,
            "paid_cents": 4000,
        }
    ]


def test_statement_lines_are_append_only(world):
    w = world
    redeem(w, date(YEAR, 8, 1))
    approve(w, f"{YEAR}-08")
    for sql in (
        "UPDATE statement_line SET statement_id = statement_id",
        "DELETE FROM statement_line",
    ):
        with pytest.raises(sa.exc.DBAPIError), db.session.begin_nested():
            db.session.execute(sa.text(sql))
    assert get(w, f"{YEAR}-08")["line_count"] == 1
