"""GET/PUT /api/v1/ente: the ente and its Comuni, checked against the ISTAT list."""

import csv
from functools import partial
from importlib import resources

import pytest
from codicefiscale.data import get_municipalities_data
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from tests import factories as f
from voucher.extensions import db
from voucher.models import AuditEvent, Comune
from voucher.services import ente as ente_service
from voucher.services import users

URL = "/api/v1/ente"
MONTELUPO = {"istat_code": "048028", "belfiore_code": "F551", "name": "Montelupo Fiorentino"}


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch):
    """Password hashing is not under test here: a cheap method keeps the role matrix quick."""
    monkeypatch.setattr(
        users, "generate_password_hash", partial(generate_password_hash, method="pbkdf2:sha256:1")
    )


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


def body(**overrides):
    data = {
        "name": "Società della Salute Fiorentina",
        "fiscal_code": f.ENTE_CF,
        "belfiore_code": None,
        "comuni": [dict(f.FIRENZE), dict(f.FIESOLE)],
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


# --- reading and writing ------------------------------------------------------------------


def test_get_before_setup_is_404(client, as_role):
    assert_problem(client.get(URL, headers=as_role("admin")), 404, "not_found")


def test_put_sets_the_ente_and_its_comuni(client, as_role):
    response = client.put(URL, json=body(address="Via Roma 1, Firenze"), headers=as_role("admin"))
    assert response.status_code == 200, response.get_json()
    ente = response.get_json()
    assert ente["name"] == "Società della Salute Fiorentina"
    assert ente["fiscal_code"] == f.ENTE_CF and ente["belfiore_code"] is None
    assert ente["address"] == "Via Roma 1, Firenze"
    assert [(c["istat_code"], c["belfiore_code"], c["province"]) for c in ente["comuni"]] == [
        ("048015", "D575", "FI"),
        ("048017", "D612", "FI"),
    ]
    assert client.get(URL, headers=as_role("admin")).get_json() == ente
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "ente.updated")
    ).scalar_one()
    assert event.data == {"comuni": ["048015", "048017"]}


def test_a_comune_ente_keeps_its_belfiore_code(client, as_role):
    response = client.put(
        URL,
        json=body(name="Comune di Firenze", belfiore_code="d612", comuni=[f.FIRENZE]),
        headers=as_role("admin"),
    )
    assert response.status_code == 200
    assert response.get_json()["belfiore_code"] == "D612"


def test_codes_are_normalised_and_a_missing_name_is_the_official_one(client, as_role):
    comune = {"istat_code": " 048028 ", "belfiore_code": "f551"}
    response = client.put(URL, json=body(comuni=[comune]), headers=as_role("admin"))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["comuni"] == [{**MONTELUPO, "province": "FI"}]


def test_put_replaces_the_comuni(client, as_role):
    f.make_ente()
    response = client.put(URL, json=body(comuni=[f.FIRENZE, f.PRATO]), headers=as_role("admin"))
    assert response.status_code == 200
    assert {c["istat_code"] for c in response.get_json()["comuni"]} == {"048017", "100005"}
    assert db.session.execute(
        select(Comune.istat_code).order_by(Comune.istat_code)
    ).scalars().all() == [
        "048017",
        "100005",
    ]


def test_a_comune_with_beneficiaries_cannot_be_removed(client, as_role):
    f.make_ente()
    f.make_beneficiary(comune=f.FIESOLE)
    response = client.put(URL, json=body(comuni=[f.FIRENZE]), headers=as_role("admin"))
    problem = assert_problem(response, 422, "validation_error")
    assert "Fiesole" in problem["errors"]["comuni"][0]
    ente = client.get(URL, headers=as_role("admin")).get_json()
    assert len(ente["comuni"]) == 2


# --- the official list of Comuni ----------------------------------------------------------


