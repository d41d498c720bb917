"""The beneficiaries API: registration from the codice fiscale, look-up, edits, and staff-only
access to special-category data."""

import json
from contextlib import nullcontext

import pytest
from codicefiscale import codicefiscale
from sqlalchemy import func, select

from tests import factories as f
from tests.races import rival_unseen
from voucher.extensions import db
from voucher.models import AuditEvent, Beneficiary
from voucher.services import SYSTEM, beneficiaries

URL = "/api/v1/beneficiaries"
ROLES = ("admin", "social_worker", "auditor", "provider", None)
JSON = {"Content-Type": "application/json"}
# Anna Rossi, born in Firenze on 12 March 1940: women's day of birth is +40.
ANNA = "RSSNNA40C52D612P"


@pytest.fixture
def as_role(client):
    """Bearer headers for a user of each role (None: no token), with the ente set up."""
    f.make_ente()
    cache = {}

    def headers(role):
        if role is None:
            return {}
        if role not in cache:
            provider = f.make_provider() if role == "provider" else None
            cache[role] = f.api_token(client, f.make_user(role, provider=provider))
        return cache[role]

    return headers


def person(**overrides):
    data = {
        "fiscal_code": ANNA,
        "first_name": "Anna",
        "last_name": "Rossi",
        "comune_istat": "048017",
        "categories": ["elderly_self_sufficient"],
        "isee_cents": 1_250_000,
        "isee_valid_until": "2026-12-31",
        "phone": "+39 055 1234567",
        "email": "anna.rossi@example.it",
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


def register(client, headers, **overrides):
    response = client.post(URL, json=person(**overrides), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# --- registration -------------------------------------------------------------------------


def test_register_derives_birth_date_and_sex(client, as_role):
    body = register(client, as_role("social_worker"))
    assert isinstance(body["id"], int)
    assert body["birth_date"] == "1940-03-12" and body["sex"] == "F"
    assert body["fiscal_code"] == ANNA and body["comune_istat"] == "048017"
    assert body["comune_name"] == "Firenze"
    assert body["categories"] == ["elderly_self_sufficient"]
    assert body["isee_cents"] == 1_250_000 and body["isee_valid_until"] == "2026-12-31"
    assert body["household_id"] is None and body["email"] == "anna.rossi@example.it"
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "beneficiary.registered")
    ).scalar_one()
    assert ANNA not in json.dumps(event.data) and event.object_id == str(body["id"])


def test_a_man_born_on_the_first(client, as_role):
    code = codicefiscale.encode(
        lastname="Bianchi",
        firstname="Luca",
        gender="M",
        birthdate="01/12/2015",
        birthplace="Fiesole",
    )
    body = register(
        client,
        as_role("admin"),
        fiscal_code=code,
        first_name="Luca",
        last_name="Bianchi",
        categories=["minor"],
    )
    assert body["birth_date"] == "2015-12-01" and body["sex"] == "M"


def test_an_omocode_variant_is_decoded_too(client, as_role):
    variants = codicefiscale.decode(ANNA)["omocodes"]
    omocode = next(v for v in variants if v != ANNA and not v[6:8].isdigit())
    body = register(client, as_role("social_worker"), fiscal_code=omocode)
    assert body["fiscal_code"] == omocode
    assert body["birth_date"] == "1940-03-12" and body["sex"] == "F"


def test_fiscal_code_is_normalised(client, as_role):
    body = register(client, as_role("social_worker"), fiscal_code=" rssnna40c52 d612p ")
    assert body["fiscal_code"] == ANNA


def test_optional_fields_may_be_left_out(client, as_role):
    data = {k: person()[k] for k in ("fiscal_code", "first_name", "last_name", "comune_istat")}
    response = client.post(URL, json={**data, "categories": []}, headers=as_role("admin"))
    assert response.status_code == 201
    body = response.get_json()
    assert body["isee_cents"] is None and body["phone"] is None and body["categories"] == []


