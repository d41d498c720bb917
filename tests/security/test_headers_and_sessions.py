"""ASVS level 2 checks that apply to this application: security headers, session cookies,
session rotation and invalidation, sign-in throttling, password policy and secrets."""

import re
import stat
import subprocess
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import select

from tests import factories as f
from tests.conftest import BACKENDS, create_postgres_database, drop_postgres_database, make_app
from voucher import create_app
from voucher.config import CONFIGS
from voucher.errors import ValidationFailed
from voucher.extensions import db, limiter
from voucher.models import AuditEvent, RateLimitCounter
from voucher.services import SYSTEM, users
from voucher.web.security import CSP

ROOT = Path(__file__).resolve().parents[2]
COOKIE = "voucher_session"
PAGES = ["/", "/accesso", "/privacy", "/accessibilita", "/saldo"]


def page(client, path: str):
    """GET as a new request would see it: the tests keep one application context open,
    whose `g` would otherwise still hold the user Flask-Login loaded for the last request."""
    g.pop("_login_user", None)
    return client.get(path)


def session_cookie(client) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


# Headers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_pages_carry_the_security_headers(client, page):
    response = client.get(page)
    assert response.status_code == 200
    headers = response.headers
    assert headers["Content-Security-Policy"] == CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "geolocation=()" in headers["Permissions-Policy"]


def test_the_policy_forbids_inline_scripts_framing_and_plugins():
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP


def test_pages_load_no_inline_script(client):
    """The CSP would block an inline script: every page's scripts are files of our own."""
    for page in PAGES:
        html = client.get(page).get_data(as_text=True)
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, (page, tag)
        assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE), page


def test_headers_do_not_break_the_api(client):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and spec.is_json and spec.get_json()["paths"]
    assert "Content-Security-Policy" not in spec.headers
    assert spec.headers["X-Content-Type-Options"] == "nosniff"
    keys = client.get("/api/v1/public-keys")
    assert keys.status_code == 200 and keys.get_json()["keys"]
    # Without a token: a problem document, still with nosniff and without a page policy.
    refused = client.get("/api/v1/ente")
    assert refused.status_code == 401
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert "Content-Security-Policy" not in refused.headers


def test_api_answers_with_credentials_or_personal_data_are_not_cached(client, app):
    f.make_ente()
    admin = f.make_user("admin")
    token = client.post(
        "/api/v1/auth/token", json={"username": admin.username, "password": f.PASSWORD}
    )
    assert token.status_code == 200
    assert token.headers["Cache-Control"] == "no-store"
    headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
    ente = client.get("/api/v1/ente", headers=headers)
    assert ente.status_code == 200 and ente.headers["Cache-Control"] == "no-store"


def test_hsts_only_where_cookies_are_secure(client, app, monkeypatch):
    assert "Strict-Transport-Security" not in client.get("/").headers
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    assert client.get("/").headers["Strict-Transport-Security"].startswith("max-age=")


# Session cookies -------------------------------------------------------------------------


def test_production_cookies_are_secure_httponly_and_lax(tmp_path, monkeypatch):
    for name in ("SESSION_COOKIE_SECURE", "SECRET_KEY", "PIN_PEPPER"):
        monkeypatch.delenv(name, raising=False)
    config = CONFIGS["production"](str(tmp_path))
    assert config.SESSION_COOKIE_SECURE is True and config.REMEMBER_COOKIE_SECURE is True
    assert config.SESSION_COOKIE_HTTPONLY is True and config.REMEMBER_COOKIE_HTTPONLY is True
    assert config.SESSION_COOKIE_SAMESITE == "Lax" == config.REMEMBER_COOKIE_SAMESITE
    assert config.RATELIMIT_ENABLED is True
    assert getattr(config, "WTF_CSRF_ENABLED", True) is True  # Flask-WTF's default: on


