"""The page shell: layout, language, sign-in, error pages and security headers."""

import re

import pytest

from tests import factories as f


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_home_is_italian_with_a_skip_link_and_the_three_audiences(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="it">' in html
    assert 'href="#main"' in html and "Vai al contenuto" in html
    assert 'id="main"' in html
    assert "Operatori dei servizi sociali" in html
    assert "Fornitori accreditati" in html
    assert 'href="/saldo"' in html
    assert html.count("<h1") == 1


def test_header_shows_the_ente_name(client, app):
    f.make_ente()
    html = client.get("/").get_data(as_text=True)
    assert "Società della Salute di Prova" in html


def test_english_after_choosing_it(client):
    response = client.post("/lingua/en", data={"next": "/accesso"})
    assert response.status_code == 302 and response.headers["Location"] == "/accesso"
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Skip to content" in html and "Social services staff" in html
    client.post("/lingua/it", data={"next": "/"})
    assert '<html lang="it">' in client.get("/").get_data(as_text=True)


def test_language_switch_refuses_foreign_redirects(client):
    response = client.post("/lingua/en", data={"next": "https://example.org/"})
    assert response.headers["Location"] == "/"


def test_unknown_language_keeps_italian(client):
    client.post("/lingua/xx", data={"next": "/"})
    assert '<html lang="it">' in client.get("/").get_data(as_text=True)


def test_login_success_shows_the_role_area_and_logout(client, app):
    user = f.make_user("admin")
    response = client.post("/accesso", data={"username": user.username, "password": f.PASSWORD})
    # The admin lands on the dashboard, the page of their daily work.
    assert response.status_code == 302 and response.headers["Location"] == "/rendiconti/cruscotto"
    html = client.get("/").get_data(as_text=True)
    assert user.username in html and "Esci" in html
    assert "Amministratore dell&#39;ente" in html or "Amministratore dell'ente" in html
    assert 'href="/admin/' in html  # the role's dashboard links
    response = client.post("/esci")
    assert response.status_code == 302
    html = client.get("/").get_data(as_text=True)
    assert "Sei uscito dal servizio." in html and "Esci" not in html


def test_login_follows_a_local_next_only(client, app):
    user = f.make_user("auditor")
    response = client.post(
        "/accesso?next=//evil.example/",
        data={"username": user.username, "password": f.PASSWORD},
    )
    assert response.headers["Location"] == "/rendiconti/"  # the auditor's own landing page


def test_login_failure_is_an_italian_message(client, app):
    user = f.make_user("admin")
    response = client.post("/accesso", data={"username": user.username, "password": "sbagliata"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'role="alert"' in html and "Nome utente o password non corretti" in html


def test_login_form_marks_missing_fields(client):
    html = client.post("/accesso", data={"username": "", "password": ""}).get_data(as_text=True)
    assert 'aria-describedby="username-error"' in html and "is-invalid" in html
    assert 'id="username-error"' in html and 'for="username"' in html


def test_language_survives_sign_in(client, app):
    user = f.make_user("auditor")
    client.post("/lingua/en", data={"next": "/"})
    f.login(client, user)
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)


def test_csrf_is_enforced_on_login_when_enabled(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    user = f.make_user("admin")
    refused = client.post("/accesso", data={"username": user.username, "password": f.PASSWORD})
    assert refused.status_code == 400
    assert "Modulo scaduto" in refused.get_data(as_text=True)
    token = _csrf(client.get("/accesso").get_data(as_text=True))
    accepted = client.post(
        "/accesso",
        data={"username": user.username, "password": f.PASSWORD, "csrf_token": token},
    )
    assert accepted.status_code == 302


def test_csrf_is_enforced_on_logout_when_enabled(client, app, monkeypatch):
    user = f.make_user("admin")
    f.login(client, user)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/esci").status_code == 400
    token = _csrf(client.get("/").get_data(as_text=True))
    assert client.post("/esci", data={"csrf_token": token}).status_code == 302


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_pages_have_no_inline_scripts_or_styles(client, app):
    f.login(client, f.make_user("admin"))
    html = client.get("/").get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html and "<style" not in html


def test_signed_in_pages_are_not_cached(client, app):
    assert client.get("/").headers.get("Cache-Control") != "no-store"
    f.login(client, f.make_user("social_worker"))
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_static_files_stay_cacheable_when_signed_in(client, app):
    """Staff pages would otherwise download Bootstrap Italia's CSS, scripts and fonts anew
    on every page."""
    f.login(client, f.make_user("social_worker"))
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()


def test_404_page_in_italian(client):
    response = client.get("/non-esiste")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Pagina non trovata" in html and 'href="/"' in html


def test_405_page_in_italian(client):
    response = client.post("/")
    assert response.status_code == 405
    assert "Operazione non consentita" in response.get_data(as_text=True)
    assert "GET" in response.headers["Allow"]


def test_unexpected_error_is_a_500_page_without_traceback(client, app, monkeypatch):
    def boom():
        raise RuntimeError("secret internals")

    monkeypatch.setitem(app.view_functions, "main.privacy", boom)
    response = client.get("/privacy")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Errore del sistema" in html
    assert "Traceback" not in html and "secret internals" not in html


@pytest.mark.parametrize(
    "path",
    [
        "/static/vendor/bootstrap-italia/css/bootstrap-italia.min.css",
        "/static/vendor/bootstrap-italia/js/bootstrap-italia.bundle.min.js",
        "/static/vendor/bootstrap-italia/svg/sprites.svg",
        "/static/css/fonts.css",
        "/static/css/app.css",
        "/static/js/app.js",
    ],
)
def test_static_assets_are_served(client, path):
    with client.get(path) as response:
        assert response.status_code == 200 and len(response.data) > 100


def test_fonts_load_from_our_static_folder(client):
    with client.get("/static/css/fonts.css") as response:
        css = response.get_data(as_text=True)
    font = re.search(r'url\("\.\./(vendor/bootstrap-italia/fonts/[^"]+\.woff2)"\)', css).group(1)
    with client.get(f"/static/{font}") as response:
        assert response.status_code == 200


def test_accessibility_and_privacy_pages(client):
    for path, title in (("/accessibilita", "accessibilità"), ("/privacy", "privacy")):
        response = client.get(path)
        assert response.status_code == 200 and title in response.get_data(as_text=True)


def test_euro_and_date_filters(app):
    from datetime import UTC, date, datetime

    render = app.jinja_env.from_string("{{ a|euro }} {{ d|date_it }} {{ t|datetime_it }}")
    out = render.render(a=123456, d=date(2026, 3, 1), t=datetime(2026, 7, 1, 10, 0, tzinfo=UTC))
    assert out == "1.234,56 € 01/03/2026 01/07/2026 12:00"
    assert app.jinja_env.from_string("{{ none|euro }}").render() == "—"


def test_language_switch_returns_only_to_pages_that_answer_a_get(client, app):
    response = client.post("/lingua/en", data={"next": "/esci"})
    assert response.headers["Location"] == "/"
    response = client.post("/lingua/en", data={"next": "/privacy?x=1"})
    assert response.headers["Location"] == "/privacy?x=1"


def test_database_unavailable_is_503_with_retry_after(app, client, monkeypatch):
    """A lost database (restart, failover) is "try again", not a server fault."""
    from sqlalchemy.exc import OperationalError

    from voucher.services import catalogue

    def down():
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(catalogue, "list_services", down)
    user = f.make_user("auditor")
    response = client.get("/api/v1/services", headers=f.api_token(client, user))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "service_unavailable"