def test_unknown_istat_code_is_422_with_a_message_on_that_field(client, as_role):
    comuni = [f.FIRENZE, {"istat_code": "048999", "belfiore_code": "D612", "name": "X"}]
    problem = assert_problem(
        client.put(URL, json=body(comuni=comuni), headers=as_role("admin")), 422, "validation_error"
    )
    assert list(problem["errors"]) == ["comuni.1.istat_code"]
    assert "048999" in problem["errors"]["comuni.1.istat_code"][0]
    assert "elenco ufficiale ISTAT" in problem["errors"]["comuni.1.istat_code"][0]


def test_belfiore_code_of_another_comune_is_422(client, as_role):
    wrong = {"istat_code": "048017", "belfiore_code": "D575", "name": "Firenze"}
    problem = assert_problem(
        client.put(URL, json=body(comuni=[wrong]), headers=as_role("admin")),
        422,
        "validation_error",
    )
    message = problem["errors"]["comuni.0.belfiore_code"][0]
    assert "D575" in message and "D612" in message and "Firenze" in message


@pytest.mark.parametrize(
    ("comune", "field"),
    [
        ({"istat_code": "48017", "belfiore_code": "D612"}, "comuni.0.istat_code"),
        ({"istat_code": "04801A", "belfiore_code": "D612"}, "comuni.0.istat_code"),
        ({"istat_code": "048017", "belfiore_code": "D61"}, "comuni.0.belfiore_code"),
        ({"istat_code": "048017", "belfiore_code": "1612"}, "comuni.0.belfiore_code"),
        ({"istat_code": "048017"}, "comuni.0.belfiore_code"),
        ({"belfiore_code": "D612"}, "comuni.0.istat_code"),
        ({"istat_code": "048017", "belfiore_code": "D612", "name": "  "}, "comuni.0.name"),
        ({"istat_code": "048017", "belfiore_code": "D612", "cap": "50100"}, "comuni.0.cap"),
    ],
)
def test_malformed_comune_is_422_on_its_field(client, as_role, comune, field):
    problem = assert_problem(
        client.put(URL, json=body(comuni=[comune]), headers=as_role("admin")),
        422,
        "validation_error",
    )
    assert field in problem["errors"]


def test_unknown_belfiore_code_of_the_ente_is_422(client, as_role):
    problem = assert_problem(
        client.put(URL, json=body(belfiore_code="A000"), headers=as_role("admin")),
        422,
        "validation_error",
    )
    assert "A000" in problem["errors"]["belfiore_code"][0]


def test_every_problem_is_reported_at_once(client, as_role):
    data = body(
        fiscal_code="12345678901",
        belfiore_code="XX",
        comuni=[f.FIRENZE, f.FIRENZE, {"istat_code": "999999", "belfiore_code": "Z999"}],
    )
    problem = assert_problem(
        client.put(URL, json=data, headers=as_role("admin")), 422, "validation_error"
    )
    assert {
        "fiscal_code",
        "belfiore_code",
        "comuni.1.istat_code",
        "comuni.2.istat_code",
        "comuni.2.belfiore_code",
    } <= set(problem["errors"])
    assert problem["errors"]["comuni.1.istat_code"] == ["Comune ripetuto."]


def test_an_ente_serves_at_least_one_comune(client, as_role):
    problem = assert_problem(
        client.put(URL, json=body(comuni=[]), headers=as_role("admin")), 422, "validation_error"
    )
    assert "comuni" in problem["errors"]


def test_official_list_lookups():
    firenze = ente_service.official_comune("048017")
    assert (firenze.belfiore_code, firenze.name, firenze.province) == ("D612", "Firenze", "FI")
    assert ente_service.official_comune_by_belfiore("g999").name == "Prato"
    assert ente_service.official_comune("000000") is None
    assert ente_service.official_comune_by_belfiore("Z404") is None  # a foreign country


