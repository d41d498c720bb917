"""The office families are told to call, on the pages: the admin sets it on the ente's page
(which flags a letter without it), and every /saldo message that tells the family to call
the social services shows it, or says "del tuo Comune" and nothing made up when unset."""

import re

import pytest

from tests import factories as f
from tests.api.voucher_world import make_world
from voucher.extensions import db
from voucher.services import SYSTEM, vouchers
from voucher.services.ente import get_ente

PHONE_LINK = '<a href="tel:+390554496111" class="fw-semibold">055 4496111</a>'


def office_form(**overrides):
    data = {f"office-{key}": value for key, value in f.OFFICE.items()}
    data.update({f"office-{key}": value for key, value in overrides.items()})
    return data


@pytest.fixture
def admin_client(client, app):
    f.make_ente()
    f.login(client, f.make_user("admin"))
    return client


def test_the_ente_page_flags_a_letter_without_the_office_until_it_is_set(admin_client):
    html = admin_client.get("/admin/ente").get_data(as_text=True)
    assert 'id="office-missing"' in html
    assert "La lettera del buono non ha i contatti dei servizi sociali." in html
    assert '<label for="office-office_phone"' in html

    saved = admin_client.post("/admin/ente/ufficio", data=office_form())
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/admin/ente#office")
    ente = get_ente()
    assert {key: getattr(ente, key) for key in f.OFFICE} == f.OFFICE
    html = admin_client.get("/admin/ente").get_data(as_text=True)
    assert 'id="office-missing"' not in html and 'id="office-incomplete"' not in html
    assert 'value="055 4496111"' in html and "Contatti dei servizi sociali salvati." in html

    admin_client.post("/admin/ente/ufficio", data=office_form(office_email="", office_hours=""))
    html = admin_client.get("/admin/ente").get_data(as_text=True)
    assert 'id="office-incomplete"' in html and "(e-mail, orari di apertura" in html


def test_an_implausible_phone_is_422_with_the_message_next_to_the_field(admin_client):
    response = admin_client.post("/admin/ente/ufficio", data=office_form(office_phone="12"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="office-office_phone-error"' in html and "Numero di telefono non valido" in html
    assert 'aria-invalid="true"' in html
    assert get_ente().office_phone is None


def test_only_the_admin_sets_the_office(client, app):
    f.make_ente()
    f.login(client, f.make_user("social_worker"))
    assert client.post("/admin/ente/ufficio", data=office_form()).status_code == 403
    assert get_ente().office_phone is None


# --- /saldo ---------------------------------------------------------------------------


@pytest.fixture
def world(client, app):
    return make_world(client)


def sign_in(client, code, pin):
    return client.post("/saldo", data={"code": code, "pin": pin})


def lock(client, voucher, pin):
    wrong = f"{(int(pin) + 1) % 10**6:06d}"
    for _ in range(5):
        sign_in(client, voucher.code, wrong)
    return sign_in(client, voucher.code, pin)


def test_a_locked_code_shows_whom_to_call(world):
    f.make_office_contacts()
    voucher, pin = world.issue()
    locked = lock(world.client, voucher, pin)
    html = locked.get_data(as_text=True)
    assert locked.status_code == 429
    alert = re.search(r'<div class="alert[^"]*app-failure.*?</div>\s*</div>', html, re.S).group(0)
    assert "chiama i servizi sociali: possono darti un nuovo PIN" in alert
    assert PHONE_LINK in alert and f.OFFICE["office_hours"] in alert
    assert f.OFFICE["office_address"] in alert and f"mailto:{f.OFFICE['office_email']}" in alert
    assert "del tuo Comune" not in alert


def test_without_office_the_pages_say_del_tuo_comune_and_invent_nothing(world):
    voucher, pin = world.issue()
    html = lock(world.client, voucher, pin).get_data(as_text=True)
    assert "chiama i servizi sociali del tuo Comune: possono darti un nuovo PIN" in html
    assert "app-office" not in html and "tel:" not in html


@pytest.mark.parametrize("action", ["revoke", "suspend"])
def test_a_revoked_or_suspended_voucher_shows_whom_to_call(world, action):
    f.make_office_contacts()
    voucher, pin = world.issue()
    getattr(vouchers, f"{action}_voucher")(SYSTEM, voucher, "Verifica dei requisiti")
    db.session.commit()
    assert sign_in(world.client, voucher.code, pin).status_code == 303
    html = world.client.get("/saldo/buono").get_data(as_text=True)
    status = re.search(r'<dd class="col-sm-8" id="status">.*?</dd>', html, re.S).group(0)
    assert "rivolgiti ai servizi sociali" in status
    assert 'id="office-status"' in status and PHONE_LINK in status
    assert f.OFFICE["office_hours"] in status


def test_the_voucher_page_ends_with_whom_to_call(world):
    voucher, pin = world.issue()
    sign_in(world.client, voucher.code, pin)
    html = world.client.get("/saldo/buono").get_data(as_text=True)
    assert "Serve aiuto?" in html and "chiama i servizi sociali del tuo Comune." in html
    assert 'id="office-status"' not in html and "tel:" not in html
    f.make_office_contacts()
    html = world.client.get("/saldo/buono").get_data(as_text=True)
    help_section = html[html.index('id="help-title"') :]
    assert PHONE_LINK in help_section and f.OFFICE["office_hours"] in help_section


def test_the_form_points_to_the_pin_box_of_the_letter(client, app):
    f.make_ente()
    f.make_office_contacts()
    html = client.get("/saldo").get_data(as_text=True)
    assert "«Da mostrare al fornitore»" in html and "«Il tuo PIN: solo per te»" in html
    assert 'id="office-help"' in html and PHONE_LINK in html