def test_household_is_kept(client, as_role):
    household = beneficiaries.create_household(SYSTEM, "Famiglia Rossi")
    db.session.commit()
    body = register(client, as_role("social_worker"), household_id=household.id)
    assert body["household_id"] == household.id


@pytest.mark.parametrize(
    "code",
    [
        "RSSNNA40C52D612X",  # wrong check character
        "RSSNNA40C52D612",  # too short
        "RSSNNA40Z52D612P",  # no such month
        "12345678901",  # an ente's or company's number
        "",
        "RSSNNA40C52D612PP",
    ],
)
def test_invalid_codice_fiscale_is_422(client, as_role, code):
    response = client.post(URL, json=person(fiscal_code=code), headers=as_role("social_worker"))
    assert "fiscal_code" in assert_problem(response, 422, "validation_error")["errors"]


def test_duplicate_codice_fiscale_is_409(client, as_role):
    register(client, as_role("social_worker"))
    again = client.post(
        URL, json=person(fiscal_code=ANNA.lower(), first_name="Annina"), headers=as_role("admin")
    )
    assert_problem(again, 409, "duplicate_beneficiary")


@pytest.mark.parametrize("race", [False, True], ids=["seen", "lost_race"])
def test_duplicate_codice_fiscale_reads_the_same_when_the_race_is_lost(client, as_role, race):
    """A rival registered between the service's check and its insert: the database's unique
    constraint refuses, and the answer is the one the check would have given."""
    register(client, as_role("social_worker"))
    with rival_unseen(Beneficiary.fiscal_code) if race else nullcontext() as seen:
        again = client.post(URL, json=person(first_name="Annina"), headers=as_role("admin"))
    if race:
        seen.assert_lost_at_the_constraint()
    problem = assert_problem(again, 409, "duplicate_beneficiary")
    assert problem["detail"] == "Un beneficiario con questo codice fiscale è già registrato."
    same_code = select(func.count()).where(Beneficiary.fiscal_code == ANNA)
    assert db.session.execute(same_code).scalar_one() == 1
    registered = select(func.count()).where(AuditEvent.action == "beneficiary.registered")
    assert db.session.execute(registered).scalar_one() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"comune_istat": "000000"}, "comune_istat"),  # no Comune has this code
        ({"comune_istat": "999999"}, "comune_istat"),
        ({"categories": ["pensioner"]}, "categories.0"),
        ({"household_id": 999999}, "household_id"),
        ({"isee_cents": -1}, "isee_cents"),
        ({"email": "anna"}, "email"),
        ({"first_name": "   "}, "first_name"),
        ({"isee_valid_until": "31/12/2026"}, "isee_valid_until"),
        ({"birth_date": "1940-03-12"}, "birth_date"),
        ({"sex": "F"}, "sex"),
    ],
)
def test_invalid_field_is_422_on_that_field(client, as_role, overrides, field):
    response = client.post(URL, json=person(**overrides), headers=as_role("social_worker"))
    assert field in assert_problem(response, 422, "validation_error")["errors"]


@pytest.mark.parametrize(
    "field", ["fiscal_code", "first_name", "last_name", "comune_istat", "categories"]
)
def test_required_fields(client, as_role, field):
    data = person()
    del data[field]
    response = client.post(URL, json=data, headers=as_role("social_worker"))
    assert assert_problem(response, 422, "validation_error")["errors"][field] == [
        "Campo obbligatorio."
    ]


@pytest.mark.parametrize("value", [12.5, 1000.0, "1250000", True, [1], 2**31, -1])
def test_isee_is_a_strict_integer_of_cents(client, as_role, value):
    response = client.post(URL, json=person(isee_cents=value), headers=as_role("social_worker"))
    assert "isee_cents" in assert_problem(response, 422, "validation_error")["errors"]


# --- reading ------------------------------------------------------------------------------


def test_get_by_id(client, as_role):
    created = register(client, as_role("social_worker"))
    response = client.get(f"{URL}/{created['id']}", headers=as_role("admin"))
    assert response.status_code == 200 and response.get_json() == created


