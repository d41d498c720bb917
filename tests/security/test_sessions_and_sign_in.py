"""Sign-in, passwords and sessions, attacked: the open redirect after sign-in, a lockout
that revealed usernames and let anyone lock `admin` out, weak passwords, self-service
sessions that outlived sign-out, a new PIN and revocation, and staff sessions that slid
forever."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from flask import g
from sqlalchemy import select

from tests import factories as f
from tests.api.voucher_world import make_world
from voucher.errors import ValidationFailed
from voucher.extensions import db
from voucher.models import ApiToken, BeneficiarySession
from voucher.services import SYSTEM, clock, sign_in, users, vouchers
from voucher.web.auth import local_path

COOKIE = "voucher_session"
ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
OFFICE = {"REMOTE_ADDR": "198.51.100.10"}


def page(client, path: str, **kwargs):
    """GET as a new request sees it (the tests keep one application context, whose `g`
    would still hold the user Flask-Login loaded for the previous request)."""
    g.pop("_login_user", None)
    return client.get(path, **kwargs)


def token_request(client, username: str, password: str, address: dict):
    return client.post(
        "/api/v1/auth/token",
        json={"username": username, "password": password},
        environ_base=address,
    )


def answer(response) -> tuple:
    """What a client can tell from a token answer: status, code, title and detail."""
    body = response.get_json()
    return response.status_code, body.get("code"), body.get("title"), body.get("detail")


@pytest.fixture
def admin(app):
    f.make_ente()
    return f.make_user("admin")


@pytest.fixture
def moved_clock(monkeypatch):
    """Move the clock forward by a timedelta: `moved_clock(timedelta(hours=1))`."""
    start = clock.now()

    def move(delta: timedelta) -> None:
        monkeypatch.setattr(clock, "now", lambda: start + delta)

    return move


# (2) Redirects after sign-in ---------------------------------------------------------------

FOREIGN_NEXT = [
    "/%09/evil.example",
    "/%0A/evil.example",
    "/%0D%0ASet-Cookie:%20x=1",
    "//evil.example",
    "/%5Cevil.example",
    "/\\evil.example",
    "https://evil.example/",
    "%2F%2Fevil.example",
    "/%E2%80%8B/evil.example",
    "/%20/evil.example",
    "javascript:alert(1)",
]


def test_sign_in_redirects_only_to_the_applications_own_paths(client, admin):
    credentials = {"username": admin.username, "password": f.PASSWORD}
    for target in FOREIGN_NEXT:
        response = client.post(f"/accesso?next={target}", data=credentials)
        assert response.status_code == 302, target
        assert response.headers["Location"] == "/rendiconti/cruscotto", target  # admin landing
    own = client.post(f"/accesso?next={quote('/admin/utenti?pagina=2')}", data=credentials)
    assert own.headers["Location"] == "/admin/utenti?pagina=2"


def test_the_language_switch_goes_back_only_to_its_own_pages(client, app):
    for target in ("/\t/evil.example", "/\n/evil.example", "//evil.example"):
        response = client.post("/lingua/en", data={"next": target})
        assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.post("/lingua/it", data={"next": "/saldo"}).headers["Location"] == "/saldo"


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("/servizi/beneficiari?q=1#a", True),
        ("/", True),
        ("/\t/evil.example", False),
        ("/\x7f/evil.example", False),
        ("/\u2028/evil.example", False),
        ("/\u00a0/evil.example", False),
        ("///evil.example", False),
        ("http:/evil.example", False),
        ("", False),
        (None, False),
        ("/" + "a" * 3000, False),
    ],
)
def test_local_path_keeps_only_paths_of_the_application(target, kept):
    assert (local_path(target) is not None and local_path(target) == target) is kept


# (7) Sign-in throttling ------------------------------------------------------------------


def test_guesses_from_one_address_do_not_lock_the_user_out_from_another(client, admin):
    for _ in range(users.MAX_FAILED_LOGINS):
        token_request(client, admin.username, "sbagliata-di-sicuro", ATTACKER)
    # The attacker's address is stopped, even with the right password...
    locked = token_request(client, admin.username, f.PASSWORD, ATTACKER)
    assert locked.status_code == 429 and locked.get_json()["code"] == "locked"
    refused = client.post(
        "/accesso", data={"username": admin.username, "password": f.PASSWORD}, environ_base=ATTACKER
    )
    assert refused.status_code == 200 and "Troppi tentativi" in refused.get_data(as_text=True)
    # ...while the real user, from the office, signs in on the API and on the pages.
    assert token_request(client, admin.username, f.PASSWORD, OFFICE).status_code == 200
    signed_in = client.post(
        "/accesso", data={"username": admin.username, "password": f.PASSWORD}, environ_base=OFFICE
    )
    assert signed_in.status_code == 302


def test_known_and_unknown_usernames_get_the_same_answers_and_the_same_work(
    client, admin, monkeypatch
):
    """Every attempt, for a known user or not, locked or not, hashes once with the method
    real hashes use, and the answers, lockout included, are the same."""
    hashed = []
    real_check = users.check_password_hash
    monkeypatch.setattr(
        users,
        "check_password_hash",
        lambda stored, password: (
            hashed.append(stored.split("$")[0]) or real_check(stored, password)
        ),
    )
    method = admin.password_hash.split("$")[0]
    answers = {}
    for username in (admin.username, "nessuno-con-questo-nome"):
        hashed.clear()
        answers[username] = [
            answer(token_request(client, username, "sbagliata-di-sicuro", ATTACKER))
            for _ in range(users.MAX_FAILED_LOGINS + 2)
        ]
        assert hashed == [method] * (users.MAX_FAILED_LOGINS + 2), username
    known, unknown = answers.values()
    assert known == unknown
    assert known[0][:2] == (401, "invalid_credentials") and known[-1][:2] == (429, "locked")


def test_a_spread_guess_meets_the_username_ceiling_but_not_where_the_user_works(
    client, admin, monkeypatch
):
    monkeypatch.setattr(sign_in, "MAX_FAILURES_PER_USERNAME", 4)
    assert token_request(client, admin.username, f.PASSWORD, OFFICE).status_code == 200
    for n in range(4):
        address = {"REMOTE_ADDR": f"192.0.2.{n + 1}"}
        assert token_request(client, admin.username, "tentativo", address).status_code == 401
    fresh = {"REMOTE_ADDR": "192.0.2.200"}
    assert token_request(client, admin.username, f.PASSWORD, fresh).status_code == 429
    assert token_request(client, "nessuno", "x", fresh).status_code == 401  # per username
    assert token_request(client, admin.username, f.PASSWORD, OFFICE).status_code == 200


def test_a_lock_ends_with_time_or_with_a_new_password(client, admin, moved_clock):
    for _ in range(users.MAX_FAILED_LOGINS):
        token_request(client, admin.username, "sbagliata-di-sicuro", ATTACKER)
    moved_clock(timedelta(minutes=users.LOGIN_LOCK_MINUTES - 1))
    assert token_request(client, admin.username, f.PASSWORD, ATTACKER).status_code == 429
    moved_clock(timedelta(minutes=users.LOGIN_LOCK_MINUTES + 1))
    assert token_request(client, admin.username, f.PASSWORD, ATTACKER).status_code == 200
    for _ in range(users.MAX_FAILED_LOGINS):
        token_request(client, admin.username, "sbagliata-di-sicuro", ATTACKER)
    users.set_password(SYSTEM, admin, "una-nuova-frase-segreta")
    db.session.commit()
    assert (
        token_request(client, admin.username, "una-nuova-frase-segreta", ATTACKER).status_code
        == 200
    )


# (8) Password policy -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "password", ["aaaaaaaaaaaa", "qwerty123456", "Password2026!", "123456789012"]
)
def test_guessable_passwords_are_refused_everywhere(app, runner, admin, password):
    with pytest.raises(ValidationFailed) as refused:
        users.check_password_policy(password, "mario.rossi")
    assert "troppo facile da indovinare" in refused.value.errors["password"][0]
    result = runner.invoke(args=["create-user", "giulia", "--role", "admin"], input=f"{password}\n")
    assert result.exit_code != 0 and "troppo facile da indovinare" in result.stderr
    with pytest.raises(ValidationFailed):
        users.set_password(SYSTEM, admin, password)


def test_the_policy_knows_the_persons_name(app):
    with pytest.raises(ValidationFailed):
        users.create_user(
            SYSTEM,
            username="vbortolazzi",
            password="Bortolazzi1234",  # noqa: S106 - the refused password under test
            role="auditor",
            full_name="Verdiana Bortolazzi",
        )
    users.check_password_policy("Bortolazzi1234", "mario.rossi")  # strong for someone else


def test_the_admin_page_explains_a_refused_password(client, admin):
    f.login(client, admin)
    data = {"username": "nuovo", "role": "auditor", "password": "qwerty123456"}
    html = client.post("/admin/utenti/nuovo", data={**data, "confirm": "qwerty123456"}).get_data(
        as_text=True
    )
    assert "troppo facile da indovinare" in html and "sequenze della" in html


# (10) Self-service sessions ----------------------------------------------------------------


@pytest.fixture
def world(client, app):
    return make_world(client)


def signed_in_copy(app, world):
    """Sign in on /saldo and return (voucher, a second browser holding a copy of the cookie)."""
    voucher, pin = world.issue()
    response = world.client.post("/saldo", data={"code": voucher.code, "pin": pin})
    assert response.status_code == 303
    thief = app.test_client()
    thief.set_cookie(COOKIE, world.client.get_cookie(COOKIE).value)
    assert thief.get("/saldo/buono").status_code == 200
    return voucher, thief


def test_a_copied_saldo_cookie_dies_with_sign_out(app, world):
    _voucher, thief = signed_in_copy(app, world)
    assert world.client.post("/saldo/esci").status_code == 303
    assert thief.get("/saldo/buono").status_code == 302
    assert thief.get("/saldo/buono/lettera.pdf").status_code == 302


@pytest.mark.parametrize("action", ["reset_pin", "revoke"])
def test_a_copied_saldo_cookie_dies_with_a_new_pin_or_a_revocation(app, world, action):
    voucher, thief = signed_in_copy(app, world)
    if action == "reset_pin":
        vouchers.reset_pin(SYSTEM, voucher)
    else:
        vouchers.revoke_voucher(SYSTEM, voucher, "Lettera smarrita")
    db.session.commit()
    assert thief.get("/saldo/buono").status_code == 302
    assert world.client.get("/saldo/buono").status_code == 302


# (11) Staff sessions -----------------------------------------------------------------------


def test_a_busy_staff_session_still_ends_eight_hours_after_sign_in(client, admin, moved_clock):
    f.login(client, admin)
    for hour in range(8):
        moved_clock(timedelta(hours=hour, minutes=59))
        assert page(client, "/admin/utenti").status_code == 200  # each request renews the cookie
    copy = client.get_cookie(COOKIE).value
    moved_clock(timedelta(hours=8, seconds=1))
    ended = page(client, "/admin/utenti")
    assert ended.status_code == 302 and "/accesso" in ended.headers["Location"]
    assert "La sessione è scaduta" in page(client, "/accesso").get_data(as_text=True)
    client.set_cookie(COOKIE, copy)
    assert page(client, "/admin/utenti").status_code == 302


def test_the_staff_session_lifetime_is_configurable(client, admin, app, monkeypatch, moved_clock):
    monkeypatch.setitem(app.config, "STAFF_SESSION_LIFETIME", timedelta(hours=1))
    f.login(client, admin)
    moved_clock(timedelta(minutes=59))
    assert page(client, "/admin/utenti").status_code == 200
    moved_clock(timedelta(hours=1, seconds=1))
    assert page(client, "/admin/utenti").status_code == 302


def test_api_tokens_end_at_their_expiry_however_used(client, admin, app, moved_clock):
    headers = f.api_token(client, admin)
    ttl = app.config["API_TOKEN_TTL"]
    for hour in range(int(ttl.total_seconds() // 3600)):
        moved_clock(timedelta(hours=hour, minutes=59))
        assert client.get("/api/v1/ente", headers=headers).status_code == 200
        # Asking for a token needs the password: a token cannot make another.
        assert client.post("/api/v1/auth/token", headers=headers, json={}).status_code == 422
    moved_clock(ttl + timedelta(seconds=1))
    assert client.get("/api/v1/ente", headers=headers).status_code == 401


def test_the_nightly_job_deletes_ended_sign_in_state(app, runner, world, moved_clock):
    voucher, pin = world.issue()
    world.client.post("/saldo", data={"code": voucher.code, "pin": pin})
    token_request(world.client, "nessuno", "sbagliata-di-sicuro", ATTACKER)
    admin = f.make_user("admin")
    f.api_token(world.client, admin)
    state = [
        lambda: db.session.execute(select(BeneficiarySession)).first(),
        lambda: db.session.execute(select(ApiToken)).first(),
        lambda: sign_in.failure_count("nessuno", ATTACKER["REMOTE_ADDR"]),
    ]
    assert all(kept() for kept in state)
    moved_clock(app.config["API_TOKEN_TTL"] + timedelta(minutes=1))
    result = runner.invoke(args=["expire"])
    # The session, the token and two counters (for the username, and from that address).
    assert result.exit_code == 0 and "blocchi d'accesso scaduti eliminati: 4." in result.stdout
    assert not any(kept() for kept in state)
