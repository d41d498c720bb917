"""The demo data: `flask --app voucher demo` on an empty database, on both backends."""

from datetime import date, timedelta

import pytest
from codicefiscale.data import get_municipalities_data
from sqlalchemy import func, select
from stdnum.it import iva

from tests import factories as f
from voucher.demo import COMUNI, demo_period
from voucher.extensions import db
from voucher.models import (
    Beneficiary,
    Comune,
    LedgerEntry,
    Provider,
    Scheme,
    Statement,
    StatementInvoice,
    User,
    Voucher,
)
from voucher.periods import Month
from voucher.services import clock, payments
from voucher.services.audit_verify import verify_chain


def _rows(output: str, kind: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines() if line.split()[:1] == [kind]]


def test_demo_fills_an_empty_database_consistently(app, client, runner):
    result = runner.invoke(args=["demo", "--password", f.PASSWORD])
    assert result.exit_code == 0, result.output

    staff = {u.username: u.role for u in db.session.execute(select(User)).scalars()}
    assert staff == {
        "admin": "admin",
        "assistente": "social_worker",
        "operatore": "provider",
        "revisore": "auditor",
        "ragioneria": "finance",
    }
    for role, username in (("admin", "admin"), ("auditor", "revisore"), ("finance", "ragioneria")):
        assert _rows(result.output, role)[0][1:3] == [username, f.PASSWORD]

    all_schemes = db.session.execute(select(Scheme)).scalars().all()
    assert {(s.fund_code, s.area) for s in all_schemes} == {
        ("FSC_OS", "A"),
        ("FSC_OS", "B"),
        ("FSC_OS", "C"),
        ("FONDO_POVERTA", "P"),
        ("PNRR", "C"),
    }
    assert all(s.status == "active" and s.valid_from < clock.today() for s in all_schemes)
    assert [s.cup for s in all_schemes if s.fund_code == "PNRR"][0]
    assert any(s.copay_bands for s in all_schemes)
    assert {s.legal_model for s in all_schemes} == {"purchase", "contribution"}

    all_providers = db.session.execute(select(Provider)).scalars().all()
    assert 4 <= len(all_providers) <= 6
    assert all(iva.is_valid(p.vat_number) for p in all_providers)
    assert [p.status for p in all_providers].count("suspended") == 1

    people = db.session.execute(select(func.count()).select_from(Beneficiary)).scalar_one()
    assert 35 <= people <= 50
    all_vouchers = db.session.execute(select(Voucher)).scalars().all()
    assert 50 <= len(all_vouchers) <= 70
    statuses = [v.status for v in all_vouchers]
    assert statuses.count("revoked") == 1 and statuses.count("exhausted") == 1

    kinds = dict(
        db.session.execute(select(LedgerEntry.kind, func.count()).group_by(LedgerEntry.kind)).all()
    )
    assert 120 <= kinds["redemption"] <= 200 and kinds["reversal"] == 3
    assert (
        db.session.execute(
            select(func.count()).where(LedgerEntry.service_date >= clock.today())
        ).scalar_one()
        == 0
    )
    public = dict(
        db.session.execute(
            select(LedgerEntry.voucher_id, func.sum(LedgerEntry.public_cents)).group_by(
                LedgerEntry.voucher_id
            )
        ).all()
    )
    for voucher in all_vouchers:
        assert voucher.value_cents - public.get(voucher.id, 0) == voucher.balance_cents >= 0

    assert verify_chain().ok
    _assert_every_payment_state(all_providers)

    [api_key_row] = _rows(result.output, "chiave-api")
    response = client.get("/api/v1/services", headers={"Authorization": f"Bearer {api_key_row[2]}"})
    assert response.status_code == 200
    response = client.post("/api/v1/auth/token", json={"username": "admin", "password": f.PASSWORD})
    assert response.status_code == 200
    shown = _rows(result.output, "buono")
    assert len(shown) == 2
    assert {row[1] for row in shown} <= {v.code for v in all_vouchers if v.status == "active"}

    again = runner.invoke(args=["demo", "--password", f.PASSWORD])
    assert again.exit_code != 0
    assert len(again.output.strip().splitlines()) == 1


def _assert_every_payment_state(all_providers):
    """A paid statement, one ready to pay, and payments blocked for each kind of reason,
    among them an invoice that no longer matches its statement."""
    paid = db.session.execute(select(Statement).where(Statement.status == "paid")).scalars().all()
    assert len(paid) == 1 and paid[0].payment_reference and paid[0].paid_on == clock.today()
    blocked = {}
    for statement in db.session.execute(
        select(Statement).where(Statement.status == "approved")
    ).scalars():
        provider = db.session.get(Provider, statement.provider_id)
        state = payments.payment_state(provider, Month.parse(statement.month))
        blocked[provider.name] = (state["blocked_reasons"], state["invoices"])
    assert sorted(reasons for reasons, _invoices in blocked.values()) == [
        [],
        ["durc_expired", "invoice_missing"],
        ["invoice_missing"],
        ["missing_iban"],
    ]
    ready = next(invoices for reasons, invoices in blocked.values() if not reasons)
    assert ready and all(invoice["matches"] for invoice in ready)
    mismatched = next(
        invoices for reasons, invoices in blocked.values() if reasons == ["invoice_missing"]
    )
    assert mismatched and not any(invoice["matches"] for invoice in mismatched)
    assert db.session.execute(select(func.count()).select_from(StatementInvoice)).scalar_one() >= 3

    notices = {n["provider_name"]: n["state"] for n in payments.durc_notices()}
    assert sorted(notices.values()) == ["expired", "expiring", "missing"]
    active = [p for p in all_providers if p.status == "active"]
    assert all(p.fiscal_code for p in active)
    assert sum(1 for p in active if p.iban is None) == 1


def test_demo_refuses_a_database_with_users(app, runner):
    f.make_user("admin")
    result = runner.invoke(args=["demo"])
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1
    assert db.session.execute(select(func.count()).select_from(Comune)).scalar_one() == 0


def test_demo_refuses_a_weak_password_in_one_line(app, runner):
    result = runner.invoke(args=["demo", "--password", "corta"])
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1
    assert db.session.execute(select(func.count()).select_from(User)).scalar_one() == 0


def test_demo_comuni_match_the_belfiore_register():
    active = {(m["name"].lower(), m["code"]) for m in get_municipalities_data() if m["active"]}
    for istat, belfiore, name, _weight in COMUNI:
        assert (name.lower(), belfiore) in active
        assert istat.startswith("048")  # the Città metropolitana di Firenze


@pytest.mark.parametrize(
    "today", [date(2026, 1, 1), date(2026, 8, 31), date(2026, 11, 22), date(2028, 2, 29)]
)
def test_demo_period_has_history_behind_and_validity_ahead(today):
    start, end = demo_period(today)
    assert start.day == 1 and (today - start).days >= 240
    assert (end - today).days >= 90
    assert end + timedelta(days=1) == date(start.year + 1, start.month, 1)
