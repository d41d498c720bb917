"""The redemptions API: recording services (idempotently), every refusal, the ledger by
audience, reversals."""

import base64
import itertools
import json
import threading
import time
from datetime import timedelta
from decimal import Decimal

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, select, update

from tests import factories as f
from tests.api.voucher_world import api_key_headers, assert_problem, bearer, make_world
from tests.conftest import make_app
from voucher.documents.signing import keyring, voucher_claims
from voucher.extensions import db
from voucher.models import ApiKey, LedgerEntry, Voucher
from voucher.services import SYSTEM, clock, providers, vouchers

_keys = itertools.count(1)
BODY_KEYS = {
    "id",
    "voucher_code",
    "service_code",
    "service_date",
    "amount_cents",
    "public_cents",
    "copay_cents",
    "balance_cents",
}
ENTRY_KEYS = {
    "id",
    "kind",
    "voucher_code",
    "provider_id",
    "service_code",
    "service_date",
    "quantity",
    "amount_cents",
    "public_cents",
    "copay_cents",
    "created_at",
}


@pytest.fixture
def world(client, app):
    return make_world(client)


def redeem(world, target, /, *, headers=None, key=None, **body):
    """POST /redemptions as the world's provider operator, with a fresh key unless given;
    `target` is a voucher, a code or a payload (a `voucher=` in `body` overrides it)."""
    ref = target if isinstance(target, str) else target.code
    payload = {"voucher": ref, "service_code": "A1", "service_date": clock.today().isoformat()}
    payload.update(body)
    if "quantity" not in body and "amount_cents" not in body:
        payload["amount_cents"] = 1000
    payload = {k: v for k, v in payload.items() if v is not ...}
    headers = dict(world.headers("provider") if headers is None else headers)
    headers["Idempotency-Key"] = f"chiave-{next(_keys)}" if key is None else key
    return world.client.post("/api/v1/redemptions", json=payload, headers=headers)


def ledger_count() -> int:
    return db.session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()


def balance_of(code: str) -> int:
    db.session.expire_all()
    return vouchers.get_voucher(code).balance_cents


# --- recording ----------------------------------------------------------------------------


def test_redeem_by_code(world):
    voucher, _pin = world.issue()
    response = redeem(world, voucher, amount_cents=1250)
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) >= BODY_KEYS
    assert body["voucher_code"] == voucher.code and body["service_code"] == "A1"
    assert body["service_date"] == clock.today().isoformat()
    assert (body["amount_cents"], body["public_cents"], body["copay_cents"]) == (1250, 1250, 0)
    assert body["balance_cents"] == 50_000 - 1250 == balance_of(voucher.code)


def test_redeem_with_a_provider_api_key(world):
    voucher, _pin = world.issue()
    response = redeem(world, voucher, headers=api_key_headers(world.provider))
    assert response.status_code == 201
    assert response.get_json()["provider_id"] == world.provider.id


def revoke_elsewhere(headers: dict) -> None:
    """Revoke the key in the database only, as another server process would: this one
    still trusts it for a few seconds."""
    digest = providers._digest(headers["Authorization"].removeprefix("Bearer "))
    db.session.execute(
        update(ApiKey).where(ApiKey.key_hash == digest).values(revoked_at=func.now())
    )
    db.session.commit()


def test_a_key_revoked_elsewhere_moves_no_more_money(world):
    voucher, _pin = world.issue()
    headers = api_key_headers(world.provider)
    assert redeem(world, voucher, headers=headers).status_code == 201
    revoke_elsewhere(headers)
    # Still trusted by this process for reading...
    assert world.client.get("/api/v1/revocations", headers=headers).status_code == 200
    # ...but a redemption checks the key in its own transaction.
    before = ledger_count()
    assert_problem(redeem(world, voucher, headers=headers), 401, "unauthorized")
    assert ledger_count() == before
    assert balance_of(voucher.code) == 50_000 - 1000


