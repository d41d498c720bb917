"""The schemes API: creation with every field, budget figures, edits and life cycle."""

import json

import pytest
from sqlalchemy import select

from tests import factories as f
from voucher.extensions import db
from voucher.models import AuditEvent
from voucher.services import SYSTEM, clock, issuance, redemption, vouchers
from voucher.services.redemption import RedemptionRequest

URL = "/api/v1/schemes"
ROLES = ("admin", "social_worker", "auditor", "provider", None)
CUP = "J19H23000150006"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def as_role(client):
    """Bearer headers for a user of each role (None: no token)."""
    cache = {}

    def headers(role):
        if role is None:
            return {}
        if role not in cache:
            provider = f.make_provider() if role == "provider" else None
            cache[role] = f.api_token(client, f.make_user(role, provider=provider))
        return cache[role]

    return headers


def scheme_body(**overrides):
    start, end = f.this_year_window()
    data = {
        "name": "Assistenza domiciliare anziani",
        "fund_code": "FSC_OS",
        "year": start.year,
        "service_codes": ["A1", "A2"],
        "unit": "HOUR",
        "unit_price_cents": 2000,
        "face_value_cents": 50_000,
        "valid_from": start.isoformat(),
        "valid_until": end.isoformat(),
        "budget_cents": 10_000_000,
        "eligible_categories": ["elderly_self_sufficient", "elderly_dependent"],
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


def create(client, headers, **overrides):
    response = client.post(URL, json=scheme_body(**overrides), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# --- creation -----------------------------------------------------------------------------


def test_create_scheme_is_active_with_an_empty_budget_position(client, as_role):
    data = scheme_body()
    scheme = create(client, as_role("admin"))
    assert isinstance(scheme["id"], int)
    assert {k: scheme[k] for k in data} == data
    assert scheme["status"] == "active" and scheme["area"] == "A"
    assert scheme["committed_cents"] == 0 and scheme["redeemed_cents"] == 0
    assert scheme["available_cents"] == 10_000_000
    assert scheme["copay_bands"] == [] and scheme["cup"] is None
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "scheme.created")
    ).scalar_one()
    assert event.object_id == str(scheme["id"]) and event.data["status"] == "active"


def test_a_budget_beyond_32_bits_is_kept_to_the_cent(client, as_role):
    """A large Comune's scheme can pass 21.474.836,47 €; reading it back loses nothing."""
    scheme = create(client, as_role("admin"), budget_cents=3_000_000_000_01)
    again = client.get(f"{URL}/{scheme['id']}", headers=as_role("admin")).get_json()
    assert again["budget_cents"] == 3_000_000_000_01
    assert again["available_cents"] == 3_000_000_000_01


def test_create_scheme_with_every_field(client, as_role):
    bands = [
        {"isee_max_cents": 1_000_000, "coverage_percent": 100},
        {"isee_max_cents": 2_500_000, "coverage_percent": 70},
        {"isee_max_cents": 4_000_000, "coverage_percent": 40},
    ]
    extra = {
        "description": "Ore di assistenza domiciliare per anziani soli",
        "fund_code": "PNRR",
        "cup": CUP.lower(),
        "min_age": 65,
        "max_age": 120,
        "isee_max_cents": 4_000_000,
        "max_active_per_beneficiary": 2,
        "max_redemption_cents": 10_000,
        "copay_bands": bands,
    }
    scheme = create(client, as_role("admin"), **extra)
    assert {k: scheme[k] for k in extra} == {**extra, "cup": CUP}


def test_a_draft_on_request(client, as_role):
    assert create(client, as_role("admin"), status="draft")["status"] == "draft"


def test_euro_scheme_needs_no_unit_price(client, as_role):
    data = scheme_body(unit="EUR")
    del data["unit_price_cents"]
    response = client.post(URL, json=data, headers=as_role("admin"))
    assert response.status_code == 201
    assert response.get_json()["unit_price_cents"] is None


