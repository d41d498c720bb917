"""The office families are told to call, on GET/PUT/PATCH /api/v1/ente: optional fields
added to the ente, kept when a client that does not know them sends the ente again, checked
like every other field (422 with the field's message); and the balance API's refusal for a
locked code says whom to call."""

import pytest

from tests import factories as f
from tests.api.voucher_world import make_world

URL = "/api/v1/ente"


@pytest.fixture
def world(client, app):
    return make_world(client)


def body(**overrides):
    data = {
        "name": "Società della Salute di Prova",
        "fiscal_code": f.ENTE_CF,
        "belfiore_code": "D612",
        "comuni": [dict(f.FIRENZE), dict(f.FIESOLE)],
    }
    data.update(overrides)
    return data


def test_put_and_get_round_trip_the_office_contacts(world):
    admin = world.headers("admin")
    assert world.client.get(URL, headers=admin).get_json()["office_phone"] is None
    response = world.client.put(URL, json=body(**f.OFFICE), headers=admin)
    assert response.status_code == 200, response.get_json()
    for key, value in f.OFFICE.items():
        assert response.get_json()[key] == value
    read = world.client.get(URL, headers=world.headers("auditor")).get_json()
    assert {key: read[key] for key in f.OFFICE} == f.OFFICE

    # A client that does not know the office fields keeps them; null clears one (PATCH too).
    kept = world.client.put(URL, json=body(), headers=admin).get_json()
    assert {key: kept[key] for key in f.OFFICE} == f.OFFICE
    patched = world.client.patch(
        URL, json={"office_hours": None, "office_phone": "+39 055 1234567"}, headers=admin
    ).get_json()
    assert patched["office_hours"] is None and patched["office_phone"] == "+39 055 1234567"
    assert patched["office_email"] == f.OFFICE["office_email"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("office_phone", "123", "Numero di telefono non valido"),
        ("office_email", "non-una-mail", "posta elettronica non valido"),
        ("office_phone", "0" * 41, "Al massimo 40 caratteri."),
        ("office_hours", "x" * 301, "Al massimo 300 caratteri."),
        ("office_address", 7, "Deve essere una stringa."),
    ],
)
def test_invalid_office_contacts_are_422_with_the_field(world, field, value, message):
    response = world.client.put(URL, json=body(**{field: value}), headers=world.headers("admin"))
    assert response.status_code == 422, response.get_json()
    problem = response.get_json()
    assert problem["code"] == "validation_error"
    assert any(message in m for m in problem["errors"][field]), problem["errors"]


def test_only_the_admin_changes_the_office(world):
    response = world.client.patch(
        URL, json={"office_phone": "055 1"}, headers=world.headers("social_worker")
    )
    assert response.status_code == 403


def lock(world, voucher, pin):
    wrong = f"{(int(pin) + 1) % 10**6:06d}"
    for _ in range(5):
        world.client.post("/api/v1/balance", json={"code": voucher.code, "pin": wrong})
    return world.client.post("/api/v1/balance", json={"code": voucher.code, "pin": pin})


def test_a_locked_code_says_whom_to_call_with_the_office_contacts(world):
    f.make_office_contacts()
    voucher, pin = world.issue()
    locked = lock(world, voucher, pin)
    problem = locked.get_json()
    assert locked.status_code == 429 and problem["code"] == "locked"
    assert "bloccato per 15 minuti" in problem["detail"]
    assert "chiama i servizi sociali: telefono 055 4496111" in problem["detail"]
    assert "orari lunedì-venerdì 9-12, giovedì anche 15-17" in problem["detail"]


def test_without_office_contacts_the_refusal_names_none(world):
    voucher, pin = world.issue()
    problem = lock(world, voucher, pin).get_json()
    assert problem["code"] == "locked"
    assert problem["detail"].endswith("chiama i servizi sociali del tuo Comune.")
    assert "telefono" not in problem["detail"]