def test_a_key_revoked_elsewhere_stops_working_once_no_longer_trusted(world, monkeypatch):
    headers = api_key_headers(world.provider)
    assert world.client.get("/api/v1/revocations", headers=headers).status_code == 200
    revoke_elsewhere(headers)
    later = time.monotonic() + providers.KEY_TRUSTED_SECONDS + 1
    monkeypatch.setattr(providers.time, "monotonic", lambda: later)
    assert_problem(world.client.get("/api/v1/revocations", headers=headers), 401, "unauthorized")


def test_a_trusted_key_is_not_looked_up_again(world):
    headers = api_key_headers(world.provider)
    statements = []
    engine = db.engine
    record = lambda *args: statements.append(args[2])  # noqa: E731 - the statement text
    event.listen(engine, "before_cursor_execute", record)
    try:
        for _ in range(3):
            world.client.get("/api/v1/revocations", headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert sum("api_key" in statement for statement in statements) == 1


def test_redeem_by_qr_payload_checks_the_signature(world):
    voucher, _pin = world.issue()
    response = redeem(world, voucher.qr_payload, amount_cents=500)
    assert response.status_code == 201
    assert response.get_json()["voucher_code"] == voucher.code


def _tampered(payload: str) -> str:
    header, claims, signature = payload.split(".")
    flipped = claims[:-2] + ("A" if claims[-2] != "A" else "B") + claims[-1]
    return f"{header}.{flipped}.{signature}"


def test_a_tampered_qr_payload_is_invalid_signature(world):
    voucher, _pin = world.issue()
    other, _pin = world.issue(person=f.make_beneficiary())
    header, _claims, signature = voucher.qr_payload.split(".")
    swapped = f"{header}.{other.qr_payload.split('.')[1]}.{signature}"
    for forged in (_tampered(voucher.qr_payload), swapped, voucher.qr_payload[:-3] + "abc"):
        assert_problem(redeem(world, forged), 400, "invalid_signature")
    assert ledger_count() == 0


@pytest.mark.parametrize("kid", ["ours", "theirs", "missing"])
def test_a_payload_signed_by_a_foreign_key_is_invalid_signature(world, kid):
    voucher, _pin = world.issue()
    claims = voucher_claims(voucher.code, voucher.valid_from, voucher.valid_until, "x")
    headers = {"ours": {"kid": keyring().active.kid}, "theirs": {"kid": "straniera"}}.get(kid)
    forged = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers=headers)
    assert_problem(redeem(world, forged), 400, "invalid_signature")
    assert balance_of(voucher.code) == voucher.value_cents


