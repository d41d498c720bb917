"""The providers API: registration, reach, accreditations, suspension and API keys."""

from contextlib import nullcontext
from datetime import date

import pytest
from sqlalchemy import func, select

from tests import factories as f
from tests.races import rival_unseen
from voucher.extensions import db
from voucher.models import ApiKey, AuditEvent, Provider
from voucher.services import SYSTEM, clock, providers

URL = "/api/v1/providers"
ROLES = ("admin", "social_worker", "auditor", "provider", None)


@pytest.fixture
def as_role(client):
    """Bearer headers for a user of each role (None: no token). The provider user
    belongs to `as_role.provider`."""
    cache = {}

    def headers(role):
        if role is None:
            return {}
        if role not in cache:
            provider = headers.provider if role == "provider" else None
            cache[role] = f.api_token(client, f.make_user(role, provider=provider))
        return cache[role]

    headers.provider = f.make_provider(name="Cooperativa Propria")
    return headers


def key_headers(provider) -> dict:
    key = providers.create_api_key(SYSTEM, provider)
    db.session.commit()
    return {"Authorization": f"Bearer {key}"}


def new_provider(**overrides):
    data = {
        "name": "Cooperativa Sociale Il Girasole",
        "vat_number": f.valid_vat(),
        "email": "info@girasole.example.it",
        "accreditations": [
            {"service_code": "A1", "valid_from": "2026-01-01"},
            {"service_code": "A2", "valid_from": "2026-01-01", "valid_until": "2026-12-31"},
        ],
    }
    data.update(overrides)
    return data


