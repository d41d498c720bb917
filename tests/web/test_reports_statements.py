"""Provider statements on the pages: choose provider and month, read lines and totals, approve
(with a confirmation) and record the payment; refusals are messages; the provider follows
the status of its own statements."""

import re

import pytest
from sqlalchemy import select

from tests import factories as f
from tests.web.reports_world import MONTH, YEAR, build
from voucher.extensions import db
from voucher.models import Statement
from voucher.services import clock
from voucher.services.money import format_euro


@pytest.fixture
def world(app, client):
    w = build(client)
    w.login("admin")
    return w


def _statement(w):
    return db.session.execute(
        select(Statement).where(Statement.provider_id == w.provider.id, Statement.month == MONTH)
    ).scalar_one_or_none()


def _approve(w, month=MONTH):
    return w.client.post(f"/rendiconti/fornitori/{w.provider.id}/approva", data={"month": month})


def _pay(w, **data):
    body = {"month": MONTH, "reference": "Mandato 123/2025", "paid_on": clock.today().isoformat()}
    body.update(data)
    return w.client.post(f"/rendiconti/fornitori/{w.provider.id}/pagamento", data=body)


def test_choosing_provider_and_month_opens_the_statement(world):
    w = world
    html = w.client.get("/rendiconti/fornitori").get_data(as_text=True)
    assert f'<option value="{w.provider.id}">{w.provider.name}' in html
    assert "is-invalid" not in html  # nothing chosen yet is no error
    only_month = w.client.get(f"/rendiconti/fornitori?month={MONTH}")
    assert only_month.status_code == 400
    assert "Scegliere un fornitore" in only_month.get_data(as_text=True)
    response = w.client.get(f"/rendiconti/fornitori?provider={w.provider.id}&month={MONTH}")
    assert response.status_code == 302
    assert response.headers["Location"] == w.statement_url()


def test_statement_page_shows_lines_and_totals_of_the_report(world):
    w = world
    api = w.client.get(
        f"/api/v1/reports/providers/{w.provider.id}/statement?month={MONTH}",
        headers=f.api_token(w.client, w.users["admin"]),
    ).get_json()
    html = w.client.get(w.statement_url()).get_data(as_text=True)
    assert "Aperto" in html and "marzo" in html.lower()
    assert f'id="total-public">{format_euro(api["total_public_cents"])}<' in html
    assert f'id="total-copay">{format_euro(api["total_copay_cents"])}<' in html
    assert f'id="total-lines">{len(api["lines"])}<' in html
    assert html.count('<tr class="app-reversal">') == 2
    for line in api["lines"]:
        assert line["voucher_code"] in html
    assert 'data-confirm="Approvare il rendiconto' in html


def test_approve_then_pay(world):
    w = world
    response = _approve(w)
    assert response.status_code == 302 and response.headers["Location"] == w.statement_url()
    statement = _statement(w)
    assert statement.status == "approved" and statement.approved_by_id == w.users["admin"].id
    html = w.client.get(w.statement_url()).get_data(as_text=True)
    assert "approvato: da ora non cambia più" in html
    assert "Approvato, da pagare" in html and "Registra il pagamento" in html
    assert "Approva il rendiconto" not in html

    listed = w.client.get("/rendiconti/fornitori").get_data(as_text=True)
    approved = listed.split('id="approved-title"')[1].split('id="paid-title"')[0]
    assert w.provider.name in approved

    again = _approve(w)
    assert again.status_code == 302
    assert "già approvato" in w.client.get(w.statement_url()).get_data(as_text=True)

    response = _pay(w)
    assert response.status_code == 302
    db.session.refresh(statement)
    assert statement.status == "paid" and statement.payment_reference == "Mandato 123/2025"
    assert statement.paid_on == clock.today()
    html = w.client.get(w.statement_url()).get_data(as_text=True)
    assert "Pagamento registrato." in html
    assert re.search(r'id="statement-status"><span class="badge bg-success">Pagato<', html)
    assert "Mandato 123/2025" in html and "Registra il pagamento" not in html
    listed = w.client.get("/rendiconti/fornitori").get_data(as_text=True)
    assert w.provider.name in listed.split('id="paid-title"')[1]

    twice = _pay(w)
    assert twice.status_code == 422
    assert "già pagato" in twice.get_data(as_text=True)

    # The Fondo Povertà report now counts the paid statement's public shares as liquidato.
    poverty = w.client.get(
        f"/api/v1/reports/fondo-poverta?year={YEAR}",
        headers=f.api_token(w.client, w.users["admin"]),
    ).get_json()
    assert poverty["totals"]["paid_cents"] > 0
    page = w.client.get(f"/rendiconti/fondo-poverta?year={YEAR}").get_data(as_text=True)
    assert f'id="total-paid">{format_euro(poverty["totals"]["paid_cents"])}<' in page

    # The provider follows it from its own area.
    w.client.post("/esci")
    w.login("provider")
    mine = w.client.get("/rendiconti/miei-rendiconti").get_data(as_text=True)
    assert MONTH in mine and "Pagato" in mine and "Mandato 123/2025" in mine
    own = w.client.get(w.statement_url()).get_data(as_text=True)
    assert "Pagato" in own and "Registra il pagamento" not in own


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reference": ""}, "Indicare il riferimento del pagamento"),
        ({"reference": "x" * 101}, "Al massimo 100 caratteri"),
        ({"paid_on": ""}, "Indicare la data del pagamento"),
        ({"paid_on": "2026-02-30"}, "Non è una data valida"),
        ({"paid_on": "2999-01-01"}, "nel futuro"),
        ({"paid_on": f"{YEAR}-01-02"}, "precede l&#39;approvazione"),
    ],
)
def test_payment_errors_are_shown_next_to_the_fields(world, data, message):
    _approve(world)
    response = _pay(world, **data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert _statement(world).status == "approved"


def test_payment_needs_an_approved_statement(world):
    response = _pay(world)
    assert response.status_code == 422
    assert "non è ancora approvato" in response.get_data(as_text=True)
    assert _statement(world) is None


def test_an_unfinished_month_cannot_be_approved(world):
    w = world
    current = clock.today().strftime("%Y-%m")
    html = w.client.get(w.statement_url(month=current)).get_data(as_text=True)
    assert "Mese non concluso" in html and "Approva il rendiconto" not in html
    response = _approve(w, current)
    assert response.status_code == 302
    assert "non è ancora concluso" in w.client.get(response.headers["Location"]).get_data(
        as_text=True
    )


@pytest.mark.parametrize("month", ["", "2026-13", "marzo"])
def test_a_bad_posted_month_is_400(world, month):
    response = _approve(world, month)
    assert response.status_code == 400
    assert "Mese non valido" in response.get_data(as_text=True)


def test_late_entry_after_approval_goes_to_the_next_statement(world):
    w = world
    _approve(w)
    frozen = _statement(w).total_public_cents
    html = w.client.get(w.statement_url(month=f"{YEAR}-04")).get_data(as_text=True)
    assert "Nessuna prestazione in questo mese." in html
    html = w.client.get(w.statement_url()).get_data(as_text=True)
    assert f'id="total-public">{format_euro(frozen)}<' in html