def _b64(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


MALFORMED_PAYLOADS = {
    "not base64": "a.b.c",
    "empty parts": "..",
    "alg none": f"{_b64({'alg': 'none'})}.{_b64({'code': 'X'})}.",
    "kid is a list": f"{_b64({'alg': 'EdDSA', 'kid': [1]})}.{_b64({})}.AAAA",
    "kid is an object": f"{_b64({'alg': 'EdDSA', 'kid': {}})}.{_b64({})}.AAAA",
    "header is a list": f"{_b64([])}.{_b64({})}.AAAA",
    "another algorithm": f"{_b64({'alg': 'HS256', 'kid': 'x'})}.{_b64({'code': 'X'})}.AAAA",
    "claims not json": f"{_b64({'alg': 'EdDSA'})}.bm90IGpzb24.AAAA",
}


@pytest.mark.parametrize("forged", MALFORMED_PAYLOADS.values(), ids=MALFORMED_PAYLOADS.keys())
def test_malformed_payloads_are_invalid_signature(world, forged):
    assert_problem(redeem(world, forged), 400, "invalid_signature")


# --- quantities and rounding --------------------------------------------------------------


@pytest.mark.parametrize(
    ("coverage", "quantity", "price", "expected"),
    [
        # 1.5 h × 19.99 € = 29.985 € → 29.99 €; 70 % of it = 20.993 € → 20.99 €.
        (70, 1.5, 1999, (2999, 2099, 900)),
        # 50 % of 29.99 € = 14.995 € → 15.00 € (half-up, not half-even).
        (50, 1.5, 1999, (2999, 1500, 1499)),
        # 0.15 as a binary float is 0.1499…; read exactly, 0.15 × 19.90 € = 2.985 € → 2.99 €.
        (100, 0.15, 1990, (299, 299, 0)),
        (100, "2.25", 2000, (4500, 4500, 0)),
        (100, 3, 2000, (6000, 6000, 0)),
    ],
)
def test_quantity_is_priced_half_up(client, app, coverage, quantity, price, expected):
    world = make_world(
        client,
        unit_price_cents=price,
        copay_bands=[{"isee_max_cents": 5_000_000, "coverage_percent": coverage}],
    )
    voucher, _pin = world.issue()
    assert voucher.coverage_percent == coverage
    response = redeem(world, voucher, quantity=quantity)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["amount_cents"], body["public_cents"], body["copay_cents"]) == expected
    assert Decimal(str(body["quantity"])) == Decimal(str(quantity))
    assert body["balance_cents"] == voucher.value_cents - expected[1]


@pytest.mark.parametrize(
    "quantity",
    [1.005, 0, -1, "uno", True, None, 10**9, 1e300, "1e999999999", "NaN", "Infinity", [], {}],
)
def test_bad_quantities_are_validation_errors(world, quantity):
    voucher, _pin = world.issue()
    problem = assert_problem(redeem(world, voucher, quantity=quantity), 422, "validation_error")
    assert set(problem["errors"]) & {"quantity", "amount_cents"}


def test_quantity_on_a_euro_scheme_is_refused(client, app):
    world = make_world(client, unit="EUR", unit_price_cents=None)
    voucher, _pin = world.issue()
    problem = assert_problem(redeem(world, voucher, quantity=1), 422, "validation_error")
    assert "quantity" in problem["errors"]
    assert redeem(world, voucher, amount_cents=700).status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"amount_cents": 100, "quantity": 1},
        {"amount_cents": None, "quantity": None},
        {"amount_cents": 0},
        {"amount_cents": -5},
        {"amount_cents": 10.5},
        {"amount_cents": "100"},
        {"amount_cents": 2**31},
        {"service_date": "2026-02-30"},
        {"service_date": "ieri"},
        {"service_date": None},
        {"service_code": ""},
        {"service_code": "X" * 50},
        {"voucher": ""},
        {"voucher": "x" * 5000},
        {"voucher": 12345},
        {"extra": True},
    ],
)
def test_bad_bodies_are_validation_errors(world, body):
    voucher, _pin = world.issue()
    assert_problem(redeem(world, voucher, **body), 422, "validation_error")
    assert ledger_count() == 0


@pytest.mark.parametrize(
    ("data", "content_type"),
    [("{rotto", "application/json"), ("[]", "application/json"), ("x", "text/plain")],
)
def test_non_json_bodies_are_client_errors(world, data, content_type):
    headers = {**world.headers("provider"), "Idempotency-Key": "k"}
    response = world.client.post(
        "/api/v1/redemptions", data=data, content_type=content_type, headers=headers
    )
    assert 400 <= response.status_code < 500
    assert response.mimetype == "application/problem+json"


# --- idempotency --------------------------------------------------------------------------


def test_a_retry_returns_the_original_answer_and_changes_nothing(world):
    voucher, _pin = world.issue()
    first = redeem(world, voucher, key="visita-42", quantity=1.5)
    assert first.status_code == 201
    count, balance = ledger_count(), balance_of(voucher.code)
    redeem(world, voucher, amount_cents=100)  # the balance moves on in between
    again = redeem(world, voucher, key="visita-42", quantity=1.5)
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert ledger_count() == count + 1  # only the other redemption
    assert balance_of(voucher.code) == balance - 100


