"""Admin pages for providers: registry, accreditations, suspension, operators, API keys."""

from contextlib import nullcontext
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests import factories as f
from tests.races import rival_unseen
from voucher.extensions import db
from voucher.models import ApiKey, Provider, User
from voucher.services import clock, providers


@pytest.fixture
def admin_client(client, app):
    f.make_ente()
    f.login(client, f.make_user("admin"))
    return client


def _provider_by_vat(vat):
    return db.session.execute(select(Provider).where(Provider.vat_number == vat)).scalar()


def test_create_provider(admin_client):
    vat = f.valid_vat()
    data = {"name": "Coop Sociale Aurora", "vat_number": vat, "email": "info@aurora.example"}
    response = admin_client.post("/admin/fornitori/nuovo", data=data)
    provider = _provider_by_vat(vat)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/fornitori/{provider.id}"
    assert provider.name == "Coop Sociale Aurora" and provider.status == "active"
    assert "Coop Sociale Aurora" in admin_client.get("/admin/fornitori").get_data(as_text=True)


def test_invalid_vat_number_is_refused_by_the_service(admin_client):
    response = admin_client.post(
        "/admin/fornitori/nuovo", data={"name": "Coop", "vat_number": "12345678901"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="vat_number-error"' in html and "Partita IVA non valida" in html
    assert _provider_by_vat("12345678901") is None


def test_duplicate_vat_number_is_a_message(admin_client):
    provider = f.make_provider()
    response = admin_client.post(
        "/admin/fornitori/nuovo", data={"name": "Altra", "vat_number": provider.vat_number}
    )
    assert response.status_code == 200
    assert "già registrato" in response.get_data(as_text=True)


@pytest.mark.parametrize("race", [False, True], ids=["seen", "lost_race"])
def test_duplicate_vat_number_reads_the_same_when_the_race_is_lost(admin_client, race):
    """A rival registered between the service's check and its insert: the page shows the
    sentence the check would have shown, and nothing is half-written."""
    rival = f.make_provider()
    count = select(func.count()).select_from(Provider)
    before = db.session.execute(count).scalar_one()
    with rival_unseen(Provider.vat_number) if race else nullcontext() as seen:
        response = admin_client.post(
            "/admin/fornitori/nuovo", data={"name": "Altra", "vat_number": rival.vat_number}
        )
    if race:
        seen.assert_lost_at_the_constraint()
    assert response.status_code < 500
    html = response.get_data(as_text=True)
    assert "Un fornitore con questa partita IVA è già registrato." in html
    assert db.session.execute(count).scalar_one() == before
    assert _provider_by_vat(rival.vat_number).name == rival.name


def test_accredit_and_end_an_accreditation(admin_client):
    provider = f.make_provider(services=("A1",))
    start = clock.today()
    response = admin_client.post(
        f"/admin/fornitori/{provider.id}/accreditamenti",
        data={"acc-service_code": "C1", "acc-valid_from": start.isoformat()},
    )
    assert response.status_code == 302
    db.session.refresh(provider)
    c1 = next(a for a in provider.accreditations if a.service_code == "C1")
    assert c1.valid_from == start and c1.valid_until is None

    too_early = (c1.valid_from - timedelta(days=1)).isoformat()
    url = f"/admin/fornitori/{provider.id}/accreditamenti/{c1.id}/termina"
    html = admin_client.post(
        url, data={"end-valid_until": too_early}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Data precedente all" in html
    assert admin_client.post(url, data={"end-valid_until": start.isoformat()}).status_code == 302
    db.session.refresh(c1)
    assert c1.valid_until == start


def test_accreditation_needs_a_service(admin_client):
    provider = f.make_provider()
    response = admin_client.post(
        f"/admin/fornitori/{provider.id}/accreditamenti",
        data={"acc-service_code": "", "acc-valid_from": clock.today().isoformat()},
    )
    assert response.status_code == 422
    assert 'id="acc-service_code-error"' in response.get_data(as_text=True)


def test_accreditation_of_another_provider_is_404(admin_client):
    mine, other = f.make_provider(), f.make_provider()
    acc = other.accreditations[0]
    url = f"/admin/fornitori/{mine.id}/accreditamenti/{acc.id}/termina"
    assert admin_client.post(url, data={"end-valid_until": "2030-01-01"}).status_code == 404


def test_suspend_and_reinstate_ask_for_confirmation(admin_client):
    provider = f.make_provider()
    page = admin_client.get(f"/admin/fornitori/{provider.id}/sospendi").get_data(as_text=True)
    assert "Conferma la sospensione" in page
    assert provider.status == "active"
    response = admin_client.post(
        f"/admin/fornitori/{provider.id}/sospendi", data={"reason": "DURC irregolare"}
    )
    assert response.status_code == 302
    db.session.refresh(provider)
    assert provider.status == "suspended"
    page = admin_client.get(f"/admin/fornitori/{provider.id}/riattiva").get_data(as_text=True)
    assert "Conferma la riattivazione" in page
    assert admin_client.post(f"/admin/fornitori/{provider.id}/riattiva").status_code == 302
    db.session.refresh(provider)
    assert provider.status == "active"


def test_suspension_needs_a_reason(admin_client):
    provider = f.make_provider()
    html = admin_client.post(
        f"/admin/fornitori/{provider.id}/sospendi", data={"reason": ""}
    ).get_data(as_text=True)
    assert 'id="reason-error"' in html
    db.session.refresh(provider)
    assert provider.status == "active"


def test_create_an_operator_account(admin_client):
    provider = f.make_provider()
    url = f"/admin/fornitori/{provider.id}/operatori/nuovo"
    weak = {"username": "mario.op", "password": "corta", "confirm": "corta"}
    html = admin_client.post(url, data=weak).get_data(as_text=True)
    assert 'id="password-error"' in html and "almeno 12 caratteri" in html
    good = {"username": "mario.op", "password": f.PASSWORD, "confirm": f.PASSWORD}
    assert admin_client.post(url, data=good).status_code == 302
    user = db.session.execute(select(User).where(User.username == "mario.op")).scalar_one()
    assert user.role == "provider" and user.provider_id == provider.id
    page = admin_client.get(f"/admin/fornitori/{provider.id}").get_data(as_text=True)
    assert "mario.op" in page


def test_api_key_is_shown_once(admin_client):
    provider = f.make_provider()
    response = admin_client.post(
        f"/admin/fornitori/{provider.id}/chiavi", data={"key-label": "Gestionale"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    key = html.split('class="app-secret"', 1)[1].split(">", 1)[1].split("<", 1)[0].strip()
    assert key.startswith("vk_") and len(key) > 30
    record = providers.resolve_api_key(key)
    assert record.provider_id == provider.id and record.label == "Gestionale"
    page = admin_client.get(f"/admin/fornitori/{provider.id}").get_data(as_text=True)
    assert key not in page and record.prefix in page
    # The key works on the API, until it is revoked.
    headers = {"Authorization": f"Bearer {key}"}
    assert admin_client.get("/api/v1/services", headers=headers).status_code == 200
    url = f"/admin/fornitori/{provider.id}/chiavi/{record.id}/revoca"
    assert admin_client.post(url).status_code == 302
    assert db.session.get(ApiKey, record.id).revoked_at is not None
    assert admin_client.get("/api/v1/services", headers=headers).status_code == 401