def test_official_list_agrees_with_the_codice_fiscale_data():
    """Every Belfiore code shipped is a Comune in force, in the same province, according
    to python-codicefiscale's own municipalities data."""
    text = resources.files("voucher.data").joinpath("comuni.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert len(rows) > 7800
    assert (
        len({r["istat_code"] for r in rows}) == len({r["belfiore_code"] for r in rows}) == len(rows)
    )
    in_force = {}
    for m in get_municipalities_data():
        if m["active"]:
            in_force.setdefault(m["code"], set()).add(m["province"])
    for row in rows:
        assert row["province"] in in_force.get(row["belfiore_code"], ()), row


# --- who may do what ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("social_worker", 200), ("auditor", 200), ("provider", 403), (None, 401)],
)
def test_who_may_read(client, as_role, role, status):
    f.make_ente()
    response = client.get(URL, headers=as_role(role))
    assert response.status_code == status
    if status != 200:
        assert_problem(response, status, {401: "unauthorized", 403: "forbidden"}[status])


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("social_worker", 403), ("auditor", 403), ("provider", 403), (None, 401)],
)
def test_who_may_write(client, as_role, role, status):
    response = client.put(URL, json=body(), headers=as_role(role))
    assert response.status_code == status
    if status != 200:
        assert_problem(response, status, {401: "unauthorized", 403: "forbidden"}[status])
        assert db.session.execute(select(Comune)).first() is None


def test_a_provider_api_key_may_not_read_the_ente(client):
    from voucher.services import SYSTEM, providers

    key = providers.create_api_key(SYSTEM, f.make_provider())
    db.session.commit()
    response = client.get(URL, headers={"Authorization": f"Bearer {key}"})
    assert_problem(response, 403, "forbidden")


# --- garbage in, problem out --------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        [],
        ["name"],
        None,
        "ente",
        42,
        {},
        body(name=None),
        body(name=""),
        body(name=12),
        body(name="x" * 201),
        body(name="Ente\x00"),
        body(name="\ud800"),
        body(fiscal_code=None),
        body(fiscal_code=1307110484),
        body(fiscal_code="9" * 100_000),
        body(belfiore_code=["D612"]),
        body(comuni=None),
        body(comuni="048017"),
        body(comuni={"istat_code": "048017"}),
        body(comuni=[None]),
        body(comuni=["048017"]),
        body(comuni=[[f.FIRENZE]]),
        body(comuni=[{"istat_code": 48017, "belfiore_code": "D612"}]),
        body(comuni=[{"istat_code": "048017\x00", "belfiore_code": "D612"}]),
        body(comuni=[{"istat_code": "0" * 10_000, "belfiore_code": "D" * 10_000}]),
        body(comuni=[f.FIRENZE] * 1001),
        body(extra="field"),
    ],
)
def test_garbage_is_422_never_5xx(client, as_role, payload):
    response = client.put(URL, json=payload, headers=as_role("admin"))
    assert_problem(response, 422, "validation_error")


def test_a_body_that_is_not_json_is_a_problem(client, as_role):
    response = client.put(
        URL, data="{name: ", content_type="application/json", headers=as_role("admin")
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_a_body_nested_too_deep_is_400_not_a_crash(client, as_role, depth):
    response = client.put(
        URL,
        data="[" * depth + "]" * depth,
        content_type="application/json",
        headers=as_role("admin"),
    )
    assert_problem(response, 400, "bad_request")


def test_messages_are_in_italian(client, as_role):
    problem = assert_problem(
        client.put(URL, json={"name": 3, "extra": 1}, headers=as_role("admin")),
        422,
        "validation_error",
    )
    assert problem["errors"]["name"] == ["Deve essere una stringa."]
    assert problem["errors"]["extra"] == ["Campo non previsto."]
    assert problem["errors"]["comuni"] == ["Campo obbligatorio."]


def test_openapi_documents_both_operations(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    path = doc["paths"]["/api/v1/ente"]
    assert path["get"]["security"] == [{"bearerAuth": []}]
    assert path["put"]["security"] == [{"bearerAuth": []}]
    assert "requestBody" in path["put"]
    for operation in path.values():
        assert "schema" in operation["responses"]["200"]["content"]["application/json"]