def test_a_retry_is_replayed_even_once_the_voucher_is_spent(world):
    voucher, _pin = world.issue()
    first = redeem(world, voucher, key="tutto", amount_cents=voucher.value_cents)
    assert first.status_code == 201 and first.get_json()["balance_cents"] == 0
    again = redeem(world, voucher, key="tutto", amount_cents=voucher.value_cents)
    assert (again.status_code, again.get_json()) == (201, first.get_json())


@pytest.mark.parametrize(
    "change",
    [{"amount_cents": 1001}, {"service_code": "A2"}, {"quantity": 1}, {"voucher": "other"}],
)
def test_the_same_key_with_another_body_is_a_conflict(world, change):
    voucher, _pin = world.issue()
    assert redeem(world, voucher, key="stessa", amount_cents=1000).status_code == 201
    if change.get("voucher") == "other":
        other, _pin = world.issue(person=f.make_beneficiary())
        change = {"voucher": other.code}
    if "quantity" in change:
        change = {**change, "amount_cents": ...}
    count = ledger_count()
    response = redeem(world, voucher, key="stessa", **change)
    assert_problem(response, 422, "idempotency_conflict")
    assert ledger_count() == count


def test_keys_belong_to_one_provider(world):
    voucher, _pin = world.issue()
    other = f.make_provider(services=("A1",), valid_from=clock.today() - timedelta(days=400))
    other_user = f.make_user("provider", provider=other)
    assert redeem(world, voucher, key="condivisa").status_code == 201
    response = redeem(world, voucher, key="condivisa", headers=bearer(other_user))
    assert response.status_code == 201
    assert ledger_count() == 2


def test_missing_idempotency_key_is_400(world):
    voucher, _pin = world.issue()
    body = {"voucher": voucher.code, "service_code": "A1", "amount_cents": 100}
    for headers in ({}, {"Idempotency-Key": ""}, {"Idempotency-Key": "   "}):
        response = world.client.post(
            "/api/v1/redemptions", json=body, headers={**world.headers("provider"), **headers}
        )
        assert_problem(response, 400, "idempotency_key_required")
    assert ledger_count() == 0


def test_idempotency_key_length(world):
    voucher, _pin = world.issue()
    problem = assert_problem(redeem(world, voucher, key="k" * 256), 422, "validation_error")
    assert "Idempotency-Key" in problem["errors"]
    assert redeem(world, voucher, key="k" * 255).status_code == 201
    assert redeem(world, voucher, key="k").status_code == 201
    problem = assert_problem(redeem(world, voucher, key="chiave-è"), 422, "validation_error")
    assert "Idempotency-Key" in problem["errors"]


def test_idempotency_key_is_in_the_openapi_document(client, app):
    doc = client.get("/api/v1/openapi.json").get_json()
    parameters = doc["paths"]["/api/v1/redemptions"]["post"]["parameters"]
    key = next(p for p in parameters if p["name"] == "Idempotency-Key")
    assert key["in"] == "header" and key["required"] is True
    assert key["schema"]["maxLength"] == 255


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 403), ("social_worker", 403), ("auditor", 403), ("provider", 201), (None, 401)],
)
def test_redeem_role_matrix(world, role, status):
    voucher, _pin = world.issue()
    headers = world.headers(role) if role else {}
    response = redeem(world, voucher, headers=headers)
    assert response.status_code == status


# --- refusals -----------------------------------------------------------------------------


def test_unknown_voucher(world):
    for ref in ("AAAA-BBBB-CCCC-DDDD", "aaaabbbbccccdddd", "nessuno", "1234"):
        assert_problem(redeem(world, ref), 404, "voucher_not_found")
    assert_problem(redeem(world, "\x00"), 422, "validation_error")