def test_forms_need_the_csrf_token_and_the_api_does_not(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # as in production
    f.make_ente()
    admin = f.make_user("admin")
    forged = client.post("/accesso", data={"username": admin.username, "password": f.PASSWORD})
    assert forged.status_code == 400
    assert page(client, "/admin/utenti").status_code == 302  # not signed in
    # Bearer tokens are not sent by browsers on their own: the API needs no CSRF token.
    token = client.post(
        "/api/v1/auth/token", json={"username": admin.username, "password": f.PASSWORD}
    )
    assert token.status_code == 200


def test_the_session_cookie_has_every_flag(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)  # as in production
    f.make_ente()
    response = f.login(client, f.make_user("admin"))
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(COOKIE))
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "expires"} <= flags
    assert "SameSite=Lax" in cookie


# Session lifecycle -----------------------------------------------------------------------


def test_sign_in_starts_a_fresh_session(client, app):
    """No session fixation: what was in the session before signing in is gone (only the
    language choice is carried over), and the cookie changes."""
    f.make_ente()
    admin = f.make_user("admin")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
        session["lang"] = "en"
    before = session_cookie(client)
    f.login(client, admin)
    assert session_cookie(client) != before
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "en"
        assert session["_user_id"] == f"{admin.id}:{admin.session_version}"


def test_sign_out_invalidates_the_session_even_if_replayed(client, app):
    f.make_ente()
    admin = f.make_user("admin")
    f.login(client, admin)
    assert page(client, "/admin/utenti").status_code == 200
    stolen = session_cookie(client)
    assert client.post("/esci").status_code == 302
    assert page(client, "/admin/utenti").status_code == 302
    # The signed cookie copied before sign-out does not open a session any more.
    client.set_cookie(COOKIE, stolen)
    response = page(client, "/admin/utenti")
    assert response.status_code == 302 and "/accesso" in response.headers["Location"]
    actions = db.session.execute(
        select(AuditEvent.action).where(AuditEvent.object_id == str(admin.id))
    ).scalars()
    assert "user.logout" in set(actions)


def test_a_new_password_ends_every_other_session_and_token(app):
    f.make_ente()
    admin = f.make_user("admin")
    browser, phone = app.test_client(), app.test_client()
    f.login(browser, admin)
    f.login(phone, admin)
    token = f.api_token(app.test_client(), admin)
    assert page(phone, "/admin/utenti").status_code == 200
    version = admin.session_version

    users.set_password(SYSTEM, admin, "una-nuova-frase-segreta")
    db.session.commit()
    assert admin.session_version == version + 1
    for client in (browser, phone):
        assert page(client, "/admin/utenti").status_code == 302
    assert app.test_client().get("/api/v1/ente", headers=token).status_code == 401


def test_a_disabled_user_is_signed_out(client, app):
    f.make_ente()
    admin = f.make_user("admin")
    f.login(client, admin)
    users.set_active(SYSTEM, admin, False)
    db.session.commit()
    assert page(client, "/admin/utenti").status_code == 302


# Sign-in throttling ----------------------------------------------------------------------


def test_ten_wrong_passwords_lock_the_account(client, app):
    f.make_ente()
    admin = f.make_user("admin")
    for _ in range(users.MAX_FAILED_LOGINS):
        wrong = client.post("/accesso", data={"username": admin.username, "password": "sbagliata"})
        assert wrong.status_code == 200
    # Even the right password is refused from that address while the lock lasts, on pages
    # and on the API (other addresses: tests/security/test_sessions_and_sign_in.py).
    right = client.post("/accesso", data={"username": admin.username, "password": f.PASSWORD})
    assert right.status_code == 200
    assert "Troppi tentativi" in right.get_data(as_text=True)
    api = client.post(
        "/api/v1/auth/token", json={"username": admin.username, "password": f.PASSWORD}
    )
    assert api.status_code == 429 and api.get_json()["code"] == "locked"


