"""The ragioneria's home: approved statements to pay, blocked payments with every reason in
words, payments made, DURC to renew, and the month's summary; only `finance` opens it."""

from datetime import timedelta

import pytest
from markupsafe import escape

from tests import factories as f
from tests.fatturapa import invoice_xml
from tests.reports.world import make_payable
from tests.web.reports_world import MONTH, YEAR, build
from voucher.extensions import db
from voucher.periods import Month
from voucher.reports.statement import statement_report
from voucher.services import SYSTEM, clock, payments, statements
from voucher.services.money import format_euro
from voucher.web.labels import PAYMENT_BLOCK_LABELS

FEBRUARY = f"{YEAR}-02"
PAGE = "/rendiconti/ragioneria"


@pytest.fixture
def world(app, client):
    """The provider's February paid and its March approved and invoiced (ready to pay); the
    other provider's March approved, with no payment data (blocked)."""
    w = build(client)
    w.users["finance"] = f.make_user("finance")
    march, february = Month.parse(MONTH), Month.parse(FEBRUARY)
    for provider, month in ((w.provider, february), (w.provider, march), (w.other, march)):
        statements.approve_statement(SYSTEM, provider, month)
    make_payable(w.provider, durc_valid_until=clock.today() + timedelta(days=10))
    for item in statement_report(w.provider, march)["to_invoice"]:
        document = invoice_xml(w.provider.vat_number, total_cents=item["cents"], cup=item["cup"])
        payments.record_invoice(SYSTEM, w.provider, march, document)
    payments.mark_paid(
        f.actor(w.users["finance"]), w.provider, february, "Mandato 7/2026", clock.today()
    )
    db.session.commit()
    return w


def _section(html: str, name: str) -> str:
    return html.split(f'id="{name}-title"')[1].split("</section>")[0]


def test_the_finance_home_lists_what_to_pay_what_is_blocked_and_what_was_paid(world, app):
    w = world
    client = w.login("finance")
    home = client.get("/").get_data(as_text=True)
    assert f'href="{PAGE}"' in home and "Pagamenti ai fornitori" in home

    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<h1") == 1
    march_public = statement_report(w.provider, Month.parse(MONTH))["total_public_cents"]

    ready = _section(html, "ready")
    assert w.provider.name in ready and w.other.name not in ready
    assert f"marzo {YEAR}" in ready and format_euro(march_public) in ready
    assert f'href="/rendiconti/fornitori/{w.provider.id}?month={MONTH}"' in ready

    blocked = _section(html, "blocked")
    assert w.other.name in blocked and w.provider.name not in blocked
    for reason in ("missing_iban", "durc_expired", "dedicated_account_missing"):
        assert str(escape(PAYMENT_BLOCK_LABELS[reason])) in blocked
    assert str(escape(PAYMENT_BLOCK_LABELS["invoice_missing"])) not in blocked  # nothing to bill

    paid = _section(html, "paid")
    assert w.provider.name in paid and "Mandato 7/2026" in paid
    assert f"febbraio {YEAR}" in paid and clock.today().strftime("%d/%m/%Y") in paid

    durc = _section(html, "durc")
    other_row = durc.split(w.other.name)[1].split("</tr>")[0]
    assert "Non registrato" in other_row
    own_row = durc.split(w.provider.name)[1].split("</tr>")[0]
    expiry = (clock.today() + timedelta(days=10)).strftime("%d/%m/%Y")
    assert "Scade tra 10 giorni" in own_row and expiry in own_row

    # The month chosen: how many of its statements are to pay, blocked and paid.
    html = client.get(f"{PAGE}?month={MONTH}").get_data(as_text=True)
    assert f'id="month-ready">1 rendiconto — {format_euro(march_public)}<' in html
    assert f'id="month-blocked">1 rendiconto — {format_euro(0)}<' in html
    assert 'id="month-paid">0 rendiconti' in html
    has_proposal = "reports.liquidation" in app.view_functions
    link = f'href="/rendiconti/liquidazione?month={MONTH}"'
    assert ('id="liquidation-link"' in html) == has_proposal and (link in html) == has_proposal
    html = client.get(f"{PAGE}?month={FEBRUARY}").get_data(as_text=True)
    assert 'id="month-paid">1 rendiconto' in html and 'id="month-ready">0 rendiconti' in html

    bad = client.get(f"{PAGE}?month=2026-13")
    assert bad.status_code == 400 and "Mese non valido" in bad.get_data(as_text=True)


def test_only_the_ragioneria_opens_its_home(app, client):
    f.make_ente()
    provider = f.make_provider()
    for role in ("admin", "auditor", "social_worker", "provider"):
        f.login(client, f.make_user(role, provider=provider if role == "provider" else None))
        response = client.get(PAGE)
        assert response.status_code == 403, role
        assert "Accesso non consentito" in response.get_data(as_text=True)
        assert f'href="{PAGE}"' not in client.get("/").get_data(as_text=True), role
        client.post("/esci")
