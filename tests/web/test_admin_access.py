"""Every admin page: rendered for the admin, 403 for other roles, sign-in for anonymous."""

import pytest

from tests import factories as f


@pytest.fixture
def world(app):
    f.make_ente()
    scheme = f.make_scheme(status="draft")
    provider = f.make_provider()
    user = f.make_user("auditor")
    return {"scheme": scheme.id, "provider": provider.id, "user": user.id}


PAGES = [
    "/admin/ente",
    "/admin/misure",
    "/admin/misure/nuova",
    "/admin/misure/{scheme}",
    "/admin/misure/{scheme}/modifica",
    "/admin/fornitori",
    "/admin/fornitori/nuovo",
    "/admin/fornitori/{provider}",
    "/admin/fornitori/{provider}/sospendi",
    "/admin/fornitori/{provider}/operatori/nuovo",
    "/admin/utenti",
    "/admin/utenti/nuovo",
    "/admin/utenti/{user}",
]


def test_admin_sees_every_page(client, world):
    f.login(client, f.make_user("admin"))
    for page in PAGES:
        response = client.get(page.format(**world))
        html = response.get_data(as_text=True)
        assert response.status_code == 200, (page, html[:500])
        assert html.count("<h1") == 1 and '<html lang="it">' in html, page


@pytest.mark.parametrize("role", ["social_worker", "provider", "auditor"])
def test_other_roles_are_forbidden(client, world, role):
    provider = f.make_provider() if role == "provider" else None
    f.login(client, f.make_user(role, provider=provider))
    for page in PAGES:
        response = client.get(page.format(**world))
        assert response.status_code == 403, page
        assert "Accesso non consentito" in response.get_data(as_text=True)


def test_anonymous_is_sent_to_sign_in(client, world):
    for page in PAGES:
        response = client.get(page.format(**world))
        assert response.status_code == 302, page
        assert response.headers["Location"].startswith("/accesso?next="), page


ACTIONS = [
    "/admin/ente",
    "/admin/misure/nuova",
    "/admin/misure/{scheme}/attiva",
    "/admin/misure/{scheme}/chiudi",
    "/admin/fornitori/nuovo",
    "/admin/fornitori/{provider}/accreditamenti",
    "/admin/fornitori/{provider}/sospendi",
    "/admin/fornitori/{provider}/chiavi",
    "/admin/fornitori/{provider}/riattiva",
    "/admin/utenti/nuovo",
    "/admin/utenti/{user}/stato",
    "/admin/utenti/{user}/password",
    "/admin/utenti/{user}/ruolo",
]


def test_actions_are_forbidden_to_a_social_worker(client, world):
    f.login(client, f.make_user("social_worker"))
    for action in ACTIONS:
        response = client.post(action.format(**world), data={"active": "0"})
        assert response.status_code == 403, action


def test_admin_navigation_marks_the_current_section(client, world):
    f.login(client, f.make_user("admin"))
    html = client.get("/admin/misure").get_data(as_text=True)
    assert 'href="/admin/misure" aria-current="page"' in html
    assert 'href="/admin/fornitori"' in html and 'href="/admin/utenti"' in html


def test_unknown_objects_are_404(client, world):
    f.login(client, f.make_user("admin"))
    for page in ("/admin/misure/999999", "/admin/fornitori/999999", "/admin/utenti/999999"):
        assert client.get(page).status_code == 404


def test_admin_pages_in_english(client, world):
    f.login(client, f.make_user("admin"))
    client.post("/lingua/en", data={"next": "/"})
    html = client.get("/admin/misure/nuova").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "New scheme" in html and "Services funded (all in the same area)" in html
    assert "Area A — Elderly people at home" in html