def assert_problem(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == status and problem["code"] == code
    assert problem["title"] and problem["detail"]
    if status == 422:
        assert isinstance(problem["errors"], dict) and problem["errors"]
    return problem


def provider_count(vat_number: str | None = None) -> int:
    query = select(func.count()).select_from(Provider)
    if vat_number is not None:
        query = query.where(Provider.vat_number == vat_number)
    return db.session.execute(query).scalar_one()


def actions(provider_id) -> list[str]:
    query = (
        select(AuditEvent.action)
        .where(AuditEvent.object_type == "provider", AuditEvent.object_id == str(provider_id))
        .order_by(AuditEvent.seq)
    )
    return list(db.session.execute(query).scalars())


# --- registration -------------------------------------------------------------------------


def test_create_provider(client, as_role):
    data = new_provider()
    response = client.post(URL, json=data, headers=as_role("admin"))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert {"id", "name", "vat_number", "email", "accreditations", "status"} <= set(body)
    assert body["name"] == data["name"] and body["vat_number"] == data["vat_number"]
    assert body["email"] == "info@girasole.example.it" and body["status"] == "active"
    assert [
        (a["service_code"], a["valid_from"], a["valid_until"]) for a in body["accreditations"]
    ] == [("A1", "2026-01-01", None), ("A2", "2026-01-01", "2026-12-31")]
    assert body["accreditations"][0]["service_name"]
    assert body["created_at"].endswith("+00:00")
    assert actions(body["id"]) == ["provider.created", "provider.accredited", "provider.accredited"]


def test_email_and_accreditations_may_be_empty(client, as_role):
    data = new_provider(accreditations=[])
    del data["email"]
    response = client.post(URL, json=data, headers=as_role("admin"))
    assert response.status_code == 201
    assert response.get_json()["email"] is None
    assert response.get_json()["accreditations"] == []


def test_vat_number_is_normalised(client, as_role):
    vat = f.valid_vat()
    response = client.post(
        URL, json=new_provider(vat_number=f"IT {vat[:5]} {vat[5:]}"), headers=as_role("admin")
    )
    assert response.status_code == 201
    assert response.get_json()["vat_number"] == vat


@pytest.mark.parametrize("vat", ["12345678901", "1234567890", "ABCDEFGHIJK", "0123456789X"])
def test_invalid_partita_iva_is_422(client, as_role, vat):
    response = client.post(URL, json=new_provider(vat_number=vat), headers=as_role("admin"))
    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"]["vat_number"] == ["Partita IVA non valida."]


def test_duplicate_partita_iva_is_409(client, as_role):
    data = new_provider()
    assert client.post(URL, json=data, headers=as_role("admin")).status_code == 201
    again = client.post(URL, json={**data, "name": "Altro nome"}, headers=as_role("admin"))
    problem = assert_problem(again, 409, "conflict")
    assert "partita IVA" in problem["detail"]


@pytest.mark.parametrize("race", [False, True], ids=["seen", "lost_race"])
def test_duplicate_partita_iva_reads_the_same_when_the_race_is_lost(client, as_role, race):
    """A rival registered between the service's check and its insert: the database's unique
    constraint refuses, and the answer is the one the check would have given."""
    rival = f.make_provider()
    before = provider_count()
    with rival_unseen(Provider.vat_number) if race else nullcontext() as seen:
        response = client.post(
            URL, json=new_provider(vat_number=rival.vat_number), headers=as_role("admin")
        )
    if race:
        seen.assert_lost_at_the_constraint()
    problem = assert_problem(response, 409, "conflict")
    assert problem["detail"] == "Un fornitore con questa partita IVA è già registrato."
    assert provider_count() == before
    assert provider_count(rival.vat_number) == 1


@pytest.mark.parametrize(
    ("accreditation", "field"),
    [
        ({"service_code": "Z9", "valid_from": "2026-01-01"}, "accreditations.0.service_code"),
        (
            {"service_code": "A1", "valid_from": "2026-05-01", "valid_until": "2026-04-30"},
            "accreditations.0.valid_until",
        ),
        ({"service_code": "A1"}, "accreditations.0.valid_from"),
        ({"valid_from": "2026-01-01"}, "accreditations.0.service_code"),
        ({"service_code": "A1", "valid_from": "01/01/2026"}, "accreditations.0.valid_from"),
        ({"service_code": "A1", "valid_from": "2026-02-30"}, "accreditations.0.valid_from"),
        ({"service_code": "A1", "valid_from": "2026-01-01", "x": 1}, "accreditations.0.x"),
    ],
)
def test_bad_accreditation_is_422_on_its_field(client, as_role, accreditation, field):
    response = client.post(
        URL, json=new_provider(accreditations=[accreditation]), headers=as_role("admin")
    )
    assert field in assert_problem(response, 422, "validation_error")["errors"]


@pytest.mark.parametrize("field", ["name", "vat_number", "accreditations"])
def test_required_fields(client, as_role, field):
    data = new_provider()
    del data[field]
    response = client.post(URL, json=data, headers=as_role("admin"))
    assert assert_problem(response, 422, "validation_error")["errors"][field] == [
        "Campo obbligatorio."
    ]


def test_invalid_email_is_422(client, as_role):
    response = client.post(URL, json=new_provider(email="non-una-email"), headers=as_role("admin"))
    assert "email" in assert_problem(response, 422, "validation_error")["errors"]


# --- reading and reach --------------------------------------------------------------------


def test_staff_list_every_provider(client, as_role):
    other = f.make_provider(name="Altra Cooperativa")
    for role in ("admin", "social_worker", "auditor"):
        body = client.get(URL, headers=as_role(role)).get_json()
        assert {as_role.provider.id, other.id} <= {p["id"] for p in body}


def test_a_provider_sees_only_itself(client, as_role):
    other = f.make_provider(name="Altra Cooperativa")
    for headers in (as_role("provider"), key_headers(as_role.provider)):
        body = client.get(URL, headers=headers).get_json()
        assert [p["id"] for p in body] == [as_role.provider.id]
        own = client.get(f"{URL}/{as_role.provider.id}", headers=headers)
        assert own.status_code == 200 and own.get_json()["name"] == "Cooperativa Propria"
        assert_problem(client.get(f"{URL}/{other.id}", headers=headers), 404, "not_found")


def test_get_one_provider(client, as_role):
    provider = as_role.provider
    body = client.get(f"{URL}/{provider.id}", headers=as_role("social_worker")).get_json()
    assert body["id"] == provider.id and body["vat_number"] == provider.vat_number
    assert {a["service_code"] for a in body["accreditations"]} == {"A1", "A2"}


@pytest.mark.parametrize("provider_id", ["999999", "99999999999999999999", "0"])
def test_unknown_provider_is_404(client, as_role, provider_id):
    assert_problem(client.get(f"{URL}/{provider_id}", headers=as_role("admin")), 404, "not_found")


def test_a_non_numeric_id_is_404(client, as_role):
    assert_problem(client.get(f"{URL}/abc", headers=as_role("admin")), 404, "not_found")


# --- editing ------------------------------------------------------------------------------


def test_patch_changes_name_and_contacts(client, as_role):
    provider = as_role.provider
    response = client.patch(
        f"{URL}/{provider.id}",
        json={"name": "Cooperativa Rinnovata", "email": None, "phone": "055 123456"},
        headers=as_role("admin"),
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == "Cooperativa Rinnovata" and body["phone"] == "055 123456"
    assert body["email"] is None
    assert actions(provider.id)[-1] == "provider.updated"


def test_patch_may_not_change_the_partita_iva(client, as_role):
    response = client.patch(
        f"{URL}/{as_role.provider.id}",
        json={"vat_number": f.valid_vat()},
        headers=as_role("admin"),
    )
    assert "vat_number" in assert_problem(response, 422, "validation_error")["errors"]


# --- suspension ---------------------------------------------------------------------------


def test_suspend_and_reinstate(client, as_role):
    provider_id = as_role.provider.id
    admin = as_role("admin")
    response = client.post(f"{URL}/{provider_id}/suspend", json={"reason": "DURC"}, headers=admin)
    assert response.status_code == 200 and response.get_json()["status"] == "suspended"
    assert not providers.is_accredited(as_role.provider, "A1", clock.today())
    assert_problem(client.post(f"{URL}/{provider_id}/suspend", headers=admin), 409, "conflict")
    response = client.post(f"{URL}/{provider_id}/reinstate", headers=admin)
    assert response.status_code == 200 and response.get_json()["status"] == "active"
    assert_problem(client.post(f"{URL}/{provider_id}/reinstate", headers=admin), 409, "conflict")
    assert actions(provider_id)[-2:] == ["provider.suspended", "provider.reinstated"]


def test_suspend_without_a_body(client, as_role):
    response = client.post(f"{URL}/{as_role.provider.id}/suspend", headers=as_role("admin"))
    assert response.status_code == 200 and response.get_json()["status"] == "suspended"


def test_suspend_unknown_provider_is_404(client, as_role):
    assert_problem(client.post(f"{URL}/999999/suspend", headers=as_role("admin")), 404, "not_found")


# --- accreditations -----------------------------------------------------------------------


def test_add_an_accreditation(client, as_role):
    provider_id = as_role.provider.id
    response = client.post(
        f"{URL}/{provider_id}/accreditations",
        json={"service_code": "A3", "valid_from": "2026-02-01", "valid_until": "2026-12-31"},
        headers=as_role("admin"),
    )
    assert response.status_code == 201
    codes = {a["service_code"] for a in response.get_json()["accreditations"]}
    assert codes == {"A1", "A2", "A3"}
    assert actions(provider_id)[-1] == "provider.accredited"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"service_code": "Q1", "valid_from": "2026-01-01"}, "service_code"),
        (
            {"service_code": "A3", "valid_from": "2026-03-01", "valid_until": "2026-02-01"},
            "valid_until",
        ),
        ({"service_code": "A3"}, "valid_from"),
    ],
)
def test_bad_accreditation_names_the_field(client, as_role, data, field):
    response = client.post(
        f"{URL}/{as_role.provider.id}/accreditations", json=data, headers=as_role("admin")
    )
    assert list(assert_problem(response, 422, "validation_error")["errors"]) == [field]