def test_insufficient_balance(world):
    voucher, _pin = world.issue()
    problem = assert_problem(
        redeem(world, voucher, amount_cents=voucher.value_cents + 1), 409, "insufficient_balance"
    )
    assert "500,00" in problem["detail"]
    assert balance_of(voucher.code) == voucher.value_cents


def test_exhausted(world):
    voucher, _pin = world.issue()
    assert redeem(world, voucher, amount_cents=voucher.value_cents).status_code == 201
    assert_problem(redeem(world, voucher, amount_cents=1), 409, "voucher_exhausted")


def test_revoked_and_suspended(world):
    revoked, _pin = world.issue()
    vouchers.revoke_voucher(SYSTEM, revoked, "Prova")
    suspended, _pin = world.issue(person=f.make_beneficiary())
    vouchers.suspend_voucher(SYSTEM, suspended, "Prova")
    db.session.commit()
    assert_problem(redeem(world, revoked), 409, "voucher_revoked")
    assert_problem(redeem(world, suspended), 409, "voucher_suspended")


def test_expired_and_not_yet_valid(client, app):
    today = clock.today()
    world = make_world(
        client, valid_from=today - timedelta(days=90), valid_until=today - timedelta(days=1)
    )
    expired, _pin = world.issue(day=today - timedelta(days=30))
    body = {"service_date": (today - timedelta(days=20)).isoformat()}
    assert_problem(redeem(world, expired, **body), 409, "voucher_expired")
    future = f.make_scheme(
        valid_from=today + timedelta(days=10), valid_until=today + timedelta(days=100)
    )
    early, _pin = world.issue(scheme=future)
    assert_problem(redeem(world, early), 409, "voucher_not_yet_valid")


def test_not_accredited(world):
    voucher, _pin = world.issue()
    narrow = f.make_provider(services=("A1",), valid_from=clock.today() - timedelta(days=400))
    headers = bearer(f.make_user("provider", provider=narrow))
    assert_problem(
        redeem(world, voucher, headers=headers, service_code="A2"), 403, "not_accredited"
    )
    providers.suspend_provider(SYSTEM, narrow)
    db.session.commit()
    assert_problem(redeem(world, voucher, headers=headers), 403, "not_accredited")


def test_service_not_in_scheme(world):
    voucher, _pin = world.issue()
    providers.accredit(SYSTEM, world.provider, "A3", clock.today() - timedelta(days=10))
    db.session.commit()
    assert_problem(redeem(world, voucher, service_code="A3"), 422, "service_not_in_scheme")


def test_over_redemption_limit(client, app):
    world = make_world(client, max_redemption_cents=5000)
    voucher, _pin = world.issue()
    assert_problem(redeem(world, voucher, amount_cents=5001), 422, "over_redemption_limit")
    assert redeem(world, voucher, amount_cents=5000).status_code == 201


def test_service_date_in_the_future_or_outside_validity(client, app):
    today = clock.today()
    world = make_world(
        client, valid_from=today - timedelta(days=10), valid_until=today + timedelta(days=10)
    )
    voucher, _pin = world.issue()
    for day in (today + timedelta(days=1), today - timedelta(days=11)):
        problem = assert_problem(
            redeem(world, voucher, service_date=day.isoformat()), 422, "validation_error"
        )
        assert "service_date" in problem["errors"]
    assert balance_of(voucher.code) == voucher.value_cents


# --- the ledger ---------------------------------------------------------------------------


def _two_providers(world):
    """A redemption by the world's provider and one by another; returns both ids."""
    voucher, _pin = world.issue()
    other = f.make_provider(services=("A1",), valid_from=clock.today() - timedelta(days=400))
    other_headers = bearer(f.make_user("provider", provider=other))
    mine = redeem(world, voucher, amount_cents=300).get_json()["id"]
    theirs = redeem(world, voucher, amount_cents=400, headers=other_headers).get_json()["id"]
    return voucher, other, mine, theirs