@pytest.mark.parametrize("beneficiary_id", ["999999", "99999999999999999999", "abc"])
def test_unknown_beneficiary_is_404(client, as_role, beneficiary_id):
    response = client.get(f"{URL}/{beneficiary_id}", headers=as_role("admin"))
    assert_problem(response, 404, "not_found")


def test_find_by_fiscal_code(client, as_role):
    created = register(client, as_role("social_worker"))
    other = f.make_beneficiary()
    headers = as_role("social_worker")
    found = client.get(URL, query_string={"fiscal_code": ANNA.lower()}, headers=headers)
    assert found.status_code == 200 and found.get_json() == [created]
    found = client.get(URL, query_string={"fiscal_code": other.fiscal_code}, headers=headers)
    assert [b["id"] for b in found.get_json()] == [other.id]
    nobody = client.get(URL, query_string={"fiscal_code": "BNCLCU15T01D575X"}, headers=headers)
    assert nobody.status_code == 200 and nobody.get_json() == []


@pytest.mark.parametrize("query", ["", "fiscal_code=", "fiscal_code=" + "X" * 101])
def test_find_needs_a_fiscal_code(client, as_role, query):
    response = client.get(f"{URL}?{query}", headers=as_role("social_worker"))
    assert "fiscal_code" in assert_problem(response, 422, "validation_error")["errors"]


# --- edits --------------------------------------------------------------------------------


def test_patch_changes_only_the_given_fields_and_audits_their_names(client, as_role):
    created = register(client, as_role("social_worker"))
    changes = {
        "phone": "+39 333 0000000",
        "isee_cents": 900_000,
        "categories": ["elderly_dependent", "disabled"],
        "comune_istat": "048015",
    }
    response = client.patch(f"{URL}/{created['id']}", json=changes, headers=as_role("admin"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert {k: body[k] for k in changes} == changes
    assert body["comune_name"] == "Fiesole" and body["first_name"] == "Anna"
    assert body["birth_date"] == "1940-03-12"
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "beneficiary.updated")
    ).scalar_one()
    assert sorted(event.data["fields"]) == ["categories", "comune_id", "isee_cents", "phone"]
    assert "333" not in json.dumps(event.data) and "900000" not in json.dumps(event.data)


def test_patch_may_clear_optional_fields(client, as_role):
    created = register(client, as_role("social_worker"))
    response = client.patch(
        f"{URL}/{created['id']}",
        json={"email": None, "isee_cents": None, "isee_valid_until": None},
        headers=as_role("social_worker"),
    )
    body = response.get_json()
    assert body["email"] is None and body["isee_cents"] is None
    assert body["isee_valid_until"] is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"fiscal_code": "BNCLCU15T01D575X"}, "fiscal_code"),
        ({"birth_date": "1950-01-01"}, "birth_date"),
        ({"first_name": None}, "first_name"),
        ({"last_name": ""}, "last_name"),
        ({"categories": None}, "categories"),
        ({"comune_istat": "000000"}, "comune_istat"),
        ({"household_id": 999999}, "household_id"),
        ({"isee_cents": 10.5}, "isee_cents"),
    ],
)
def test_invalid_patch_is_422(client, as_role, changes, field):
    created = register(client, as_role("social_worker"))
    response = client.patch(f"{URL}/{created['id']}", json=changes, headers=as_role("admin"))
    assert field in assert_problem(response, 422, "validation_error")["errors"]


def test_patch_of_unknown_beneficiary_is_404(client, as_role):
    response = client.patch(f"{URL}/999999", json={"phone": "1"}, headers=as_role("admin"))
    assert_problem(response, 404, "not_found")


# --- who may do what ----------------------------------------------------------------------