def test_end_an_accreditation(client, as_role):
    provider = as_role.provider
    accreditation = provider.accreditations[0]
    url = f"{URL}/{provider.id}/accreditations/{accreditation.id}"
    day = accreditation.valid_from.isoformat()
    response = client.patch(url, json={"valid_until": day}, headers=as_role("admin"))
    assert response.status_code == 200
    ended = next(a for a in response.get_json()["accreditations"] if a["id"] == accreditation.id)
    assert ended["valid_until"] == day
    before = date(accreditation.valid_from.year - 1, 1, 1).isoformat()
    response = client.patch(url, json={"valid_until": before}, headers=as_role("admin"))
    assert "valid_until" in assert_problem(response, 422, "validation_error")["errors"]


def test_another_providers_accreditation_is_404(client, as_role):
    other = f.make_provider()
    url = f"{URL}/{as_role.provider.id}/accreditations/{other.accreditations[0].id}"
    response = client.patch(url, json={"valid_until": "2026-12-31"}, headers=as_role("admin"))
    assert_problem(response, 404, "not_found")


# --- API keys -----------------------------------------------------------------------------


def test_api_key_is_shown_once_and_stored_as_a_hash(client, as_role):
    provider_id = as_role.provider.id
    response = client.post(
        f"{URL}/{provider_id}/api-keys", json={"label": "gestionale"}, headers=as_role("admin")
    )
    assert response.status_code == 201
    body = response.get_json()
    key = body["api_key"]
    assert len(key) >= 40 and body["label"] == "gestionale" and key.startswith(body["prefix"])
    stored = db.session.get(ApiKey, body["id"])
    assert stored.key_hash != key and key not in stored.key_hash
    listed = client.get(f"{URL}/{provider_id}/api-keys", headers=as_role("admin")).get_json()
    assert [k["id"] for k in listed] == [body["id"]]
    assert "api_key" not in listed[0] and key not in str(listed)
    assert actions(provider_id)[-1] == "provider.api_key_created"

    as_key = {"Authorization": f"Bearer {key}"}
    assert [p["id"] for p in client.get(URL, headers=as_key).get_json()] == [provider_id]


