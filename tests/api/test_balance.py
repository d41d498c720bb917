"""Beneficiary self-service: balance with code and PIN, the same 401 for a wrong code or
PIN, the lockout after five wrong PINs, and the per-address rate limit."""

import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories as f
from tests.api.voucher_world import assert_problem, make_world
from tests.conftest import make_app
from voucher.extensions import db, limiter
from voucher.services import SYSTEM, clock, providers, redemption, vouchers
from voucher.services.redemption import RedemptionRequest


@pytest.fixture
def world(client, app):
    return make_world(client)


def check(client, code, pin, **kwargs):
    return client.post("/api/v1/balance", json={"code": code, "pin": pin}, **kwargs)


def wrong_pin(pin: str) -> str:
    return f"{(int(pin) + 1) % 10**6:06d}"


def test_balance_with_code_and_pin(world):
    voucher, pin = world.issue()
    provider = world.provider
    provider.email, provider.phone = "info@coop.example", "055 123456"
    entry, _ = redemption.redeem(
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
    redemption.reverse_redemption(SYSTEM, entry.id, "Errore")
    f.make_provider(services=("B1",))  # not for this voucher's services
    db.session.commit()

    response = check(world.client, voucher.code.lower().replace("-", " "), pin)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["code"] == voucher.code and body["status"] == "active"
    assert body["value_cents"] == 50_000 and body["balance_cents"] == 50_000 - 800
    assert body["valid_until"] == voucher.valid_until.isoformat()
    assert body["scheme_name"] == world.scheme.name
    assert body["unit"] == "HOUR" and body["balance_units"] == 24.6  # 492 € at 20 €/h
    history = body["redemptions"]
    assert [(e["kind"], e["public_cents"]) for e in history] == [
        ("redemption", 3000),
        ("redemption", 800),
        ("reversal", -3000),
    ]
    assert history[1]["service_name"] == "Pasti a domicilio"
    assert history[1]["provider_name"] == provider.name
    assert history[0]["quantity"] == 1.5 and history[1]["copay_cents"] == 0
    assert body["providers"] == [
        {
            "name": provider.name,
            "services": [
                {
                    "code": "A1",
                    "name": "Assistenza domiciliare sociale per anziani autosufficienti",
                },
                {"code": "A2", "name": "Pasti a domicilio"},
            ],
            "email": "info@coop.example",
            "phone": "055 123456",
            "address": None,
        }
    ]
    text = response.get_data(as_text=True)
    assert world.person.fiscal_code not in text and world.person.last_name not in text


def test_providers_list_only_those_accredited_and_active(world):
    voucher, pin = world.issue()
    narrow = f.make_provider(services=("A2",), valid_from=clock.today() - timedelta(days=5))
    suspended = f.make_provider(services=("A1",))
    providers.suspend_provider(SYSTEM, suspended)
    db.session.commit()
    body = check(world.client, voucher.code, pin).get_json()
    listed = {p["name"]: [s["code"] for s in p["services"]] for p in body["providers"]}
    assert listed == {world.provider.name: ["A1", "A2"], narrow.name: ["A2"]}


def test_coverage_shows_in_units_left(client, app):
    world = make_world(
        client,
        unit_price_cents=1999,
        copay_bands=[{"isee_max_cents": 5_000_000, "coverage_percent": 70}],
    )
    voucher, pin = world.issue()
    body = check(client, voucher.code, pin).get_json()
    # 500 € pays 70 % of 19.99 € an hour: 35.73 hours, rounded down.
    assert body["coverage_percent"] == 70 and body["balance_units"] == 35.73


def test_euro_schemes_have_no_units(client, app):
    world = make_world(client, unit="EUR", unit_price_cents=None)
    voucher, pin = world.issue()
    body = check(client, voucher.code, pin).get_json()
    assert body["unit"] == "EUR" and body["balance_units"] is None


def test_wrong_code_and_wrong_pin_get_the_same_answer(world):
    voucher, pin = world.issue()
    wrong_code = check(world.client, "AAAA-BBBB-CCCC-DDDD", pin)
    bad_pin = check(world.client, voucher.code, wrong_pin(pin))
    garbage = check(world.client, "non è un codice", "x")
    for response in (wrong_code, bad_pin, garbage):
        assert_problem(response, 401, "invalid_code_or_pin")
        assert response.headers["Cache-Control"] == "no-store"
    assert wrong_code.get_json() == bad_pin.get_json() == garbage.get_json()
    assert wrong_code.headers.get("WWW-Authenticate") == bad_pin.headers.get("WWW-Authenticate")


def test_a_wrong_pin_is_counted_even_though_the_answer_is_an_error(world):
    voucher, pin = world.issue()
    assert_problem(check(world.client, voucher.code, wrong_pin(pin)), 401, "invalid_code_or_pin")
    db.session.rollback()  # whatever the view did not commit is gone
    db.session.expire_all()
    assert vouchers.get_voucher(voucher.code).pin_failures == 1


def test_five_wrong_pins_lock_the_code(world):
    voucher, pin = world.issue()
    for _ in range(5):
        assert_problem(
            check(world.client, voucher.code, wrong_pin(pin)), 401, "invalid_code_or_pin"
        )
    db.session.rollback()
    locked = check(world.client, voucher.code, pin)  # even the right PIN
    assert_problem(locked, 429, "locked")
    assert locked.headers["Cache-Control"] == "no-store"
    db.session.expire_all()
    until = vouchers.get_voucher(voucher.code).pin_locked_until
    if until.tzinfo is None:
        until = until.replace(tzinfo=clock.now().tzinfo)
    assert timedelta(minutes=14) < until - clock.now() <= timedelta(minutes=15)
    # Another voucher is not affected; a PIN reset by staff lifts the lock.
    other, other_pin = world.issue(person=f.make_beneficiary())
    assert check(world.client, other.code, other_pin).status_code == 200
    new_pin = vouchers.reset_pin(SYSTEM, vouchers.get_voucher(voucher.code))
    db.session.commit()
    assert check(world.client, voucher.code, new_pin).status_code == 200


def test_the_lock_ends_after_fifteen_minutes(world):
    voucher, pin = world.issue()
    for _ in range(5):
        check(world.client, voucher.code, wrong_pin(pin))
    assert_problem(check(world.client, voucher.code, pin), 429, "locked")
    stored = vouchers.get_voucher(voucher.code)
    stored.pin_locked_until = clock.now() - timedelta(seconds=1)  # as if 15 minutes passed
    db.session.commit()
    assert check(world.client, voucher.code, pin).status_code == 200


def test_a_right_pin_resets_the_count(world):
    voucher, pin = world.issue()
    for _ in range(4):
        check(world.client, voucher.code, wrong_pin(pin))
    assert check(world.client, voucher.code, pin).status_code == 200
    for _ in range(4):
        assert check(world.client, voucher.code, wrong_pin(pin)).status_code == 401
    assert check(world.client, voucher.code, pin).status_code == 200


def test_a_revoked_voucher_still_shows_its_state(world):
    voucher, pin = world.issue()
    vouchers.revoke_voucher(SYSTEM, voucher, "Trasferito")
    db.session.commit()
    body = check(world.client, voucher.code, pin).get_json()
    assert body["status"] == "revoked"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"code": "AAAA-BBBB-CCCC-DDDD"},
        {"pin": "123456"},
        {"code": "", "pin": "123456"},
        {"code": 1234, "pin": "123456"},
        {"code": "AAAA", "pin": 123456},
        {"code": None, "pin": None},
        {"code": "x" * 1000, "pin": "1"},
        {"code": "AAAA", "pin": "1", "extra": 1},
        [],
        "codice",
    ],
)
def test_malformed_requests_are_validation_errors(client, app, body):
    response = client.post("/api/v1/balance", json=body)
    assert_problem(response, 422, "validation_error")


