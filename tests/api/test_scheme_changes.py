"""The API of an active scheme's changes: POST …/budget, POST …/validity, PUT …/providers,
`provider_ids` on create and read, and the redemption a scheme's list refuses."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests import factories as f
from tests.api.voucher_world import api_key_headers, assert_problem, make_world
from voucher.documents.signing import end_of_day_epoch, keyring
from voucher.extensions import db
from voucher.models import AuditEvent, LedgerEntry
from voucher.services import clock

URL = "/api/v1/schemes/{id}"


@pytest.fixture
def world(client, app):
    return make_world(client)


def _post(world, path, body, role="admin"):
    url = URL.format(id=world.scheme.id) + path
    return world.client.post(url, json=body, headers=world.headers(role))


def _put_providers(world, ids, role="admin"):
    url = URL.format(id=world.scheme.id) + "/providers"
    return world.client.put(url, json={"provider_ids": ids}, headers=world.headers(role))


def test_budget_up_and_down_to_the_committed(world):
    world.issue()  # 500 € committed
    up = _post(world, "/budget", {"budget_cents": 15_000_000, "reason": "Determina n. 123"})
    assert up.status_code == 200, up.get_json()
    assert up.get_json()["budget_cents"] == 15_000_000
    assert up.get_json()["available_cents"] == 15_000_000 - 50_000
    down = _post(world, "/budget", {"budget_cents": 50_000, "reason": "Riduzione"})
    assert down.status_code == 200 and down.get_json()["available_cents"] == 0
    below = _post(world, "/budget", {"budget_cents": 49_999, "reason": "Riduzione"})
    problem = assert_problem(below, 409, "conflict")
    assert "499,99 €" in problem["detail"] and "500,00 €" in problem["detail"]
    assert problem["budget_cents"] == 49_999 and problem["committed_cents"] == 50_000
    events = db.session.execute(
        select(AuditEvent.data).where(AuditEvent.action == "scheme.budget_changed")
    ).scalars()
    assert [(e["old_budget_cents"], e["budget_cents"]) for e in events] == [
        (10_000_000, 15_000_000),
        (15_000_000, 50_000),
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"budget_cents": 100},
        {"budget_cents": -1, "reason": "x"},
        {"budget_cents": 1.5, "reason": "x"},
        {"budget_cents": "100", "reason": "x"},
        {"budget_cents": 2**70, "reason": "x"},
        {"budget_cents": 100, "reason": "   "},
        [],
    ],
)
def test_bad_budget_bodies_are_422(world, body):
    assert_problem(_post(world, "/budget", body), 422, "validation_error")


def test_validity_extension_and_its_vouchers(world):
    voucher, _pin = world.issue()
    end = world.scheme.valid_until
    new_end = end + timedelta(days=31)
    response = _post(
        world,
        "/validity",
        {"valid_until": new_end.isoformat(), "reason": "Det. 9", "extend_vouchers": True},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["valid_until"] == new_end.isoformat()
    db.session.expire_all()
    got = world.client.get(f"/api/v1/vouchers/{voucher.code}", headers=world.headers("admin"))
    assert got.get_json()["valid_until"] == new_end.isoformat()
    claims = keyring().verify(got.get_json()["qr_payload"])
    assert claims["exp"] == end_of_day_epoch(new_end)


@pytest.mark.parametrize(
    ("valid_until", "code"),
    [
        ("2000-01-01", "validation_error"),
        ("9999-12-31", "validation_error"),
        ("31/12/2030", "validation_error"),
        (None, "validation_error"),
    ],
)
def test_bad_extensions_are_422(world, valid_until, code):
    response = _post(world, "/validity", {"valid_until": valid_until, "reason": "Det."})
    problem = assert_problem(response, 422, code)
    assert "valid_until" in problem["errors"]


def test_a_closed_scheme_is_409_and_an_unknown_one_404(world):
    world.client.post(URL.format(id=world.scheme.id) + "/close", headers=world.headers("admin"))
    later = (world.scheme.valid_until + timedelta(days=5)).isoformat()
    assert_problem(
        _post(world, "/validity", {"valid_until": later, "reason": "x"}), 409, "conflict"
    )
    assert_problem(_post(world, "/budget", {"budget_cents": 1, "reason": "x"}), 409, "conflict")
    assert_problem(_put_providers(world, []), 409, "conflict")
    unknown = world.client.post(
        "/api/v1/schemes/999999/budget",
        json={"budget_cents": 1, "reason": "x"},
        headers=world.headers("admin"),
    )
    assert_problem(unknown, 404, "not_found")


@pytest.mark.parametrize("role", ["social_worker", "auditor", "provider"])
def test_only_the_admin_changes_a_scheme(world, role):
    later = (world.scheme.valid_until + timedelta(days=5)).isoformat()
    body = {"budget_cents": 1, "reason": "x"}
    assert_problem(_post(world, "/budget", body, role), 403, "forbidden")
    body = {"valid_until": later, "reason": "x"}
    assert_problem(_post(world, "/validity", body, role), 403, "forbidden")
    assert_problem(_put_providers(world, [], role), 403, "forbidden")
    assert world.client.post(URL.format(id=world.scheme.id) + "/budget").status_code == 401


def _redeem(world, provider, voucher):
    headers = {**api_key_headers(provider), "Idempotency-Key": f"k-{provider.id}"}
    body = {
        "voucher": voucher.code,
        "service_code": "A1",
        "service_date": clock.today().isoformat(),
        "amount_cents": 1_000,
    }
    return world.client.post("/api/v1/redemptions", json=body, headers=headers)


def test_providers_list_limits_redemption_and_the_balance_page(world):
    voucher, pin = world.issue()
    since = clock.today() - timedelta(days=30)
    chosen = f.make_provider(services=("A1",), valid_from=since)
    # open to all: both accredited providers are listed and may redeem
    assert (
        world.client.get(
            URL.format(id=world.scheme.id), headers=world.headers("social_worker")
        ).get_json()["provider_ids"]
        == []
    )
    response = _put_providers(world, [chosen.id])
    assert response.status_code == 200 and response.get_json()["provider_ids"] == [chosen.id]
    refused = _redeem(world, world.provider, voucher)
    assert_problem(refused, 403, "not_accredited")
    assert _redeem(world, chosen, voucher).status_code == 201
    balance = world.client.post("/api/v1/balance", json={"code": voucher.code, "pin": pin})
    assert [p["name"] for p in balance.get_json()["providers"]] == [chosen.name]
    count = db.session.execute(select(LedgerEntry.provider_id)).scalars().all()
    assert count == [chosen.id]
    # opened again: the other provider redeems as before
    assert _put_providers(world, []).get_json()["provider_ids"] == []
    assert _redeem(world, world.provider, voucher).status_code == 201


def test_provider_ids_on_create_and_their_validation(world):
    body = {
        "name": "Misura con fornitori scelti",
        "fund_code": "FSC_OS",
        "year": clock.today().year,
        "service_codes": ["A1"],
        "unit": "EUR",
        "face_value_cents": 10_000,
        "valid_from": date(clock.today().year, 1, 1).isoformat(),
        "valid_until": date(clock.today().year, 12, 31).isoformat(),
        "budget_cents": 1_000_000,
        "eligible_categories": [],
        "provider_ids": [world.provider.id],
    }
    created = world.client.post("/api/v1/schemes", json=body, headers=world.headers("admin"))
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["provider_ids"] == [world.provider.id]
    elsewhere = f.make_provider(services=("B1",))
    for ids in ([elsewhere.id], [0], ["1"], [2**40]):
        response = world.client.post(
            "/api/v1/schemes", json={**body, "provider_ids": ids}, headers=world.headers("admin")
        )
        problem = assert_problem(response, 422, "validation_error")
        assert all(key.startswith("provider_ids") for key in problem["errors"])


def test_openapi_documents_the_changes(client, app):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    one = "/api/v1/schemes/{scheme_id}"
    assert "post" in paths[f"{one}/budget"] and "post" in paths[f"{one}/validity"]
    assert "put" in paths[f"{one}/providers"]
