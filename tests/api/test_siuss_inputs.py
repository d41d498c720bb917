"""What SIUSS needs, as the API takes it: a beneficiary's citizenship, the ente's SIUSS code,
a scheme's presa in carico, and the services that vouchers may not buy (P1, P6)."""

from functools import partial

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from tests import factories as f
from voucher.extensions import db
from voucher.models import AuditEvent
from voucher.services import users

BENEFICIARIES = "/api/v1/beneficiaries"
ANNA = "RSSNNA40C52D612P"


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch):
    """Password hashing is not under test here."""
    monkeypatch.setattr(
        users, "generate_password_hash", partial(generate_password_hash, method="pbkdf2:sha256:1")
    )


@pytest.fixture
def admin(client):
    f.make_ente()
    return f.api_token(client, f.make_user("admin"))


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == code and body["title"] and body["detail"]
    return body


def person(**overrides) -> dict:
    data = {
        "fiscal_code": ANNA,
        "first_name": "Anna",
        "last_name": "Rossi",
        "comune_istat": "048017",
        "categories": ["elderly_self_sufficient"],
    }
    return {**data, **overrides}


# Citizenship -------------------------------------------------------------------------------


def test_citizenship_defaults_to_italian_and_is_kept_in_capitals(client, admin):
    created = client.post(BENEFICIARIES, json=person(), headers=admin)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["citizenship"] == "IT"
    url = f"{BENEFICIARIES}/{created.get_json()['id']}"
    changed = client.patch(url, json={"citizenship": " ma "}, headers=admin)
    assert changed.status_code == 200 and changed.get_json()["citizenship"] == "MA"
    assert client.get(url, headers=admin).get_json()["citizenship"] == "MA"


def test_a_foreign_citizenship_at_registration(client, admin):
    created = client.post(BENEFICIARIES, json=person(citizenship="al"), headers=admin)
    assert created.status_code == 201 and created.get_json()["citizenship"] == "AL"


@pytest.mark.parametrize("code", ["XX", "ITA", "", "380", "I"])
def test_an_unknown_citizenship_is_refused(client, admin, code):
    body = problem(
        client.post(BENEFICIARIES, json=person(citizenship=code), headers=admin),
        422,
        "validation_error",
    )
    assert "citizenship" in body["errors"]


def test_an_unknown_citizenship_is_refused_on_edit(client, admin):
    created = client.post(BENEFICIARIES, json=person(), headers=admin).get_json()
    url = f"{BENEFICIARIES}/{created['id']}"
    body = problem(
        client.patch(url, json={"citizenship": "ZZ"}, headers=admin), 422, "validation_error"
    )
    assert "ISO 3166-1" in body["errors"]["citizenship"][0]
    assert client.get(url, headers=admin).get_json()["citizenship"] == "IT"


# The ente's SIUSS code ---------------------------------------------------------------------


def test_the_siuss_code_is_returned_kept_and_changed(client, admin):
    ente = client.get("/api/v1/ente", headers=admin).get_json()
    assert ente["siuss_code"] == f.ENTE_SIUSS_CODE
    body = {k: ente[k] for k in ("name", "fiscal_code", "belfiore_code", "address")}
    body["comuni"] = [dict(f.FIRENZE), dict(f.FIESOLE)]
    kept = client.put("/api/v1/ente", json=body, headers=admin)
    assert kept.status_code == 200 and kept.get_json()["siuss_code"] == f.ENTE_SIUSS_CODE

    patched = client.patch("/api/v1/ente", json={"siuss_code": " ATS-0042 "}, headers=admin)
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["siuss_code"] == "ATS-0042"
    assert patched.get_json()["name"] == ente["name"]
    assert len(patched.get_json()["comuni"]) == 2

    put = client.put("/api/v1/ente", json={**body, "siuss_code": None}, headers=admin)
    assert put.status_code == 200 and put.get_json()["siuss_code"] is None

    # Each change of the code is on the record with both codes; keeping it adds nothing.
    events = db.session.execute(
        select(AuditEvent.data).where(AuditEvent.action == "ente.updated").order_by(AuditEvent.seq)
    ).scalars()
    assert [e.get("siuss_code") for e in events][-3:] == [
        None,
        [f.ENTE_SIUSS_CODE, "ATS-0042"],
        ["ATS-0042", None],
    ]