def test_api_key_without_a_body(client, as_role):
    response = client.post(f"{URL}/{as_role.provider.id}/api-keys", headers=as_role("admin"))
    assert response.status_code == 201 and response.get_json()["api_key"]


def test_revoked_api_key_stops_working(client, as_role):
    provider_id = as_role.provider.id
    body = client.post(f"{URL}/{provider_id}/api-keys", headers=as_role("admin")).get_json()
    as_key = {"Authorization": f"Bearer {body['api_key']}"}
    assert client.get(URL, headers=as_key).status_code == 200
    url = f"{URL}/{provider_id}/api-keys/{body['id']}"
    assert client.delete(url, headers=as_role("admin")).status_code == 204
    assert client.delete(url, headers=as_role("admin")).status_code == 204
    assert_problem(client.get(URL, headers=as_key), 401, "unauthorized")
    listed = client.get(f"{URL}/{provider_id}/api-keys", headers=as_role("admin")).get_json()
    assert listed[0]["revoked_at"] is not None


def test_another_providers_key_is_404(client, as_role):
    other = f.make_provider()
    body = client.post(f"{URL}/{other.id}/api-keys", headers=as_role("admin")).get_json()
    url = f"{URL}/{as_role.provider.id}/api-keys/{body['id']}"
    assert_problem(client.delete(url, headers=as_role("admin")), 404, "not_found")


# --- who may do what ----------------------------------------------------------------------

STATUS_BY_ROLE = {
    "manage": {"admin": 2, "social_worker": 403, "auditor": 403, "provider": 403, None: 401},
    "read": {"admin": 2, "social_worker": 2, "auditor": 2, "provider": 2, None: 401},
}


