"""Admin pages for what a payment needs: the provider's payment data (audited), the DURC
notices on the providers list, and the scheme's legal model."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests import factories as f
from voucher.extensions import db
from voucher.models import AuditEvent, Scheme
from voucher.services import clock

IBAN = "IT60X0542811101000000123456"


@pytest.fixture
def provider(app):
    f.make_ente()
    return f.make_provider(name="Cooperativa Aurora", email="info@aurora.example")


@pytest.fixture
def admin_client(client, provider):
    f.login(client, f.make_user("admin"))
    return client


def _edit(provider, **overrides):
    data = {
        "name": provider.name,
        "email": provider.email or "",
        "phone": provider.phone or "",
        "address": provider.address or "",
        "fiscal_code": provider.vat_number,
        "iban": "it60 x054 2811 1010 0000 0123 456",
        "durc_valid_until": (clock.today() + timedelta(days=200)).isoformat(),
        "dedicated_account_declared": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _payment_events(provider):
    return (
        db.session.execute(
            select(AuditEvent).where(
                AuditEvent.action == "provider.payment_data_changed",
                AuditEvent.object_id == str(provider.id),
            )
        )
        .scalars()
        .all()
    )


def test_admin_records_payment_data_and_empty_fields_clear_it(admin_client, provider):
    url = f"/admin/fornitori/{provider.id}/modifica"
    assert 'id="iban"' in admin_client.get(url).get_data(as_text=True)

    response = admin_client.post(url, data=_edit(provider, phone="055 123456"))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/fornitori/{provider.id}"
    db.session.refresh(provider)
    assert provider.iban == IBAN  # stored compact, upper case
    assert provider.fiscal_code == provider.vat_number
    assert provider.durc_valid_until == clock.today() + timedelta(days=200)
    assert provider.dedicated_account_declared and provider.phone == "055 123456"
    [event] = _payment_events(provider)
    assert event.data["iban"] == {"from": None, "to": IBAN}
    assert set(event.data) >= {"fiscal_code", "durc_valid_until", "dedicated_account_declared"}

    html = admin_client.get(f"/admin/fornitori/{provider.id}").get_data(as_text=True)
    assert "Dati per il pagamento" in html
    assert "IT60 X054 2811 1010 0000 0123 456" in html

    cleared = _edit(provider, iban="", durc_valid_until="", dedicated_account_declared=None)
    assert admin_client.post(url, data=cleared).status_code == 302
    db.session.refresh(provider)
    assert provider.iban is None and provider.durc_valid_until is None
    assert not provider.dedicated_account_declared
    assert _payment_events(provider)[-1].data["iban"] == {"from": IBAN, "to": None}
    html = admin_client.get(f"/admin/fornitori/{provider.id}").get_data(as_text=True)
    assert html.count("mancante") >= 3  # IBAN, DURC, dedicated-account declaration


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("iban", "IT60X0542811101000000123457", "IBAN non valido"),
        ("iban", "DE89370400440532013000", "IBAN non valido"),
        ("fiscal_code", "12345678901", "Codice fiscale non valido"),
    ],
)
def test_invalid_payment_data_is_an_italian_message_on_the_field(
    admin_client, provider, field, value, message
):
    response = admin_client.post(
        f"/admin/fornitori/{provider.id}/modifica",
        data=_edit(provider, name="Nuovo nome", **{field: value}),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="{field}-error"' in html and message in html
    db.session.refresh(provider)
    assert provider.iban is None and provider.fiscal_code is None
    assert provider.name == "Cooperativa Aurora"  # nothing of the refused form is kept
    assert _payment_events(provider) == []


def test_durc_box_lists_the_providers_to_renew(admin_client, provider):
    today = clock.today()
    expiring = f.make_provider(name="Cooperativa In Scadenza")
    valid = f.make_provider(name="Cooperativa In Regola")
    for item, until in ((expiring, today + timedelta(days=10)), (valid, today + timedelta(90))):
        admin_client.post(
            f"/admin/fornitori/{item.id}/modifica",
            data=_edit(item, durc_valid_until=until.isoformat()),
        )
    html = admin_client.get("/admin/fornitori").get_data(as_text=True)
    box = html[html.index("DURC da rinnovare") : html.index("<table")]
    assert f'href="/admin/fornitori/{expiring.id}#pagamento"' in box
    assert f"scade il {(today + timedelta(days=10)):%d/%m/%Y}" in box
    assert f'href="/admin/fornitori/{provider.id}#pagamento"' in box  # no DURC at all
    assert f"/admin/fornitori/{valid.id}#" not in box
    page = admin_client.get(f"/admin/fornitori/{expiring.id}").get_data(as_text=True)
    assert "in scadenza" in page


@pytest.mark.parametrize("role", ["social_worker", "auditor", "finance"])
def test_only_the_admin_edits_payment_data(client, provider, role):
    f.login(client, f.make_user(role))
    url = f"/admin/fornitori/{provider.id}/modifica"
    assert client.get(url).status_code == 403
    assert client.post(url, data=_edit(provider)).status_code == 403
    db.session.refresh(provider)
    assert provider.iban is None and _payment_events(provider) == []


def test_scheme_form_saves_the_legal_model_and_the_page_shows_it(admin_client):
    scheme = f.make_scheme(status="draft")
    assert scheme.legal_model == "purchase"
    form_html = admin_client.get(f"/admin/misure/{scheme.id}/modifica").get_data(as_text=True)
    assert 'type="radio"' in form_html and 'value="purchase" checked' in form_html
    data = {
        "name": scheme.name,
        "fund_code": scheme.fund_code,
        "year": str(scheme.year),
        "service_codes": scheme.service_codes,
        "unit": scheme.unit,
        "unit_price": "20,00",
        "face_value": "500,00",
        "valid_from": scheme.valid_from.isoformat(),
        "valid_until": scheme.valid_until.isoformat(),
        "budget": "100.000,00",
        "legal_model": "contribution",
    }
    response = admin_client.post(f"/admin/misure/{scheme.id}/modifica", data=data)
    assert response.status_code == 302
    assert db.session.get(Scheme, scheme.id).legal_model == "contribution"
    html = admin_client.get(f"/admin/misure/{scheme.id}").get_data(as_text=True)
    assert "Contributo: la famiglia acquista" in html and "non richiesta" in html