def test_a_provider_sees_only_its_own_entries(world):
    voucher, other, mine, theirs = _two_providers(world)
    headers = world.headers("provider")
    listed = world.client.get("/api/v1/redemptions", headers=headers).get_json()
    assert [e["id"] for e in listed] == [mine]
    own = world.client.get(
        "/api/v1/redemptions", query_string={"provider_id": world.provider.id}, headers=headers
    )
    assert [e["id"] for e in own.get_json()] == [mine]
    foreign = world.client.get(
        "/api/v1/redemptions", query_string={"provider_id": other.id}, headers=headers
    )
    assert foreign.status_code == 200 and foreign.get_json() == []
    by_voucher = world.client.get(
        "/api/v1/redemptions", query_string={"voucher": voucher.code}, headers=headers
    )
    assert [e["id"] for e in by_voucher.get_json()] == [mine]


@pytest.mark.parametrize("role", ["admin", "social_worker", "auditor"])
def test_staff_see_every_entry(world, role):
    voucher, other, mine, theirs = _two_providers(world)
    headers = world.headers(role)
    listed = world.client.get("/api/v1/redemptions", headers=headers).get_json()
    assert [e["id"] for e in listed] == [mine, theirs]
    entry = listed[0]
    assert set(entry) >= ENTRY_KEYS and "reverses" not in entry
    assert entry["kind"] == "redemption" and entry["voucher_code"] == voucher.code
    assert entry["provider_id"] == world.provider.id and entry["quantity"] is None
    assert entry["created_at"].endswith("+00:00")
    filtered = world.client.get(
        "/api/v1/redemptions", query_string={"provider_id": other.id}, headers=headers
    )
    assert [e["id"] for e in filtered.get_json()] == [theirs]


def test_ledger_filters(world):
    today = clock.today()
    voucher, _pin = world.issue()
    other, _pin = world.issue(person=f.make_beneficiary())
    days = [today - timedelta(days=n) for n in (0, 1, 2)]
    ids = [redeem(world, voucher, service_date=d.isoformat()).get_json()["id"] for d in days]
    redeem(world, other)
    headers = world.headers("admin")

    def listed(**query):
        response = world.client.get("/api/v1/redemptions", query_string=query, headers=headers)
        assert response.status_code == 200
        return [e["id"] for e in response.get_json()]

    assert listed(voucher=voucher.code) == ids
    assert listed(voucher=voucher.code.lower().replace("-", "")) == ids
    assert listed(voucher="AAAA-BBBB-CCCC-DDDD") == []
    assert listed(voucher=voucher.code, **{"from": days[1].isoformat()}) == ids[:2]
    assert listed(voucher=voucher.code, to=days[1].isoformat()) == ids[1:]
    assert listed(
        voucher=voucher.code, **{"from": days[1].isoformat(), "to": days[1].isoformat()}
    ) == [ids[1]]


def test_ledger_pages(world):
    voucher, _pin = world.issue()
    ids = [redeem(world, voucher, amount_cents=10).get_json()["id"] for _ in range(5)]
    headers = world.headers("auditor")
    response = world.client.get(
        "/api/v1/redemptions?limit=2&_scheme=ftp&_external=1&altro=x", headers=headers
    )
    assert [e["id"] for e in response.get_json()] == ids[:2]
    seen = [e["id"] for e in response.get_json()]
    while "Link" in response.headers:
        target = response.headers["Link"].split(">")[0].lstrip("<")
        response = world.client.get(target, headers=headers)
        seen += [e["id"] for e in response.get_json()]
    assert seen == ids


@pytest.mark.parametrize(
    "query",
    [
        {"provider_id": "uno"},
        {"provider_id": 2**40},
        {"provider_id": 0},
        {"from": "ieri"},
        {"to": "2026-02-30"},
        {"limit": 0},
        {"limit": 10**9},
        {"after_id": -1},
        {"voucher": "x" * 500},
    ],
)
def test_bad_ledger_queries_are_422(world, query):
    response = world.client.get(
        "/api/v1/redemptions", query_string=query, headers=world.headers("admin")
    )
    assert_problem(response, 422, "validation_error")