def operations(provider_id, accreditation_id):
    one = f"{URL}/{provider_id}"
    return [
        ("post", URL, new_provider(), "manage", 201),
        ("get", URL, None, "read", 200),
        ("get", one, None, "read", 200),
        ("patch", one, {"name": "Nuovo nome"}, "manage", 200),
        ("post", f"{one}/suspend", {}, "manage", 200),
        (
            "post",
            f"{one}/accreditations",
            {"service_code": "A3", "valid_from": "2026-01-01"},
            "manage",
            201,
        ),
        (
            "patch",
            f"{one}/accreditations/{accreditation_id}",
            {"valid_until": "2030-01-01"},
            "manage",
            200,
        ),
        ("post", f"{one}/api-keys", {}, "manage", 201),
        ("get", f"{one}/api-keys", None, "manage", 200),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(client, as_role, role):
    provider = as_role.provider
    for method, url, json, kind, success in operations(provider.id, provider.accreditations[0].id):
        expected = STATUS_BY_ROLE[kind][role]
        expected = success if expected == 2 else expected
        response = getattr(client, method)(url, json=json, headers=as_role(role))
        assert response.status_code == expected, (method, url, role, response.get_json())
        if expected >= 400:
            assert_problem(response, expected, {401: "unauthorized", 403: "forbidden"}[expected])


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix_reinstate_and_revoke(client, as_role, role):
    provider = as_role.provider
    headers = as_role(role)
    providers.suspend_provider(SYSTEM, provider)
    providers.create_api_key(SYSTEM, provider)
    db.session.commit()
    key_id = db.session.execute(
        select(ApiKey.id).where(ApiKey.provider_id == provider.id)
    ).scalar_one()
    expected = 200 if role == "admin" else STATUS_BY_ROLE["manage"][role]
    response = client.post(f"{URL}/{provider.id}/reinstate", headers=headers)
    assert response.status_code == expected
    expected = 204 if role == "admin" else STATUS_BY_ROLE["manage"][role]
    response = client.delete(f"{URL}/{provider.id}/api-keys/{key_id}", headers=headers)
    assert response.status_code == expected


def test_api_key_may_not_manage_providers(client, as_role):
    headers = key_headers(as_role.provider)
    assert_problem(client.post(URL, json=new_provider(), headers=headers), 403, "forbidden")
    url = f"{URL}/{as_role.provider.id}/api-keys"
    assert_problem(client.post(url, headers=headers), 403, "forbidden")


# --- garbage in, problem out --------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        [],
        None,
        "provider",
        7,
        {},
        [new_provider()],
        new_provider(name=None),
        new_provider(name=""),
        new_provider(name="n" * 201),
        new_provider(name="a\x00b"),
        new_provider(name={"it": "Coop"}),
        new_provider(vat_number=None),
        new_provider(vat_number=12345678903),
        new_provider(vat_number="1" * 1_000_000),
        new_provider(email=["a@b.it"]),
        new_provider(email="x" * 300 + "@example.it"),
        new_provider(accreditations=None),
        new_provider(accreditations={"service_code": "A1"}),
        new_provider(accreditations=["A1"]),
        new_provider(accreditations=[None]),
        new_provider(accreditations=[{"service_code": None, "valid_from": "2026-01-01"}]),
        new_provider(accreditations=[{"service_code": "A1", "valid_from": 20260101}]),
        new_provider(accreditations=[{"service_code": "A1", "valid_from": "2026-13-01"}]),
        new_provider(accreditations=[{"service_code": "A1" * 1000, "valid_from": "2026-01-01"}]),
        new_provider(accreditations=[{"service_code": "A1", "valid_from": "2026-01-01"}] * 201),
        new_provider(status="suspended"),
        new_provider(id=5),
    ],
)
def test_garbage_create_is_422_never_5xx(client, as_role, payload):
    response = client.post(URL, json=payload, headers=as_role("admin"))
    assert_problem(response, 422, "validation_error")


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("", []),
        ("", {"name": None}),
        ("", {"phone": 12}),
        ("/suspend", {"reason": ["x"]}),
        ("/suspend", []),
        ("/accreditations", {"service_code": "A1", "valid_from": None}),
        ("/api-keys", {"label": "k" * 101}),
        ("/api-keys", "label"),
    ],
)
def test_garbage_on_other_operations_is_422(client, as_role, path, payload):
    method = client.patch if path == "" else client.post
    response = method(f"{URL}/{as_role.provider.id}{path}", json=payload, headers=as_role("admin"))
    assert_problem(response, 422, "validation_error")


def test_openapi_documents_every_operation(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    expected = {
        ("/api/v1/providers", "post"),
        ("/api/v1/providers", "get"),
        ("/api/v1/providers/{provider_id}", "get"),
        ("/api/v1/providers/{provider_id}", "patch"),
        ("/api/v1/providers/{provider_id}/suspend", "post"),
        ("/api/v1/providers/{provider_id}/reinstate", "post"),
        ("/api/v1/providers/{provider_id}/accreditations", "post"),
        ("/api/v1/providers/{provider_id}/accreditations/{accreditation_id}", "patch"),
        ("/api/v1/providers/{provider_id}/api-keys", "post"),
        ("/api/v1/providers/{provider_id}/api-keys", "get"),
        ("/api/v1/providers/{provider_id}/api-keys/{key_id}", "delete"),
    }
    for path, method in expected:
        operation = paths[path][method]
        assert operation["security"] == [{"bearerAuth": []}], (path, method)
        success = next(code for code in operation["responses"] if code.startswith("2"))
        if success != "204":
            assert "schema" in operation["responses"][success]["content"]["application/json"]
    create = paths["/api/v1/providers"]["post"]
    assert "requestBody" in create and "409" in create["responses"]