def test_non_json_is_a_client_error(client, app):
    response = client.post("/api/v1/balance", data="{", content_type="application/json")
    assert 400 <= response.status_code < 500
    assert response.mimetype == "application/problem+json"


def test_no_token_is_needed_and_a_token_changes_nothing(world):
    voucher, pin = world.issue()
    plain = check(world.client, voucher.code, pin)
    signed_in = check(world.client, voucher.code, pin, headers=world.headers("admin"))
    assert plain.status_code == signed_in.status_code == 200
    assert plain.get_json() == signed_in.get_json()


@pytest.fixture
def rate_limited_app(tmp_path):
    """An application of its own with rate limits on. Flask-Limiter keeps `enabled` on its
    one extension object, so the other applications' setting is put back afterwards."""
    previous, instance = limiter.enabled, os.environ.get("VOUCHER_INSTANCE_PATH")
    app = make_app(
        f"sqlite:///{tmp_path / 'limits.sqlite3'}", tmp_path / "instance", RATELIMIT_ENABLED=True
    )
    try:
        yield app
    finally:
        limiter.enabled = previous
        if instance is not None:
            os.environ["VOUCHER_INSTANCE_PATH"] = instance
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_balance_is_rate_limited_per_address(rate_limited_app):
    client = rate_limited_app.test_client()
    body = {"code": "AAAA-BBBB-CCCC-DDDD", "pin": "123456"}
    for _ in range(30):
        response = client.post("/api/v1/balance", json=body)
        assert response.status_code == 401
    limited = client.post("/api/v1/balance", json=body)
    assert_problem(limited, 429, "rate_limited")
    elsewhere = client.post("/api/v1/balance", json=body, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert elsewhere.status_code == 401


TEXT_OR_JUNK = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=120)
    | st.sampled_from(["\ud800", "AAAA-BBBB-CCCC-DDDD", "123456"])
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.fixed_dictionaries({}, optional={"code": TEXT_OR_JUNK, "pin": TEXT_OR_JUNK}))
def test_no_balance_request_is_a_server_error(client, app, body):
    response = client.post("/api/v1/balance", json=body)
    assert response.status_code in (401, 422), response.get_data(as_text=True)