def test_ledger_needs_a_token(world):
    assert_problem(world.client.get("/api/v1/redemptions"), 401, "unauthorized")


# --- reversals ----------------------------------------------------------------------------


def test_reversal_restores_the_balance(world):
    voucher, _pin = world.issue()
    original = redeem(world, voucher, quantity=1.5).get_json()
    headers = world.headers("social_worker")
    response = world.client.post(
        f"/api/v1/redemptions/{original['id']}/reversal",
        json={"reason": "Prestazione non resa"},
        headers=headers,
    )
    assert response.status_code == 201
    reversal = response.get_json()
    assert reversal["kind"] == "reversal" and reversal["reverses"] == original["id"]
    assert reversal["reason"] == "Prestazione non resa"
    for key in ("amount_cents", "public_cents", "copay_cents"):
        assert reversal[key] == -original[key]
    assert reversal["quantity"] == -1.5
    assert reversal["voucher_code"] == voucher.code
    assert balance_of(voucher.code) == voucher.value_cents
    again = world.client.post(
        f"/api/v1/redemptions/{original['id']}/reversal", json={"reason": "Ancora"}, headers=headers
    )
    assert_problem(again, 409, "already_reversed")
    assert balance_of(voucher.code) == voucher.value_cents
    # The provider sees the reversal of its own redemption.
    listed = world.client.get(
        "/api/v1/redemptions",
        query_string={"voucher": voucher.code},
        headers=world.headers("provider"),
    ).get_json()
    assert [e["kind"] for e in listed] == ["redemption", "reversal"]
    # A reversal cannot itself be reversed.
    response = world.client.post(
        f"/api/v1/redemptions/{reversal['id']}/reversal", json={"reason": "No"}, headers=headers
    )
    assert_problem(response, 422, "validation_error")


def test_reversal_reactivates_an_exhausted_voucher(world):
    voucher, _pin = world.issue()
    entry = redeem(world, voucher, amount_cents=voucher.value_cents).get_json()
    response = world.client.post(
        f"/api/v1/redemptions/{entry['id']}/reversal",
        json={"reason": "Errore"},
        headers=world.headers("admin"),
    )
    assert response.status_code == 201
    db.session.expire_all()
    assert vouchers.get_voucher(voucher.code).status == "active"


@pytest.mark.parametrize("entry_id", ["999999", str(2**31), str(10**30)])
def test_reversing_an_unknown_entry_is_404(world, entry_id):
    response = world.client.post(
        f"/api/v1/redemptions/{entry_id}/reversal",
        json={"reason": "Errore"},
        headers=world.headers("admin"),
    )
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": " "}, {"reason": "x" * 501}])
def test_reversal_needs_a_reason(world, body):
    voucher, _pin = world.issue()
    entry = redeem(world, voucher).get_json()
    response = world.client.post(
        f"/api/v1/redemptions/{entry['id']}/reversal", json=body, headers=world.headers("admin")
    )
    problem = assert_problem(response, 422, "validation_error")
    assert "reason" in problem["errors"]


# The provider cancels its own redemption on the day it recorded it (201 here); from the next
# day, or another provider's, it is refused: tests/api/test_provider_cancellation.py.
@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 201), ("social_worker", 201), ("auditor", 403), ("provider", 201), (None, 401)],
)
def test_reversal_role_matrix(world, role, status):
    voucher, _pin = world.issue()
    entry = redeem(world, voucher).get_json()
    response = world.client.post(
        f"/api/v1/redemptions/{entry['id']}/reversal",
        json={"reason": "Errore"},
        headers=world.headers(role) if role else {},
    )
    assert response.status_code == status


