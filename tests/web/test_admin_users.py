"""Admin pages for users: create, disable and enable, reset a password, change a role."""

import pytest
from sqlalchemy import select

from tests import factories as f
from voucher.extensions import db
from voucher.models import User

NEW_PASSWORD = "un-altra-password-lunga"


@pytest.fixture
def admin(app):
    return f.make_user("admin")


@pytest.fixture
def admin_client(client, admin):
    f.login(client, admin)
    return client


def _user(username):
    return db.session.execute(select(User).where(User.username == username)).scalar()


def test_list_shows_users_with_their_role(admin_client, admin):
    other = f.make_user("social_worker")
    html = admin_client.get("/admin/utenti").get_data(as_text=True)
    assert admin.username in html and other.username in html and "Assistente sociale" in html


def test_create_a_social_worker(admin_client):
    data = {
        "username": "anna.as",
        "full_name": "Anna Bianchi",
        "role": "social_worker",
        "provider_id": "",
        "password": f.PASSWORD,
        "confirm": f.PASSWORD,
    }
    response = admin_client.post("/admin/utenti/nuovo", data=data)
    user = _user("anna.as")
    assert (
        response.status_code == 302 and response.headers["Location"] == f"/admin/utenti/{user.id}"
    )
    assert user.role == "social_worker" and user.provider_id is None
    assert user.full_name == "Anna Bianchi"


def test_provider_role_needs_a_provider(admin_client):
    data = {
        "username": "op1",
        "role": "provider",
        "provider_id": "",
        "password": f.PASSWORD,
        "confirm": f.PASSWORD,
    }
    html = admin_client.post("/admin/utenti/nuovo", data=data).get_data(as_text=True)
    assert 'id="provider_id-error"' in html and _user("op1") is None
    provider = f.make_provider()
    response = admin_client.post(
        "/admin/utenti/nuovo", data={**data, "provider_id": str(provider.id)}
    )
    assert response.status_code == 302 and _user("op1").provider_id == provider.id


def test_passwords_must_match_and_follow_the_policy(admin_client):
    data = {"username": "x.user", "role": "auditor", "password": f.PASSWORD, "confirm": "diversa"}
    html = admin_client.post("/admin/utenti/nuovo", data=data).get_data(as_text=True)
    assert "Le password non coincidono." in html
    data.update(password="x.user-x.user", confirm="x.user-x.user")
    html = admin_client.post("/admin/utenti/nuovo", data=data).get_data(as_text=True)
    assert "troppo facile" in html and _user("x.user") is None


def test_duplicate_username_is_a_message(admin_client, admin):
    data = {
        "username": admin.username,
        "role": "auditor",
        "password": f.PASSWORD,
        "confirm": f.PASSWORD,
    }
    html = admin_client.post("/admin/utenti/nuovo", data=data).get_data(as_text=True)
    assert "esiste già" in html


def test_disable_and_enable(admin_client, client):
    other = f.make_user("social_worker")
    assert (
        admin_client.post(f"/admin/utenti/{other.id}/stato", data={"active": "0"}).status_code
        == 302
    )
    db.session.refresh(other)
    assert other.active is False
    response = client.post("/accesso", data={"username": other.username, "password": f.PASSWORD})
    assert response.status_code == 200  # a disabled user cannot sign in
    f.login(admin_client, f.make_user("admin"))
    admin_client.post(f"/admin/utenti/{other.id}/stato", data={"active": "1"})
    db.session.refresh(other)
    assert other.active is True


def test_admin_cannot_disable_or_demote_themselves(admin_client, admin):
    html = admin_client.post(
        f"/admin/utenti/{admin.id}/stato", data={"active": "0"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Non puoi disattivare" in html
    admin_client.post(f"/admin/utenti/{admin.id}/ruolo", data={"role-role": "auditor"})
    db.session.refresh(admin)
    assert admin.active is True and admin.role == "admin"


def test_reset_password(admin_client, client):
    other = f.make_user("auditor")
    url = f"/admin/utenti/{other.id}/password"
    response = admin_client.post(url, data={"pw-password": "breve", "pw-confirm": "breve"})
    assert response.status_code == 422
    assert 'id="pw-password-error"' in response.get_data(as_text=True)
    data = {"pw-password": NEW_PASSWORD, "pw-confirm": NEW_PASSWORD}
    assert admin_client.post(url, data=data).status_code == 302
    client.post("/esci")
    response = client.post("/accesso", data={"username": other.username, "password": NEW_PASSWORD})
    assert response.status_code == 302


def test_change_role(admin_client):
    other = f.make_user("auditor")
    provider = f.make_provider()
    url = f"/admin/utenti/{other.id}/ruolo"
    response = admin_client.post(url, data={"role-role": "provider", "role-provider_id": ""})
    assert response.status_code == 422
    assert 'id="role-role-error"' in response.get_data(as_text=True)
    data = {"role-role": "provider", "role-provider_id": str(provider.id)}
    assert admin_client.post(url, data=data).status_code == 302
    db.session.refresh(other)
    assert other.role == "provider" and other.provider_id == provider.id