def test_unknown_and_wrong_users_get_the_same_answer(client, app):
    f.make_ente()
    admin = f.make_user("admin")
    unknown = client.post("/api/v1/auth/token", json={"username": "nessuno", "password": "x"})
    wrong = client.post("/api/v1/auth/token", json={"username": admin.username, "password": "x"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.get_json()["detail"] == wrong.get_json()["detail"]


@pytest.fixture(params=BACKENDS)
def rate_limited_app(request, tmp_path, monkeypatch):
    """An application with rate limits on and a database of its own, committed for real:
    the counters live in that database, as they do for every worker in production."""
    monkeypatch.setenv("VOUCHER_INSTANCE_PATH", str(tmp_path))
    # Flask-Limiter keeps `enabled` on its one extension object: put it back afterwards.
    monkeypatch.setattr(limiter, "enabled", limiter.enabled)
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'limits.sqlite3'}"
    else:
        url = create_postgres_database("voucher_login_limit")
    app = make_app(url, tmp_path / "instance", RATELIMIT_ENABLED=True)
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        limiter.storage.engine.dispose()
        if request.param == "postgresql":
            drop_postgres_database(url)


def test_sign_in_page_is_rate_limited_per_address(rate_limited_app):
    client = rate_limited_app.test_client()
    attempt = {"username": "chiunque", "password": "sbagliata-di-sicuro"}
    for _ in range(20):
        assert client.post("/accesso", data=attempt).status_code == 200
    limited = client.post("/accesso", data=attempt)
    assert limited.status_code == 429
    assert "Retry-After" in limited.headers
    assert client.get("/accesso").status_code == 200  # reading the form is not limited
    other = client.post("/accesso", data=attempt, environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 200
    with rate_limited_app.app_context():
        counters = db.session.execute(select(RateLimitCounter)).scalars().all()
        assert any(c.count >= 21 for c in counters)
        db.session.remove()


# Passwords -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["corta", "a" * 11, "password1234", "PasswordPassword", "mario.rossi-2026", "x" * 257],
)
def test_weak_passwords_are_refused(app, password):
    with pytest.raises(ValidationFailed) as refused:
        users.check_password_policy(password, "mario.rossi")
    assert refused.value.errors["password"]


def test_a_long_passphrase_is_accepted(app):
    users.check_password_policy("cavallo corretto batteria graffetta", "mario.rossi")


def test_passwords_are_stored_as_slow_salted_hashes(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    config = CONFIGS["production"](str(tmp_path))
    # Only the test suite lowers the cost; production uses werkzeug's scrypt.
    assert getattr(config, "PASSWORD_HASH_METHOD", None) is None


def test_password_hashes_never_repeat(app):
    first, second = users.hash_password(f.PASSWORD), users.hash_password(f.PASSWORD)
    assert first != second and f.PASSWORD not in first


# Secrets ---------------------------------------------------------------------------------

PRIVATE_KEY = re.compile(rb"-----BEGIN ([A-Z]+ )?PRIVATE KEY-----")
SECRET_NAMES = {"secret_key", "pin_pepper"}


def repository_files() -> list[Path]:
    """The files that are or will be committed: tracked and not ignored."""
    # git from the PATH, as a developer runs it.
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name]


def test_no_private_key_or_instance_secret_in_the_repository():
    offenders = []
    for path in repository_files():
        if not path.is_file():
            continue  # listed in the index but deleted in the working tree
        secret_file = path.name in SECRET_NAMES or path.suffix in {".pem", ".key", ".sqlite3"}
        if secret_file or PRIVATE_KEY.search(path.read_bytes()):
            offenders.append(path)
    assert not offenders, offenders


def test_the_instance_folder_is_ignored():
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "instance/secret_key"],  # noqa: S607
        cwd=ROOT,
        check=False,
    )
    assert ignored.returncode == 0


def test_generated_secrets_are_private(tmp_path, monkeypatch):
    for name in ("SECRET_KEY", "PIN_PEPPER", "SIGNING_KEY", "SIGNING_KEYS_DIR"):
        monkeypatch.delenv(name, raising=False)
    instance = tmp_path / "instance"
    monkeypatch.setenv("VOUCHER_INSTANCE_PATH", str(instance))
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    keys = list((instance / "signing-keys").glob("*.pem"))
    assert keys
    for path in [instance / "secret_key", instance / "pin_pepper", *keys]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((instance / "signing-keys").stat().st_mode) == 0o700
    # A second start reads the same secrets instead of making new ones.
    again = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]
    assert again.config["PIN_PEPPER"] == app.config["PIN_PEPPER"]
    assert len(app.config["SECRET_KEY"]) >= 43  # 32 random bytes, base64url
