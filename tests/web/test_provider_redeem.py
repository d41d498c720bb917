"""Recording a service from the pages: the form, the preview, the confirmation, the
receipt, one record however often the form is sent, and every refusal in plain Italian."""

import re
from datetime import timedelta

import pytest

from tests.web.provider_world import FIRST_NAME, LAST_NAME, ledger_count, make_provider_world
from voucher.extensions import db
from voucher.models import LedgerEntry
from voucher.services import SYSTEM, clock, vouchers


@pytest.fixture
def world(client):
    return make_provider_world(client)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def entries_of(voucher) -> list[LedgerEntry]:
    db.session.expire_all()
    return list(db.session.query(LedgerEntry).filter_by(voucher_id=voucher.id))


def test_the_form_offers_the_accredited_services_today_and_an_idempotency_key(world):
    html = world.card(world.voucher.code)
    assert '<option selected value="A1">' in html  # the one accredited service, chosen
    assert 'value="A2"' not in html and 'value="A3"' not in html
    assert f'value="{clock.today().isoformat()}"' in html
    assert f'max="{clock.today().isoformat()}"' in html
    assert 'name="quantity"' in html and 'name="amount"' not in html
    keys = {
        re.search(r'name="key" type="hidden" value="([^"]+)"', world.card(world.voucher.code))[1]
        for _ in range(2)
    }
    assert len(keys) == 2  # a new key each time the form is shown


def test_preview_confirm_and_receipt_by_the_hour(world):
    data = world.form(quantity="2,5")
    preview = world.client.post("/fornitore/anteprima", data=data)
    html = text_of(preview)
    assert preview.status_code == 200
    for text in ("Conferma la prestazione", "2,5 ore × 20,00 €", "50,00 €", "22,5 ore (450,00 €)"):
        assert text in html, text
    assert ledger_count(world.voucher) == 0  # the preview records nothing

    confirmed = world.client.post("/fornitore/conferma", data=data)
    assert confirmed.status_code == 302
    (entry,) = entries_of(world.voucher)
    assert confirmed.headers["Location"] == f"/fornitore/prestazioni/{entry.id}/ricevuta"
    assert world.voucher.code not in confirmed.headers["Location"]
    assert entry.idempotency_key == data["key"] and entry.amount_cents == 5_000
    receipt = text_of(world.client.get(confirmed.headers["Location"]))
    for text in (
        "Prestazione registrata.",
        f"Ricevuta della prestazione n. {entry.id}",
        world.voucher.code,
        "A1 — Assistenza domiciliare sociale per anziani autosufficienti",
        clock.today().strftime("%d/%m/%Y"),
        "2,5 ore",
        "Stampa la ricevuta",
        "22,5 ore (450,00 €)",
    ):
        assert text in receipt, text
    for secret in (FIRST_NAME, LAST_NAME, world.person.fiscal_code):
        assert secret not in html and secret not in receipt


def test_a_euro_service_with_co_payment(world):
    data = world.form(world.eur_voucher, amount="12,55")
    html = text_of(world.client.post("/fornitore/anteprima", data=data))
    # 12,55 € at 75%: 9,4125 € from the voucher, rounded to 9,41 €; 3,14 € from the family.
    assert 'id="quote-cost">12,55 €' in html
    assert 'id="quote-public">9,41 €' in html
    assert 'id="quote-copay">3,14 €' in html
    assert "Ricordate di farvi pagare 3,14 € dalla famiglia" in html
    world.client.post("/fornitore/conferma", data=data)
    (entry,) = entries_of(world.eur_voucher)
    assert (entry.amount_cents, entry.public_cents, entry.copay_cents) == (1255, 941, 314)
    assert entry.quantity is None


def test_half_cents_round_up_like_the_services(world):
    # 0,06 € at 75% is 4,5 cents: half-up gives 5 (banker's rounding would give 4).
    data = world.form(world.eur_voucher, amount="0,06")
    html = text_of(world.client.post("/fornitore/anteprima", data=data))
    assert 'id="quote-public">0,05 €' in html and 'id="quote-copay">0,01 €' in html


@pytest.mark.parametrize("typed", ["1.5", "1,50", " 1,5 "])
def test_quantities_take_a_comma_or_a_dot(world, typed):
    html = text_of(world.client.post("/fornitore/anteprima", data=world.form(quantity=typed)))
    assert 'id="quote-cost">30,00 €' in html


@pytest.mark.parametrize(
    "typed, message",
    [
        ("1,555", "Quantità non valida: scrivere ad esempio 1,5 (al massimo due decimali)."),
        ("-1", "Quantità non valida"),
        ("0", "La quantità deve essere maggiore di zero."),
        ("", "Indicare la quantità."),
        ("1.000,5", "Quantità non valida"),
    ],
)
def test_bad_quantities_are_explained(world, typed, message):
    response = world.client.post("/fornitore/anteprima", data=world.form(quantity=typed))
    assert response.status_code == 200
    html = text_of(response)
    assert message in html and 'aria-invalid="true"' in html
    assert 'id="record-form"' in html


def test_a_bad_amount_is_explained(world):
    html = text_of(
        world.client.post(
            "/fornitore/anteprima", data=world.form(world.eur_voucher, amount="12,5,0")
        )
    )
    assert "Importo non valido: scrivere ad esempio 1.234,56." in html


