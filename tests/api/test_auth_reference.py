import pytest

from tests import factories as f


def test_token_for_good_credentials(client, app):
    user = f.make_user("auditor")
    response = client.post(
        "/api/v1/auth/token", json={"username": user.username, "password": f.PASSWORD}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    assert len(body["access_token"]) >= 32


@pytest.mark.parametrize("password", ["wrong-password-123", ""])
def test_wrong_credentials_are_401_problem(client, app, password):
    user = f.make_user("auditor")
    response = client.post(
        "/api/v1/auth/token", json={"username": user.username, "password": password}
    )
    assert response.status_code in (401, 422)
    assert response.mimetype == "application/problem+json"
    if password:
        assert response.get_json()["code"] == "invalid_credentials"


def test_services_need_a_token(client, app):
    response = client.get("/api/v1/services")
    assert response.status_code == 401
    assert response.get_json()["code"] == "unauthorized"


def test_services_list_the_whole_catalogue(client, app):
    headers = f.api_token(
        client, f.make_user("provider", provider=None) if False else f.make_user("social_worker")
    )
    body = client.get("/api/v1/services", headers=headers).get_json()
    codes = {s["code"] for s in body}
    assert {"A1", "A4", "B1", "B4", "C1", "C3", "P1", "P6"} <= codes
    a1 = next(s for s in body if s["code"] == "A1")
    assert a1 == {**a1, "area": "A", "unit": "HOUR", "siuss_code": "A2.07"}
    funds = client.get("/api/v1/funds", headers=headers).get_json()
    assert {"FSC_OS", "FONDO_POVERTA", "PNRR"} <= {x["code"] for x in funds}


def test_openapi_document_is_served(client, app):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/services" in doc["paths"]


def test_malformed_json_is_a_problem_not_a_crash(client, app):
    response = client.post("/api/v1/auth/token", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