@pytest.mark.parametrize("price", [None, 0, "absent"])
def test_unit_scheme_needs_a_unit_price(client, as_role, price):
    data = scheme_body(unit="MEAL", unit_price_cents=price)
    if price == "absent":
        del data["unit_price_cents"]
    problem = assert_problem(
        client.post(URL, json=data, headers=as_role("admin")), 422, "validation_error"
    )
    assert list(problem["errors"]) == ["unit_price_cents"]


@pytest.mark.parametrize("cup", ["J19H2300015000", "J19H230001500066", "J19H23-00150006"])
def test_cup_has_15_characters(client, as_role, cup):
    response = client.post(URL, json=scheme_body(cup=cup), headers=as_role("admin"))
    assert assert_problem(response, 422, "validation_error")["errors"]["cup"]


def test_a_fund_that_requires_a_cup(client, as_role):
    response = client.post(URL, json=scheme_body(fund_code="PNRR"), headers=as_role("admin"))
    assert "PNRR" in assert_problem(response, 422, "validation_error")["errors"]["cup"][0]


@pytest.mark.parametrize("codes", [["A1", "B1"], ["A1", "P1"], ["C1", "B2", "A3"]])
def test_services_of_more_than_one_area_are_422(client, as_role, codes):
    response = client.post(URL, json=scheme_body(service_codes=codes), headers=as_role("admin"))
    problem = assert_problem(response, 422, "validation_error")
    assert "stessa area" in problem["errors"]["service_codes"][0]


def test_copay_bands_must_be_in_increasing_order(client, as_role):
    bands = [
        {"isee_max_cents": 2_500_000, "coverage_percent": 70},
        {"isee_max_cents": 1_000_000, "coverage_percent": 100},
    ]
    response = client.post(URL, json=scheme_body(copay_bands=bands), headers=as_role("admin"))
    problem = assert_problem(response, 422, "validation_error")
    assert "crescente" in problem["errors"]["copay_bands"][0]


def test_copay_bands_may_not_repeat_a_ceiling(client, as_role):
    bands = [{"isee_max_cents": 1_000_000, "coverage_percent": p} for p in (100, 50)]
    response = client.post(URL, json=scheme_body(copay_bands=bands), headers=as_role("admin"))
    assert "copay_bands" in assert_problem(response, 422, "validation_error")["errors"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"fund_code": "NESSUNO"}, "fund_code"),
        ({"service_codes": ["A1", "Z9"]}, "service_codes"),
        ({"service_codes": []}, "service_codes"),
        ({"unit": "DAY"}, "unit"),
        ({"face_value_cents": 0}, "face_value_cents"),
        ({"face_value_cents": -100}, "face_value_cents"),
        ({"budget_cents": -1}, "budget_cents"),
        ({"year": 1999}, "year"),
        ({"valid_from": "2026-06-01", "valid_until": "2026-05-31"}, "valid_until"),
        ({"valid_from": "01/06/2026"}, "valid_from"),
        ({"eligible_categories": ["pensioner"]}, "eligible_categories.0"),
        ({"min_age": 70, "max_age": 65}, "max_age"),
        ({"min_age": -1}, "min_age"),
        ({"max_age": 131}, "max_age"),
        ({"max_active_per_beneficiary": 0}, "max_active_per_beneficiary"),
        ({"max_redemption_cents": 0}, "max_redemption_cents"),
        ({"isee_max_cents": 0}, "isee_max_cents"),
        (
            {"copay_bands": [{"isee_max_cents": 1, "coverage_percent": 101}]},
            "copay_bands.0.coverage_percent",
        ),
        (
            {"copay_bands": [{"isee_max_cents": -1, "coverage_percent": 50}]},
            "copay_bands.0.isee_max_cents",
        ),
        ({"copay_bands": [{"coverage_percent": 50}]}, "copay_bands.0.isee_max_cents"),
        ({"status": "closed"}, "status"),
        ({"area": "A"}, "area"),
        ({"committed_cents": 0}, "committed_cents"),
    ],
)
def test_invalid_field_is_422_on_that_field(client, as_role, overrides, field):
    response = client.post(URL, json=scheme_body(**overrides), headers=as_role("admin"))
    assert field in assert_problem(response, 422, "validation_error")["errors"]