# --- concurrency (real commits on PostgreSQL) ----------------------------------------------


@pytest.mark.postgres_only
def test_concurrent_redemptions_never_overspend(postgres_url, tmp_path):
    app = make_app(postgres_url, tmp_path)
    with app.app_context():
        world = make_world(app.test_client(), face_value_cents=10_000)
        voucher, _pin = world.issue()
        code = voucher.code
        headers = world.headers("provider")
    results, lock = [], threading.Lock()

    def attempt(n: int, key: str):
        response = app.test_client().post(
            "/api/v1/redemptions",
            json={
                "voucher": code,
                "service_code": "A1",
                "service_date": clock.today().isoformat(),
                "amount_cents": 700,
            },
            headers={**headers, "Idempotency-Key": key},
        )
        with lock:
            results.append((key, response.status_code, response.get_json()))

    # 20 distinct redemptions of 7 € on 100 €, and 10 retries of one key, all at once.
    threads = [threading.Thread(target=attempt, args=(n, f"k{n}")) for n in range(20)]
    threads += [threading.Thread(target=attempt, args=(n, "ripetuta")) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert {status for _k, status, _b in results} <= {201, 409}
        accepted = {body["id"] for _k, status, body in results if status == 201}
        replays = [body for key, status, body in results if key == "ripetuta"]
        assert all(body == replays[0] for body in replays)
        refused = [b for _k, s, b in results if s == 409]
        assert all(b["code"] == "insufficient_balance" for b in refused)
        with app.app_context():
            rows = db.session.execute(select(LedgerEntry)).scalars().all()
            balance = db.session.execute(
                select(Voucher.balance_cents).where(Voucher.code == code)
            ).scalar_one()
            assert {r.id for r in rows} == accepted
            assert len(rows) == 14  # 14 × 7 € fit in 100 €
            assert balance == 10_000 - sum(r.public_cents for r in rows) >= 0
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# --- garbage never crashes ----------------------------------------------------------------

REAL_VOUCHER = "<real voucher>"  # replaced by the code of a voucher issued for the example
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=40)
    | st.sampled_from(["A1", "2026-01-01", "1.5", "AAAA-BBBB-CCCC-DDDD", "a.b.c", "\ud800"])
    | st.just(REAL_VOUCHER),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
REDEMPTION_BODIES = (
    st.fixed_dictionaries(
        {},
        optional={
            "voucher": JSON_VALUES,
            "service_code": JSON_VALUES,
            "service_date": JSON_VALUES,
            "amount_cents": JSON_VALUES,
            "quantity": JSON_VALUES,
        },
    )
    | JSON_VALUES
)
KEYS = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=300)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=REDEMPTION_BODIES, key=KEYS)
def test_no_redemption_body_is_a_server_error(world, body, key):
    if isinstance(body, dict) and body.get("voucher") == REAL_VOUCHER:
        body["voucher"] = world.issue(person=f.make_beneficiary())[0].code
    headers = {**world.headers("provider"), "Idempotency-Key": key}
    response = world.client.post("/api/v1/redemptions", json=body, headers=headers)
    assert response.status_code < 500, response.get_data(as_text=True)
    assert response.mimetype in ("application/json", "application/problem+json")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    query=st.dictionaries(
        st.sampled_from(["voucher", "provider_id", "from", "to", "after_id", "limit"]),
        st.text(max_size=30),
        max_size=4,
    ),
    reversal=JSON_VALUES,
)
def test_no_ledger_query_or_reversal_is_a_server_error(world, query, reversal):
    headers = world.headers("admin")
    response = world.client.get("/api/v1/redemptions", query_string=query, headers=headers)
    assert response.status_code < 500, response.get_data(as_text=True)
    response = world.client.post(
        "/api/v1/redemptions/1/reversal", json={"reason": reversal}, headers=headers
    )
    assert response.status_code < 500, response.get_data(as_text=True)
