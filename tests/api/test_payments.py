"""Paying providers through the API: payment data, FatturaPA invoices matched to the
statement, every reason that blocks a payment (alone and together), and the segregation of
duties between the admin (approves) and the ragioneria (pays)."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests import factories as f
from tests.fatturapa import invoice_xml, p7m
from tests.reports.world import (
    IBAN,
    Ledger,
    headers_for,
    issue,
    make_payable,
    make_provider,
    make_scheme,
    send_invoice,
)
from voucher.extensions import db
from voucher.models import AuditEvent, StatementInvoice
from voucher.services import clock

YEAR = clock.today().year - 1
MONTH = f"{YEAR}-03"
CUP = "J11H20000000001"


@pytest.fixture
def world(app, client):
    """One provider with 60,00 € of public share in March (three hours at 20 €, full
    coverage) on a scheme without CUP, and 40,00 € on a PNRR-like scheme with a CUP."""
    f.make_ente()
    plain = make_scheme(YEAR, "A")
    with_cup = make_scheme(YEAR, "A", cup=CUP, name="Misura con CUP")
    provider = make_provider(YEAR)
    person = f.make_beneficiary(categories=["elderly_dependent"])
    ledger = Ledger()
    march = date(YEAR, 3, 10)
    ledger.redeem(provider, issue(plain, person), "A1", march, quantity="3")
    ledger.redeem(provider, issue(with_cup, person), "A1", march, quantity="2")
    return {
        "client": client,
        "provider": provider,
        "ledger": ledger,
        "admin": headers_for(client, "admin"),
        "finance": headers_for(client, "finance"),
        "base": f"/api/v1/reports/providers/{provider.id}/statement",
    }


def approve(w):
    response = w["client"].post(f"{w['base']}/approve", json={"month": MONTH}, headers=w["admin"])
    assert response.status_code == 200, response.get_json()


def pay(w, headers=None, **overrides):
    body = {"month": MONTH, "reference": "Mandato 118", "paid_on": str(clock.today())}
    body.update(overrides)
    return w["client"].post(f"{w['base']}/paid", json=body, headers=headers or w["finance"])


def invoice(w, cents, cup=None, **kwargs):
    return send_invoice(w["client"], w["finance"], w["provider"], MONTH, cents, cup=cup, **kwargs)


def statement(w) -> dict:
    response = w["client"].get(f"{w['base']}?month={MONTH}", headers=w["finance"])
    assert response.status_code == 200
    return response.get_json()


def test_every_reason_at_once(world):
    w = world
    response = pay(w)
    assert response.status_code == 409
    problem = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert problem["code"] == "payment_blocked"
    assert problem["reasons"] == [
        "missing_iban",
        "durc_expired",
        "dedicated_account_missing",
        "invoice_missing",
        "not_approved",
    ]
    assert "IBAN" in problem["detail"] and "non è approvato" in problem["detail"]
    assert statement(w)["blocked_reasons"] == problem["reasons"]


def _ready(w):
    make_payable(w["provider"])
    approve(w)
    assert invoice(w, 6000).status_code == 201
    assert invoice(w, 4000, cup=CUP).status_code == 201


def _clear(w, **fields):
    response = w["client"].patch(
        f"/api/v1/providers/{w['provider'].id}", json=fields, headers=w["admin"]
    )
    assert response.status_code == 200, response.get_json()


def test_each_reason_alone_blocks_the_payment(world):
    """One world taken through each reason in turn: the month open with everything else in
    order, then approved with one piece of payment data missing at a time. The invoice alone
    is in test_an_invoice_that_no_longer_matches_blocks_the_payment."""
    w = world
    # Invoices may be sent while the month is open: they are checked again at payment.
    make_payable(w["provider"])
    assert invoice(w, 6000).status_code == 201
    assert invoice(w, 4000, cup=CUP).status_code == 201
    assert pay(w).get_json()["reasons"] == ["not_approved"]
    approve(w)
    yesterday = str(clock.today() - timedelta(days=1))
    for reason, missing, restored in [
        ("missing_iban", {"iban": None}, {"iban": IBAN}),
        ("durc_expired", {"durc_valid_until": yesterday}, {"durc_valid_until": None}),
        ("durc_expired", {}, {"durc_valid_until": str(clock.today())}),
        ("dedicated_account_missing", {"dedicated_account_declared": False}, {}),
    ]:
        if missing:
            _clear(w, **missing)
        response = pay(w)
        assert response.status_code == 409, reason
        assert response.get_json()["reasons"] == [reason]
        if restored:
            _clear(w, **restored)
    assert statement(w)["status"] == "approved"
    _clear(w, dedicated_account_declared=True)
    # A DURC that expires on the payment date is still valid on it.
    assert pay(w).status_code == 200


def test_finance_pays_and_the_admin_approves(world):
    w = world
    make_payable(w["provider"])
    finance_approves = w["client"].post(
        f"{w['base']}/approve", json={"month": MONTH}, headers=w["finance"]
    )
    assert finance_approves.status_code == 403
    approve(w)
    invoice(w, 6000)
    invoice(w, 4000, cup=CUP)
    admin_pays = pay(w, headers=w["admin"])
    assert admin_pays.status_code == 403
    assert admin_pays.get_json()["code"] == "forbidden"
    paid = pay(w)
    assert paid.status_code == 200, paid.get_json()
    body = paid.get_json()
    assert body["status"] == "paid" and body["payment_reference"] == "Mandato 118"
    assert body["blocked_reasons"] == []
    again = pay(w)
    assert again.status_code == 409 and again.get_json()["code"] == "conflict"
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "statement.paid")
    ).scalar_one()
    assert event.data["iban"] == IBAN
    assert len(event.data["invoices"]) == 2


def test_an_invoice_is_matched_to_its_cup_or_to_the_public_total(world):
    w = world
    approve(w)
    recorded = invoice(w, 4000, cup=CUP, number="FT-7")
    assert recorded.status_code == 201, recorded.get_json()
    body = recorded.get_json()
    assert body["number"] == "FT-7" and body["cup"] == CUP
    assert body["total_cents"] == 4000 and body["date"] == str(clock.today())
    assert body["subtotal"]["cup"] == CUP and body["subtotal"]["public_cents"] == 4000
    assert body["vat_treatment"].startswith("N4")
    # Without a CUP: the lines without one (60,00 €), not the CUP's.
    assert invoice(w, 6001).status_code == 201  # one cent of rounding is accepted
    listed = statement(w)
    assert [i["number"] for i in listed["invoices"]] == ["FT-7", listed["invoices"][1]["number"]]
    assert all(i["matches"] for i in listed["invoices"])
    assert all(row["invoiced"] for row in listed["to_invoice"])


def test_an_invoice_off_by_two_cents_is_refused_with_both_figures(world):
    w = world
    response = invoice(w, 6002)
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["code"] == "invoice_mismatch"
    assert "60,02 €" in problem["detail"] and "60,00 €" in problem["detail"]
    assert problem["invoice_cents"] == 6002 and problem["expected_cents"] == 6000
    assert db.session.execute(select(StatementInvoice)).first() is None


def test_an_invoice_with_a_foreign_cup_is_refused(world):
    w = world
    response = invoice(w, 4000, cup="B22C21000000002")
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["code"] == "invoice_mismatch"
    assert "B22C21000000002" in problem["detail"] and CUP in problem["detail"]


def test_an_invoice_with_vat_is_matched_on_taxable_plus_vat(world):
    w = world
    document = invoice_xml(
        w["provider"].vat_number, lines=[(5714, "5.00")], number="IVA-1"
    )  # 57,14 € + 5 % = 2,86 € (rounded) → 60,00 €
    response = w["client"].post(
        f"{w['base']}/invoices?month={MONTH}",
        data=document,
        headers={**w["finance"], "Content-Type": "application/xml"},
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["total_cents"] == 6000
    assert "IVA 5 %" in response.get_json()["vat_treatment"]


def _post(w, document: bytes, content_type="application/xml", headers=None):
    return w["client"].post(
        f"{w['base']}/invoices?month={MONTH}",
        data=document,
        headers={**(headers or w["finance"]), "Content-Type": content_type},
    )


def test_a_document_that_is_not_a_fatturapa_is_a_validation_error(world):
    for document in (
        b"<FatturaElettronica><unclosed>",
        b'<?xml version="1.0"?><rendiconto mese="03"/>',
        b"\x00\x01 not a document",
        b"",
    ):
        response = _post(world, document)
        assert response.status_code == 422, document
        assert response.get_json()["code"] == "validation_error"
    wrong_type = _post(world, b"<x/>", content_type="application/json")
    assert wrong_type.status_code in (415, 422)


def test_an_invoice_to_private_buyers_or_from_another_seller_is_refused(world):
    w = world
    private = invoice_xml(w["provider"].vat_number, total_cents=6000, fpa=False)
    assert _post(w, private).get_json()["code"] == "validation_error"
    other = invoice_xml(f.valid_vat(), total_cents=6000)
    refused = _post(w, other)
    assert refused.status_code == 422 and refused.get_json()["code"] == "invoice_mismatch"


def test_a_signed_p7m_envelope_is_unwrapped(world):
    w = world
    signed = p7m(invoice_xml(w["provider"].vat_number, total_cents=6000, number="P7M-1"))
    response = _post(w, signed, content_type="application/pkcs7-mime")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["number"] == "P7M-1"
    record = db.session.execute(select(StatementInvoice)).scalar_one()
    assert record.content_type == "application/pkcs7-mime" and record.document == signed


def test_the_same_amount_is_not_invoiced_twice(world):
    w = world
    assert invoice(w, 6000, number="A-1").status_code == 201
    assert invoice(w, 6000, number="A-1").status_code == 409  # the same document again
    second = invoice(w, 6000, number="A-2")
    assert second.status_code == 409
    assert "A-1" in second.get_json()["detail"]


def test_the_provider_sends_its_own_invoices_only(world, client):
    w = world
    own = headers_for(client, "provider", provider=w["provider"])
    document = invoice_xml(w["provider"].vat_number, total_cents=6000, number="OWN-1")
    assert _post(w, document, headers=own).status_code == 201
    other = make_provider(YEAR)
    response = client.post(
        f"/api/v1/reports/providers/{other.id}/statement/invoices?month={MONTH}",
        data=document,
        headers={**own, "Content-Type": "application/xml"},
    )
    assert response.status_code == 404
    social = headers_for(client, "social_worker")
    assert _post(w, document, headers=social).status_code == 403


def test_an_invoice_that_no_longer_matches_blocks_the_payment(world):
    """Sent while the month was open; a late redemption changed the amount before approval."""
    w = world
    make_payable(w["provider"])
    invoice(w, 6000)
    invoice(w, 4000, cup=CUP)
    voucher_code = statement(w)["lines"][0]["voucher_code"]
    from voucher.models import Voucher

    voucher = db.session.execute(select(Voucher).where(Voucher.code == voucher_code)).scalar_one()
    w["ledger"].redeem(w["provider"], voucher, "A1", date(YEAR, 3, 20), quantity="1")
    approve(w)
    data = statement(w)
    assert [i["matches"] for i in data["invoices"]].count(False) == 1
    response = pay(w)
    assert response.get_json()["reasons"] == ["invoice_missing"]


def test_a_contribution_scheme_needs_no_invoice(app, client):
    f.make_ente()
    scheme = make_scheme(YEAR, "A", legal_model="contribution")
    provider = make_provider(YEAR)
    Ledger().redeem(
        provider,
        issue(scheme, f.make_beneficiary(categories=["elderly_dependent"])),
        "A1",
        date(YEAR, 3, 3),
        quantity="1",
    )
    make_payable(provider)
    w = {
        "client": client,
        "admin": headers_for(client, "admin"),
        "finance": headers_for(client, "finance"),
        "base": f"/api/v1/reports/providers/{provider.id}/statement",
    }
    approve(w)
    data = statement(w)
    assert data["legal_models"] == ["contribution"]
    assert data["subtotals"][0]["purchase_cents"] == 0 and data["to_invoice"] == []
    assert pay(w).status_code == 200


def test_payment_data_is_checked_audited_and_shown_to_who_needs_it(world, client):
    w = world
    url = f"/api/v1/providers/{w['provider'].id}"
    bad = client.patch(url, json={"iban": "IT60X0542811101000000123457"}, headers=w["admin"])
    assert bad.status_code == 422 and "iban" in bad.get_json()["errors"]
    foreign = client.patch(url, json={"iban": "DE89370400440532013000"}, headers=w["admin"])
    assert foreign.status_code == 422
    bad_cf = client.patch(url, json={"fiscal_code": "RSSMRA80A01H501X"}, headers=w["admin"])
    assert bad_cf.status_code == 422 and "fiscal_code" in bad_cf.get_json()["errors"]
    ok = client.patch(
        url,
        json={
            "iban": "it60 x054 2811 1010 0000 0123 456",
            "fiscal_code": w["provider"].vat_number,
            "durc_valid_until": str(clock.today() + timedelta(days=20)),
            "dedicated_account_declared": True,
        },
        headers=w["admin"],
    )
    assert ok.status_code == 200
    assert ok.get_json()["iban"] == IBAN
    assert client.patch(url, json={"iban": IBAN}, headers=w["finance"]).status_code == 403
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "provider.payment_data_changed")
    ).scalar_one()
    assert event.data["iban"] == {"from": None, "to": IBAN}
    assert event.data["dedicated_account_declared"] == {"from": False, "to": True}

    assert client.get(url, headers=w["finance"]).get_json()["iban"] == IBAN
    for role in ("social_worker", "auditor"):
        shown = client.get(url, headers=headers_for(client, role)).get_json()
        assert "iban" not in shown and shown["vat_number"] == w["provider"].vat_number

    notices = client.get("/api/v1/providers/durc-notices", headers=w["finance"]).get_json()
    mine = [n for n in notices if n["provider_id"] == w["provider"].id]
    assert mine == [
        {
            "provider_id": w["provider"].id,
            "provider_name": w["provider"].name,
            "vat_number": w["provider"].vat_number,
            "durc_valid_until": str(clock.today() + timedelta(days=20)),
            "days_left": 20,
            "state": "expiring",
        }
    ]
    social = headers_for(client, "social_worker")
    assert client.get("/api/v1/providers/durc-notices", headers=social).status_code == 403