@pytest.mark.parametrize(
    "field",
    [
        "name",
        "fund_code",
        "year",
        "service_codes",
        "unit",
        "face_value_cents",
        "valid_from",
        "valid_until",
        "budget_cents",
        "eligible_categories",
    ],
)
def test_required_fields(client, as_role, field):
    data = scheme_body()
    del data[field]
    problem = assert_problem(
        client.post(URL, json=data, headers=as_role("admin")), 422, "validation_error"
    )
    assert problem["errors"][field] == ["Campo obbligatorio."]


@pytest.mark.parametrize(
    "field",
    [
        "unit_price_cents",
        "face_value_cents",
        "budget_cents",
        "isee_max_cents",
        "max_redemption_cents",
    ],
)
@pytest.mark.parametrize(
    "value", [12.5, 100.0, "100", True, [100], {"cents": 100}, 2**31, 10**30, -5]
)
def test_money_is_a_strict_integer_of_cents(client, as_role, field, value):
    if field == "budget_cents" and value == 2**31:
        value = 2**63  # budgets are 64-bit: past that is refused
    response = client.post(URL, json=scheme_body(**{field: value}), headers=as_role("admin"))
    assert field in assert_problem(response, 422, "validation_error")["errors"]


def test_money_up_to_the_largest_storable_amount(client, as_role):
    scheme = create(client, as_role("admin"), budget_cents=2**31 - 1)
    assert scheme["budget_cents"] == scheme["available_cents"] == 2**31 - 1


# --- reading, with the budget position ----------------------------------------------------


def test_committed_and_redeemed_follow_vouchers_and_ledger(client, as_role):
    f.make_ente()
    provider = f.make_provider()
    scheme_id = create(client, as_role("admin"))["id"]
    from voucher.models import Scheme

    scheme = db.session.get(Scheme, scheme_id)
    spent, _pin = issuance.issue_voucher(SYSTEM, scheme, f.make_beneficiary())
    revoked, _pin = issuance.issue_voucher(SYSTEM, scheme, f.make_beneficiary())
    db.session.commit()
    request = RedemptionRequest(
        voucher=spent.code, service_code="A1", service_date=clock.today(), amount_cents=4_000
    )
    redemption.redeem(SYSTEM, provider.id, request, "key-1")
    vouchers.revoke_voucher(SYSTEM, revoked, "trasferita fuori ambito")
    db.session.commit()

    body = client.get(f"{URL}/{scheme_id}", headers=as_role("social_worker")).get_json()
    # The revoked voucher's unspent value goes back to the budget.
    assert body["committed_cents"] == 50_000
    assert body["redeemed_cents"] == 4_000
    assert body["available_cents"] == 10_000_000 - 50_000
    listed = client.get(URL, headers=as_role("auditor")).get_json()
    assert next(s for s in listed if s["id"] == scheme_id)["committed_cents"] == 50_000


def test_list_filters_by_status_and_year(client, as_role):
    admin = as_role("admin")
    active = create(client, admin)["id"]
    draft = create(client, admin, status="draft")["id"]
    year = f.this_year_window()[0].year
    ids = {s["id"] for s in client.get(URL, headers=admin).get_json()}
    assert {active, draft} <= ids
    drafts = client.get(f"{URL}?status=draft", headers=admin).get_json()
    assert draft in {s["id"] for s in drafts} and active not in {s["id"] for s in drafts}
    assert client.get(f"{URL}?year={year + 1}", headers=admin).get_json() == []
    assert {active, draft} <= {
        s["id"] for s in client.get(f"{URL}?year={year}", headers=admin).get_json()
    }


@pytest.mark.parametrize("query", ["status=open", "year=abc", "year=12.5", "year=99999999999"])
def test_bad_list_filters_are_422(client, as_role, query):
    assert_problem(client.get(f"{URL}?{query}", headers=as_role("admin")), 422, "validation_error")