STAFF = {"admin": None, "social_worker": None, "auditor": 403, "provider": 403, None: 401}


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(client, as_role, role):
    headers = as_role(role)
    existing = f.make_beneficiary()
    cases = [
        ("post", URL, person(), 201),
        ("get", f"{URL}/{existing.id}", None, 200),
        ("get", f"{URL}?fiscal_code={existing.fiscal_code}", None, 200),
        ("patch", f"{URL}/{existing.id}", {"phone": "055 000000"}, 200),
    ]
    for method, url, body, success in cases:
        expected = STAFF[role] or success
        response = getattr(client, method)(url, json=body, headers=headers)
        assert response.status_code == expected, (method, url, role, response.get_json())
        if expected >= 400:
            problem = assert_problem(
                response, expected, {401: "unauthorized", 403: "forbidden"}[expected]
            )
            assert existing.fiscal_code not in json.dumps(problem)


def test_a_provider_api_key_gets_403(client, as_role):
    from voucher.services import providers

    key = providers.create_api_key(SYSTEM, f.make_provider())
    db.session.commit()
    existing = f.make_beneficiary()
    headers = {"Authorization": f"Bearer {key}"}
    assert_problem(client.get(f"{URL}/{existing.id}", headers=headers), 403, "forbidden")
    assert_problem(client.post(URL, json=person(), headers=headers), 403, "forbidden")


# --- garbage in, problem out --------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        [],
        None,
        "RSSNNA40C52D612P",
        16,
        {},
        [person()],
        person(fiscal_code=None),
        person(fiscal_code=123),
        person(fiscal_code=["RSSNNA40C52D612P"]),
        person(fiscal_code="R" * 1_000_000),
        person(fiscal_code="RSSNNA40C52D612\x00"),
        person(first_name=None),
        person(first_name="A" * 101),
        person(last_name={"it": "Rossi"}),
        person(last_name="Ros\x00si"),
        person(last_name="\udc00"),
        person(comune_istat=48017),
        person(comune_istat=None),
        person(comune_istat="048017\x00"),
        person(categories="minor"),
        person(categories=None),
        person(categories=[None]),
        person(categories=["minor"] * 7),
        person(isee_valid_until=20261231),
        person(isee_valid_until="2026-02-30"),
        person(household_id="1"),
        person(household_id=10**20),
        person(phone=39055),
        person(phone="3" * 41),
        person(email="a" * 250 + "@example.it"),
        person(address=["Via Roma"]),
        person(id=1),
    ],
)
def test_garbage_is_422_never_5xx(client, as_role, payload):
    response = client.post(URL, data=json.dumps(payload), headers=JSON | as_role("admin"))
    assert_problem(response, 422, "validation_error")


@pytest.mark.parametrize("payload", [[], None, "x", 1, {"categories": "minor"}, {"phone": [1]}])
def test_garbage_patch_is_422(client, as_role, payload):
    existing = f.make_beneficiary()
    response = client.patch(
        f"{URL}/{existing.id}", data=json.dumps(payload), headers=JSON | as_role("admin")
    )
    assert_problem(response, 422, "validation_error")


def test_a_nul_in_the_query_string_is_harmless(client, as_role):
    response = client.get(f"{URL}?fiscal_code=RSS%00", headers=as_role("admin"))
    assert_problem(response, 422, "validation_error")


def test_openapi_documents_every_operation(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    paths = doc["paths"]
    for path, method in [
        ("/api/v1/beneficiaries", "post"),
        ("/api/v1/beneficiaries", "get"),
        ("/api/v1/beneficiaries/{beneficiary_id}", "get"),
        ("/api/v1/beneficiaries/{beneficiary_id}", "patch"),
    ]:
        operation = paths[path][method]
        assert operation["security"] == [{"bearerAuth": []}]
        success = next(code for code in operation["responses"] if code.startswith("2"))
        assert "schema" in operation["responses"][success]["content"]["application/json"]
    assert "409" in paths["/api/v1/beneficiaries"]["post"]["responses"]
    params = {p["name"] for p in paths["/api/v1/beneficiaries"]["get"]["parameters"]}
    assert params == {"fiscal_code"}
    created = doc["components"]["schemas"]["Beneficiary"]["properties"]
    assert {"id", "birth_date", "sex"} <= set(created)