def test_a_future_date_is_refused(world):
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    data = world.form(quantity="1", service_date=tomorrow)
    for url in ("/fornitore/anteprima", "/fornitore/conferma"):
        html = text_of(world.client.post(url, data=data))
        assert "La data della prestazione non può essere nel futuro." in html
    assert ledger_count(world.voucher) == 0


def test_a_bad_date_is_explained(world):
    html = text_of(
        world.client.post(
            "/fornitore/anteprima", data=world.form(quantity="1", service_date="31/02")
        )
    )
    assert "Non è una data valida" in html


def test_edit_goes_back_to_the_form_with_the_values(world):
    data = world.form(quantity="3")
    html = text_of(world.client.post("/fornitore/anteprima", data={**data, "edit": "1"}))
    assert 'id="record-form"' in html and 'value="3"' in html and data["key"] in html
    assert "is-invalid" not in html


def test_double_submit_and_reload_record_once(world):
    data = world.form(quantity="1")
    first = world.client.post("/fornitore/conferma", data=data)
    second = world.client.post("/fornitore/conferma", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert ledger_count(world.voucher) == 1
    db.session.refresh(world.voucher)
    assert world.voucher.balance_cents == 48_000
    page = text_of(world.client.get(second.headers["Location"]))
    assert "Questa prestazione era già stata registrata: nessun nuovo addebito." in page


def test_the_same_form_changed_after_confirming_records_nothing_more(world):
    data = world.form(quantity="1")
    world.client.post("/fornitore/conferma", data=data)
    response = world.client.post(
        "/fornitore/conferma", data={**data, "quantity": "2"}, follow_redirects=True
    )
    assert "Questo modulo è già stato usato per registrare una prestazione" in text_of(response)
    assert ledger_count(world.voucher) == 1


def test_a_form_without_its_voucher_or_key_starts_again(world):
    data = world.form(quantity="1")
    broken_forms = (
        {**data, "voucher": ""},
        {**data, "key": ""},
        {**data, "key": "a\x00b"},
        {**data, "key": "k" * 256},
        {**data, "voucher": "nonsense"},
    )
    for broken in broken_forms:
        response = world.client.post("/fornitore/conferma", data=broken, follow_redirects=True)
        assert response.status_code == 200
        assert "Il modulo è incompleto: leggere di nuovo il buono." in text_of(response)
    assert ledger_count(world.voucher) == 0


def _state(world, change):
    change(world.voucher)
    db.session.commit()


def _set(**values):
    def change(voucher):
        for name, value in values.items():
            setattr(voucher, name, value)

    return change


REFUSALS = {
    "not_accredited": (
        {"service_code": "A2"},
        None,
        "Il fornitore non è accreditato per questo servizio alla data indicata.",
    ),
    "service_not_in_scheme": (
        {"service_code": "A3"},
        None,
        "Il servizio non è tra quelli pagati da questo buono.",
    ),
    "over_limit": (
        {"quantity": "10,5"},
        None,
        "Il costo supera il limite di 200,00 € per prestazione.",
    ),
    "insufficient_balance": (
        {"quantity": "2"},
        _set(balance_cents=1_000),
        "Credito insufficiente: disponibili 10,00 €.",
    ),
    "revoked": (
        {},
        lambda v: vouchers.revoke_voucher(SYSTEM, v, "smarrito"),
        "Il buono è stato revocato.",
    ),
    "suspended": (
        {},
        lambda v: vouchers.suspend_voucher(SYSTEM, v, "verifica"),
        "Il buono è sospeso: il beneficiario contatti il servizio sociale.",
    ),
    "expired": (
        {},
        _set(
            valid_from=clock.today() - timedelta(days=30),
            valid_until=clock.today() - timedelta(days=1),
        ),
        "Il buono è scaduto il ",
    ),
    "not_yet_valid": (
        {},
        _set(
            valid_from=clock.today() + timedelta(days=1),
            valid_until=clock.today() + timedelta(days=9),
        ),
        "Il buono è valido dal ",
    ),
    "exhausted": ({}, _set(balance_cents=0, status="exhausted"), "Il buono non ha più credito."),
}


@pytest.mark.parametrize("name", REFUSALS)
@pytest.mark.parametrize("url", ["/fornitore/anteprima", "/fornitore/conferma"])
def test_every_refusal_is_explained_on_the_page(world, name, url):
    values, change, message = REFUSALS[name]
    data = world.form(**{"quantity": "1", **values})
    if change is not None:
        _state(world, change)  # the voucher changed after the card was shown
    response = world.client.post(url, data=data)
    assert response.status_code == 200
    html = text_of(response)
    assert message in html, html[html.find("<main") :][:3000]
    assert 'role="alert"' in html
    assert ledger_count(world.voucher) == 0


def test_the_balance_is_shown_with_an_insufficient_balance(world):
    world.voucher.balance_cents = 1_050
    db.session.commit()
    html = text_of(world.client.post("/fornitore/anteprima", data=world.form(quantity="1")))
    assert "Credito insufficiente: disponibili 10,50 €." in html
    assert "0,52 ore (10,50 €)" in html  # the card's balance, in hours and euro