@pytest.mark.parametrize("code", ["con spazi", "A" * 17, "codice/ente", "%"])
def test_a_malformed_siuss_code_is_refused(client, admin, code):
    body = problem(
        client.patch("/api/v1/ente", json={"siuss_code": code}, headers=admin),
        422,
        "validation_error",
    )
    assert "siuss_code" in body["errors"]


def test_patch_before_the_ente_exists_is_404(client):
    headers = f.api_token(client, f.make_user("admin"))
    problem(
        client.patch("/api/v1/ente", json={"siuss_code": "X1"}, headers=headers), 404, "not_found"
    )


def test_only_the_admin_changes_the_siuss_code(client, admin):
    headers = f.api_token(client, f.make_user("social_worker"))
    response = client.patch("/api/v1/ente", json={"siuss_code": "X1"}, headers=headers)
    assert response.status_code == 403


# Schemes: presa in carico and services vouchers may not buy ---------------------------------


def _scheme(**overrides) -> dict:
    start, end = f.this_year_window()
    data = {
        "name": "Inclusione",
        "fund_code": "FONDO_POVERTA",
        "year": start.year,
        "service_codes": ["P2", "P3"],
        "unit": "HOUR",
        "unit_price_cents": 2000,
        "face_value_cents": 50_000,
        "valid_from": start.isoformat(),
        "valid_until": end.isoformat(),
        "budget_cents": 1_000_000,
        "eligible_categories": [],
    }
    return {**data, **overrides}


def test_presa_in_carico_is_set_and_defaults_to_no(client, admin):
    plain = client.post("/api/v1/schemes", json=_scheme(status="draft"), headers=admin)
    assert plain.status_code == 201 and plain.get_json()["presa_in_carico"] is False
    taken = client.post("/api/v1/schemes", json=_scheme(presa_in_carico=True), headers=admin)
    assert taken.status_code == 201 and taken.get_json()["presa_in_carico"] is True
    url = f"/api/v1/schemes/{plain.get_json()['id']}"
    changed = client.patch(url, json={"presa_in_carico": True}, headers=admin)
    assert changed.status_code == 200 and changed.get_json()["presa_in_carico"] is True


def test_presa_in_carico_changes_on_an_active_scheme_alone(client, admin):
    active = client.post("/api/v1/schemes", json=_scheme(), headers=admin).get_json()
    url = f"/api/v1/schemes/{active['id']}"
    changed = client.patch(url, json={"presa_in_carico": True}, headers=admin)
    assert changed.status_code == 200 and changed.get_json()["presa_in_carico"] is True
    both = client.patch(url, json={"presa_in_carico": False, "budget_cents": 1}, headers=admin)
    problem(both, 409, "conflict")
    assert client.get(url, headers=admin).get_json()["presa_in_carico"] is True


@pytest.mark.parametrize("codes", [["P1"], ["P2", "P6"]])
def test_services_the_ente_renders_itself_are_refused(client, admin, codes):
    body = problem(
        client.post("/api/v1/schemes", json=_scheme(service_codes=codes), headers=admin),
        422,
        "validation_error",
    )
    assert "non si acquistano con un buono" in " ".join(body["errors"]["service_codes"])


def test_a_draft_cannot_take_p1_on_edit(client, admin):
    draft = client.post("/api/v1/schemes", json=_scheme(status="draft"), headers=admin).get_json()
    response = client.patch(
        f"/api/v1/schemes/{draft['id']}", json={"service_codes": ["P1", "P2"]}, headers=admin
    )
    assert "service_codes" in problem(response, 422, "validation_error")["errors"]


def test_the_catalogue_says_which_services_vouchers_buy(client, admin):
    services = {s["code"]: s for s in client.get("/api/v1/services", headers=admin).get_json()}
    assert services["P1"]["voucherable"] is False and services["P6"]["voucherable"] is False
    assert services["A1"]["voucherable"] is True and services["P2"]["voucherable"] is True
