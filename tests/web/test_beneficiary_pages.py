"""The beneficiaries' self-service pages: code and PIN, then balance, history, providers and
the letter; the same page for a wrong code and a wrong PIN; the lockout; short sessions; and
no code, PIN or personal data in any URL or log line."""

import io
import logging
import re
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from tests import factories as f
from tests.api.voucher_world import make_world
from voucher.extensions import db
from voucher.services import SYSTEM, clock, codes, issuance, redemption, vouchers
from voucher.services.redemption import RedemptionRequest

CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]*(")')
LINKS = re.compile(r'(?:href|action|src)="([^"]*)"')


@pytest.fixture
def world(client, app):
    return make_world(client)


def sign_in(client, code, pin, **kwargs):
    return client.post("/saldo", data={"code": code, "pin": pin}, **kwargs)


def wrong_pin(pin: str) -> str:
    return f"{(int(pin) + 1) % 10**6:06d}"


def without_csrf(html: str) -> str:
    return CSRF_VALUE.sub(r"\1\2", html)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def test_the_form_speaks_plainly_and_keeps_the_pin_out_of_autofill(client, app):
    response = client.get("/saldo")
    html = text_of(response)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert html.count("<h1") == 1 and "Controlla il tuo buono" in html
    assert '<label for="code"' in html and '<label for="pin"' in html
    pin_input = re.search(r'<input[^>]*id="pin"[^>]*>', html).group(0)
    assert 'type="password"' in pin_input and 'autocomplete="off"' in pin_input
    assert 'inputmode="numeric"' in pin_input and 'aria-describedby="pin-help"' in pin_input
    assert "Dove trovo codice e PIN?" in html and "accanto al QR code" in html
    assert 'method="post"' in html and 'action="/saldo"' in html
    assert "js/beneficiary-form.js" in html and "css/beneficiary.css" in html


def test_the_home_page_leads_here(client, app):
    assert 'href="/saldo"' in text_of(client.get("/"))


def test_success_shows_balance_history_providers_and_the_letter(world):
    voucher, pin = world.issue()
    provider = world.provider
    provider.phone, provider.email = "055 4455", "info@coop.example"
    provider.address = "Via Roma 1, Firenze"
    first, _ = redemption.redeem(
        SYSTEM,
        provider.id,
        RedemptionRequest(voucher.code, "A1", clock.today(), quantity=1.5),
        "k1",
    )
    redemption.redeem(
        SYSTEM,
        provider.id,
        RedemptionRequest(voucher.code, "A2", clock.today(), amount_cents=800),
        "k2",
    )
    redemption.reverse_redemption(SYSTEM, first.id, "Errore")
    other = f.make_provider(services=("B1",))  # not for this voucher's services
    db.session.commit()

    response = sign_in(world.client, voucher.code.lower().replace("-", " "), pin)
    assert response.status_code == 303
    assert response.headers["Location"] == "/saldo/buono"
    page = world.client.get("/saldo/buono")
    html = text_of(page)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert html.count("<h1") == 1
    assert "492,00 €" in html and "500,00 €" in html
    assert "pari a 24,6 ore di servizio" in html  # 492 € at 20 € an hour
    assert "Attivo" in html and "Il buono si può usare" in html
    valid = f"{voucher.valid_from:%d/%m/%Y} al {voucher.valid_until:%d/%m/%Y}"
    assert valid in html
    assert world.scheme.name in html and "20,00 € per ora" in html
    history = re.search(r'<table class="table app-history".*?</table>', html, re.S).group(0)
    assert history.count("<tr") == 4  # the head, two services and the reversal
    assert "1,5 ore" in history and "30,00 €" in history and "-30,00 €" in history
    assert "8,00 €" in history and "Annullamento" in history
    assert "Pasti a domicilio" in history and provider.name in history
    assert 'href="tel:0554455"' in html and 'href="mailto:info@coop.example"' in html
    assert "Via Roma 1, Firenze" in html and other.name not in html
    assert 'href="/saldo/buono/lettera.pdf"' in html
    assert 'action="/saldo/esci"' in html
    assert world.person.fiscal_code not in html and world.person.last_name not in html


def test_coverage_and_co_payment_are_shown(client, app):
    world = make_world(client, copay_bands=[{"isee_max_cents": 5_000_000, "coverage_percent": 70}])
    voucher, pin = world.issue()
    redemption.redeem(
        SYSTEM,
        world.provider.id,
        RedemptionRequest(voucher.code, "A2", clock.today(), amount_cents=1000),
        "k1",
    )
    db.session.commit()
    sign_in(client, voucher.code, pin)
    html = text_of(client.get("/saldo/buono"))
    assert "il restante 30% lo paghi tu" in html
    assert "il buono ne paga il 70% del costo" in html
    history = re.search(r'<table class="table app-history".*?</table>', html, re.S).group(0)
    assert "7,00 €" in history and "3,00 €" in history


def test_a_euro_scheme_shows_no_units_and_no_providers_says_whom_to_call(client, app):
    f.make_ente()
    scheme = f.make_scheme(service_codes=["A3"], unit="EUR", unit_price_cents=None)
    voucher, pin = issuance.issue_voucher(SYSTEM, scheme, f.make_beneficiary())
    db.session.commit()
    sign_in(client, voucher.code, pin)
    html = text_of(client.get("/saldo/buono"))
    assert 'id="balance-units"' not in html and "Quantità" not in html
    assert "non hai ancora ricevuto servizi" in html
    assert "Oggi non ci sono fornitori accreditati" in html


@pytest.mark.parametrize(
    ("status", "words"),
    [("revoked", "Revocato"), ("suspended", "Sospeso"), ("expired", "Scaduto")],
)
def test_the_status_is_told_in_words(world, status, words):
    voucher, pin = world.issue()
    if status == "revoked":
        vouchers.revoke_voucher(SYSTEM, voucher, "Trasferito")
    elif status == "suspended":
        vouchers.suspend_voucher(SYSTEM, voucher, "Verifica")
    else:
        voucher.valid_until = clock.today() - timedelta(days=1)
    db.session.commit()
    sign_in(world.client, voucher.code, pin)
    html = text_of(world.client.get("/saldo/buono"))
    assert words in html
    if status != "expired":
        assert "rivolgiti ai servizi sociali" in html


def test_the_qr_text_pasted_in_place_of_the_code_works(world):
    voucher, pin = world.issue()
    assert sign_in(world.client, voucher.qr_payload, pin).status_code == 303


def test_wrong_code_and_wrong_pin_give_the_same_page(world):
    voucher, pin = world.issue()
    answers = [
        sign_in(world.client, codes.generate_code(), pin),  # well formed, unknown
        sign_in(world.client, voucher.code, wrong_pin(pin)),
        sign_in(world.client, "non è un codice", pin),
        sign_in(world.client, voucher.qr_payload[:-4] + "AAAA", pin),  # a forged QR text
    ]
    first = answers[0]
    assert first.status_code == 200 and "Il codice o il PIN non sono corretti" in text_of(first)
    for answer in answers:
        assert answer.status_code == first.status_code
        assert without_csrf(text_of(answer)) == without_csrf(text_of(first))
        headers = {k: v for k, v in answer.headers if k not in ("Set-Cookie", "Date")}
        assert headers == {k: v for k, v in first.headers if k not in ("Set-Cookie", "Date")}
    # Neither the code nor the PIN is written back into the page.
    assert voucher.code not in text_of(answers[1]) and wrong_pin(pin) not in text_of(answers[1])
    assert world.client.get("/saldo/buono").status_code == 302


def test_missing_fields_are_explained_next_to_them(client, app):
    html = text_of(client.post("/saldo", data={"code": "", "pin": ""}))
    assert "Scrivi il codice del buono." in html and "Scrivi il PIN." in html
    assert 'aria-invalid="true"' in html
    long = client.post("/saldo", data={"code": "A" * 3000, "pin": "1" * 100})
    assert long.status_code == 200 and "troppo lungo" in text_of(long)


def test_five_wrong_pins_lock_the_code_with_a_calm_message(world):
    voucher, pin = world.issue()
    for _ in range(5):
        assert "non sono corretti" in text_of(sign_in(world.client, voucher.code, wrong_pin(pin)))
    db.session.rollback()  # whatever a view did not commit is gone
    locked = sign_in(world.client, voucher.code, pin)  # even the right PIN
    html = text_of(locked)
    assert locked.status_code == 429 and locked.headers["Cache-Control"] == "no-store"
    assert "bloccato per 15 minuti" in html and "aspetta 15 minuti" in html
    assert "chiama i servizi sociali" in html and "nuovo PIN" in html
    assert world.client.get("/saldo/buono").status_code == 302
    # A PIN reset by the social services lifts the lock.
    new_pin = vouchers.reset_pin(SYSTEM, vouchers.get_voucher(voucher.code))
    db.session.commit()
    assert sign_in(world.client, voucher.code, new_pin).status_code == 303


def test_csrf_protects_the_form(world, app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    voucher, pin = world.issue()
    refused = sign_in(world.client, voucher.code, wrong_pin(pin))
    assert refused.status_code == 400 and "Modulo scaduto" in text_of(refused)
    db.session.expire_all()
    assert vouchers.get_voucher(voucher.code).pin_failures == 0  # not even counted
    token = re.search(r'id="csrf_token"[^>]*value="([^"]+)"', text_of(world.client.get("/saldo")))
    response = world.client.post(
        "/saldo", data={"code": voucher.code, "pin": pin, "csrf_token": token.group(1)}
    )
    assert response.status_code == 303
    assert world.client.post("/saldo/esci").status_code == 400  # sign-out needs it too


def test_the_session_expires(world, monkeypatch):
    voucher, pin = world.issue()
    sign_in(world.client, voucher.code, pin)
    assert world.client.get("/saldo/buono").status_code == 200
    later = clock.now() + timedelta(minutes=10, seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    expired = world.client.get("/saldo/buono")
    assert expired.status_code == 302 and expired.headers["Location"] == "/saldo"
    assert "si chiude dopo 10 minuti" in text_of(world.client.get("/saldo"))
    assert world.client.get("/saldo/buono/lettera.pdf").status_code == 302


def test_the_session_length_is_configurable(world, app, monkeypatch):
    monkeypatch.setitem(app.config, "BENEFICIARY_SESSION_MINUTES", 2)
    voucher, pin = world.issue()
    sign_in(world.client, voucher.code, pin)
    soon = clock.now() + timedelta(minutes=1, seconds=50)
    monkeypatch.setattr(clock, "now", lambda: soon)
    assert world.client.get("/saldo/buono").status_code == 200
    later = soon + timedelta(seconds=20)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert world.client.get("/saldo/buono").status_code == 302


def test_sign_out_forgets_the_voucher_and_keeps_a_staff_sign_in(world):
    staff = f.make_user("social_worker")
    f.login(world.client, staff)
    voucher, pin = world.issue()
    sign_in(world.client, voucher.code, pin)
    response = world.client.post("/saldo/esci")
    assert response.status_code == 303 and response.headers["Location"] == "/saldo"
    assert "Hai chiuso la consultazione" in text_of(world.client.get("/saldo"))
    assert world.client.get("/saldo/buono").status_code == 302
    assert world.client.get("/servizi/beneficiari").status_code == 200


def test_a_new_attempt_closes_the_previous_voucher(world):
    voucher, pin = world.issue()
    sign_in(world.client, voucher.code, pin)
    sign_in(world.client, voucher.code, wrong_pin(pin))
    assert world.client.get("/saldo/buono").status_code == 302


def test_the_letter_comes_again_without_the_pin(world):
    voucher, pin = world.issue()
    assert world.client.get("/saldo/buono/lettera.pdf").status_code == 302
    sign_in(world.client, voucher.code, pin)
    response = world.client.get("/saldo/buono/lettera.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    assert voucher.code not in response.headers["Content-Disposition"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert voucher.code in text and "quello ricevuto al rilascio" in text
    assert pin not in text.replace(" ", "")


def test_english_through_the_language_switch(world):
    voucher, pin = world.issue()
    world.client.post("/lingua/en", data={"next": "/saldo"})
    html = text_of(world.client.get("/saldo"))
    assert "Check your voucher" in html and "Voucher code" in html
    sign_in(world.client, voucher.code, pin)
    html = text_of(world.client.get("/saldo/buono"))
    assert "Your voucher" in html and "Services received" in html and "Sign out" in html
    assert "equal to 25 hours of service" in html
    world.client.post("/lingua/it", data={"next": "/saldo"})


def test_no_code_pin_or_personal_data_in_urls_or_logs(world, caplog):
    voucher, pin = world.issue()
    person = world.person
    compact = voucher.code.replace("-", "")
    secrets = [voucher.code, compact, compact.lower(), pin, person.fiscal_code]
    names = [person.first_name, person.last_name]
    caplog.set_level(logging.DEBUG)
    client = world.client
    responses = [
        client.get("/saldo"),
        sign_in(client, voucher.code, wrong_pin(pin)),
        sign_in(client, "AAAA-BBBB-CCCC-DDDD", pin),
        sign_in(client, voucher.code, pin),
        client.get("/saldo/buono"),
        client.get("/saldo/buono/lettera.pdf"),
        client.post("/saldo/esci"),
        client.get("/saldo"),
    ]
    for _ in range(5):
        responses.append(sign_in(client, voucher.code, wrong_pin(pin)))
    responses.append(sign_in(client, voucher.code, pin))  # locked
    urls = [r.headers.get("Location", "") for r in responses]
    for response in responses:
        if response.mimetype == "text/html":
            urls += LINKS.findall(text_of(response))
    assert "/saldo/buono" in urls and "/saldo/esci" in urls
    for url in urls:
        for value in secrets + names:
            assert value.lower() not in url.lower(), url
    logged = [
        record.getMessage() + " " + " ".join(str(v) for v in vars(record).values())
        for record in caplog.records
    ]
    for line in logged:
        for value in secrets + names:
            assert value not in line, line


JUNK = st.text(max_size=80) | st.sampled_from(["a.b.c", "é.é.é", "\x00", "..", "ey.ey.ey"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(code=JUNK, pin=JUNK)
def test_no_input_is_a_server_error(client, app, code, pin):
    response = client.post("/saldo", data={"code": code, "pin": pin})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    db.session.commit()