@pytest.mark.parametrize("scheme_id", ["999999", "99999999999999999999"])
def test_unknown_scheme_is_404(client, as_role, scheme_id):
    assert_problem(client.get(f"{URL}/{scheme_id}", headers=as_role("admin")), 404, "not_found")


# --- edits and life cycle -----------------------------------------------------------------


def test_a_draft_may_be_edited(client, as_role):
    admin = as_role("admin")
    scheme_id = create(client, admin, status="draft")["id"]
    bands = [{"isee_max_cents": 1_500_000, "coverage_percent": 80}]
    response = client.patch(
        f"{URL}/{scheme_id}",
        json={"name": "Pasti a domicilio", "service_codes": ["A2"], "copay_bands": bands},
        headers=admin,
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["name"] == "Pasti a domicilio" and body["service_codes"] == ["A2"]
    assert body["copay_bands"] == bands and body["unit_price_cents"] == 2000
    response = client.patch(f"{URL}/{scheme_id}", json={"copay_bands": None}, headers=admin)
    assert response.get_json()["copay_bands"] == []


def test_an_edit_is_validated_like_a_creation(client, as_role):
    admin = as_role("admin")
    scheme_id = create(client, admin, status="draft")["id"]
    response = client.patch(
        f"{URL}/{scheme_id}", json={"service_codes": ["A1", "C1"]}, headers=admin
    )
    assert "service_codes" in assert_problem(response, 422, "validation_error")["errors"]
    response = client.patch(f"{URL}/{scheme_id}", json={"name": None}, headers=admin)
    assert "name" in assert_problem(response, 422, "validation_error")["errors"]
    response = client.patch(f"{URL}/{scheme_id}", json={"status": "active"}, headers=admin)
    assert "status" in assert_problem(response, 422, "validation_error")["errors"]


def test_an_active_scheme_may_not_be_edited(client, as_role):
    admin = as_role("admin")
    scheme_id = create(client, admin)["id"]
    response = client.patch(f"{URL}/{scheme_id}", json={"budget_cents": 1}, headers=admin)
    assert_problem(response, 409, "conflict")


def test_activate_and_close(client, as_role):
    admin = as_role("admin")
    scheme_id = create(client, admin, status="draft")["id"]
    response = client.post(f"{URL}/{scheme_id}/activate", headers=admin)
    assert response.status_code == 200 and response.get_json()["status"] == "active"
    assert_problem(client.post(f"{URL}/{scheme_id}/activate", headers=admin), 409, "conflict")
    response = client.post(f"{URL}/{scheme_id}/close", headers=admin)
    assert response.status_code == 200 and response.get_json()["status"] == "closed"
    assert_problem(client.post(f"{URL}/{scheme_id}/close", headers=admin), 409, "conflict")
    assert_problem(client.post(f"{URL}/{scheme_id}/activate", headers=admin), 409, "conflict")


def test_life_cycle_of_an_unknown_scheme_is_404(client, as_role):
    for action in ("activate", "close"):
        response = client.post(f"{URL}/999999/{action}", headers=as_role("admin"))
        assert_problem(response, 404, "not_found")


# --- who may do what ----------------------------------------------------------------------

MANAGE = {"admin": None, "social_worker": 403, "auditor": 403, "provider": 403, None: 401}
READ = {"admin": None, "social_worker": None, "auditor": None, "provider": 403, None: 401}


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(client, as_role, role):
    headers = as_role(role)
    draft = f.make_scheme(status="draft").id
    active = f.make_scheme().id
    cases = [
        ("post", URL, scheme_body(), MANAGE, 201),
        ("get", URL, None, READ, 200),
        ("get", f"{URL}/{active}", None, READ, 200),
        ("patch", f"{URL}/{draft}", {"name": "Nuovo nome"}, MANAGE, 200),
        ("post", f"{URL}/{draft}/activate", None, MANAGE, 200),
        ("post", f"{URL}/{active}/close", None, MANAGE, 200),
    ]
    for method, url, body, table, success in cases:
        expected = table[role] or success
        response = getattr(client, method)(url, json=body, headers=headers)
        assert response.status_code == expected, (method, url, role, response.get_json())
        if expected >= 400:
            assert_problem(response, expected, {401: "unauthorized", 403: "forbidden"}[expected])


# --- garbage in, problem out --------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        [],
        None,
        "scheme",
        3.14,
        {},
        [scheme_body()],
        scheme_body(name=None),
        scheme_body(name="x" * 201),
        scheme_body(name="Misura\x00"),
        scheme_body(description="d" * 2001),
        scheme_body(fund_code=None),
        scheme_body(fund_code=["FSC_OS"]),
        scheme_body(year="2026"),
        scheme_body(year=2026.0),
        scheme_body(year=None),
        scheme_body(cup=123456789012345),
        scheme_body(cup="C" * 100_000),
        scheme_body(service_codes="A1"),
        scheme_body(service_codes=[None]),
        scheme_body(service_codes=[["A1"]]),
        scheme_body(service_codes=["A1"] * 51),
        scheme_body(unit=None),
        scheme_body(unit=["HOUR"]),
        scheme_body(valid_from=None),
        scheme_body(valid_until="domani"),
        scheme_body(valid_until="2026-02-29T10:00:00"),
        scheme_body(eligible_categories=None),
        scheme_body(eligible_categories="minor"),
        scheme_body(eligible_categories=[1]),
        scheme_body(min_age="65"),
        scheme_body(max_age=65.5),
        scheme_body(max_active_per_beneficiary=10**20),
        scheme_body(copay_bands={"isee_max_cents": 1, "coverage_percent": 50}),
        scheme_body(copay_bands=[None]),
        scheme_body(copay_bands=[[1, 50]]),
        scheme_body(copay_bands=[{"isee_max_cents": 1, "coverage_percent": 50.5}]),
        scheme_body(copay_bands=[{"isee_max_cents": i, "coverage_percent": 50} for i in range(21)]),
        scheme_body(status=None),
        scheme_body(id=1),
    ],
)
def test_garbage_is_422_never_5xx(client, as_role, payload):
    assert_problem(
        client.post(URL, json=payload, headers=as_role("admin")), 422, "validation_error"
    )


