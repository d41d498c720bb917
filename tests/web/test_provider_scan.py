"""Reading a voucher: a typed code however it is written, the signed QR payload (as a
barcode scanner types it), a tampered payload; and the card a provider sees."""

from datetime import timedelta
from html import unescape

import pytest

from tests.web.provider_world import FIRST_NAME, LAST_NAME, make_provider_world
from voucher.extensions import db
from voucher.services import SYSTEM, clock, codes, vouchers


@pytest.fixture
def world(client):
    return make_provider_world(client)


def messy(code: str) -> str:
    """The code as a person might type it: lower case, no dashes, O for 0, spaces."""
    compact = code.replace("-", "").lower().replace("0", "o")
    return f"  {compact[:8]} {compact[8:]} "


def test_the_scan_page_offers_the_three_ways_in(world):
    html = world.client.get("/fornitore/").get_data(as_text=True)
    assert 'method="post"' in html and 'name="voucher"' in html and "autofocus" in html
    assert "Inquadra con la fotocamera" in html
    assert "Carica una foto del QR" in html
    assert "vendor/zxing-browser/zxing-browser.min.js" in html
    assert "js/provider-scan.js" in html
    assert "<script>" not in html and "style=" not in html  # the CSP forbids both


def test_a_messy_typed_code_finds_the_voucher(world):
    code = world.voucher.code
    if "0" not in code:  # make sure the O/0 confusion is exercised
        world.voucher = world.issue()
    html = world.card(messy(world.voucher.code))
    assert world.voucher.code in html
    assert "Saldo disponibile" in html


def test_the_signed_payload_finds_the_voucher_as_a_scanner_types_it(world):
    html = world.card(world.voucher.qr_payload + "\r\n")
    assert world.voucher.code in html and 'id="record-form"' in html


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p[:-2] + ("AA" if not p.endswith("AA") else "BB"),  # the signature
        lambda p: p.split(".")[0] + ".eyJjb2RlIjoiQUFBQSJ9." + p.split(".")[2],  # the claims
    ],
)
def test_a_tampered_payload_is_refused_in_italian(world, tamper):
    response = world.client.post("/fornitore/", data={"voucher": tamper(world.voucher.qr_payload)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Il QR code non è stato emesso dall'ente o è stato alterato." in unescape(html)
    assert 'role="alert"' in html and 'aria-invalid="true"' in html
    assert world.voucher.code not in html


@pytest.mark.parametrize("typed", ["", "ABC", "K7QM-3XRT-9WBC-HN4", "x" * 3000, "a.b.c", "%00"])
def test_nonsense_is_explained_never_an_error_page(world, typed):
    response = world.client.post("/fornitore/", data={"voucher": typed})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html


def test_an_unknown_code_is_not_found(world):
    response = world.client.post("/fornitore/", data={"voucher": codes.generate_code()})
    assert "Nessun buono con questo codice." in response.get_data(as_text=True)


def test_the_card_shows_what_the_provider_needs_and_initials_only(world):
    html = unescape(world.card(world.voucher.code))
    for text in (
        "Attivo",
        "25 ore (500,00 €)",  # balance in units and euro
        "dal 01/01/",
        "M.Q.",
        "A1 — Assistenza domiciliare sociale per anziani autosufficienti",
        "Altri servizi pagati dal buono: A2 Pasti a domicilio",  # not accredited for A2
        "200,00 €",  # the limit per service
        "20,00 € per unità (ore)",
        "Il buono paga l'intero costo.",
    ):
        assert text in html, text
    for secret in (FIRST_NAME, LAST_NAME, world.person.fiscal_code):
        assert secret not in html
        assert secret.lower() not in html.lower()


def test_the_card_of_a_euro_voucher_shows_the_coverage(world):
    html = world.card(world.eur_voucher.qr_payload)
    assert "300,00 €" in html
    assert (
        "Il buono paga il 75% del costo; la famiglia paga a voi il 25% (compartecipazione)." in html
    )
    assert 'name="amount"' in html and 'name="quantity"' not in html


def _expire(voucher):
    voucher.valid_from = clock.today() - timedelta(days=30)
    voucher.valid_until = clock.today() - timedelta(days=1)


def _not_yet(voucher):
    voucher.valid_from = clock.today() + timedelta(days=1)
    voucher.valid_until = clock.today() + timedelta(days=30)


def _exhaust(voucher):
    voucher.balance_cents, voucher.status = 0, "exhausted"


STATES = {
    "revoked": (
        lambda v: vouchers.revoke_voucher(SYSTEM, v, "smarrito"),
        "Il buono è stato revocato.",
    ),
    "suspended": (
        lambda v: vouchers.suspend_voucher(SYSTEM, v, "verifica"),
        "Il buono è sospeso: il beneficiario contatti il servizio sociale.",
    ),
    "expired": (_expire, "Il buono è scaduto il "),
    "not_yet_valid": (_not_yet, "Il buono è valido dal "),
    "exhausted": (_exhaust, "Il buono non ha più credito."),
}


@pytest.mark.parametrize("state", STATES)
def test_an_unusable_voucher_shows_why_and_no_form(world, state):
    change, message = STATES[state]
    change(world.voucher)
    db.session.commit()
    html = world.card(world.voucher.code)
    assert "Il buono non può essere usato" in html
    assert message in html
    assert 'id="record-form"' not in html


def test_a_suspended_provider_cannot_record(world):
    from voucher.services import providers

    providers.suspend_provider(SYSTEM, world.provider, "verifica")
    db.session.commit()
    html = world.card(world.voucher.code)
    assert "Non potete registrare prestazioni su questo buono" in html
    assert 'id="record-form"' not in html