@pytest.mark.parametrize(
    "payload",
    [[], None, "x", {"year": "2026"}, {"unit": 1}, {"copay_bands": "none"}, {"status": "draft"}],
)
def test_garbage_edit_is_422(client, as_role, payload):
    scheme_id = f.make_scheme(status="draft").id
    response = client.patch(
        f"{URL}/{scheme_id}", data=json.dumps(payload), headers=JSON | as_role("admin")
    )
    assert_problem(response, 422, "validation_error")


def test_openapi_documents_every_operation(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    paths = doc["paths"]
    expected = {
        ("/api/v1/schemes", "post"),
        ("/api/v1/schemes", "get"),
        ("/api/v1/schemes/{scheme_id}", "get"),
        ("/api/v1/schemes/{scheme_id}", "patch"),
        ("/api/v1/schemes/{scheme_id}/activate", "post"),
        ("/api/v1/schemes/{scheme_id}/close", "post"),
    }
    for path, method in expected:
        operation = paths[path][method]
        assert operation["security"] == [{"bearerAuth": []}]
        success = next(code for code in operation["responses"] if code.startswith("2"))
        assert "schema" in operation["responses"][success]["content"]["application/json"]
    request = doc["components"]["schemas"]["SchemeIn"]
    assert set(request["required"]) == {
        "name",
        "fund_code",
        "year",
        "service_codes",
        "unit",
        "face_value_cents",
        "valid_from",
        "valid_until",
        "budget_cents",
        "eligible_categories",
    }
    response = doc["components"]["schemas"]["Scheme"]["properties"]
    assert {"committed_cents", "redeemed_cents", "available_cents", "status"} <= set(response)
