"""A codice fiscale that disagrees with the name: registered all the same (201, as the
contract says), with `warnings` in the answer and in every later read until corrected."""

from sqlalchemy import select

from tests import factories as f
from tests.api.test_beneficiaries import ANNA, URL, as_role, person  # noqa: F401
from voucher.extensions import db
from voucher.models import Beneficiary


def test_a_match_has_no_warnings(client, as_role):  # noqa: F811
    response = client.post(URL, json=person(), headers=as_role("social_worker"))
    assert response.status_code == 201 and response.get_json()["warnings"] == []


def test_a_mismatch_is_registered_with_warnings_until_the_names_are_corrected(
    client,
    as_role,  # noqa: F811
):
    headers = as_role("social_worker")
    response = client.post(URL, json=person(first_name="Carla", last_name="Neri"), headers=headers)
    assert response.status_code == 201
    body = response.get_json()
    assert body["warnings"] == [
        "Le lettere del cognome nel codice fiscale (RSS) non corrispondono a «Neri» "
        "(dovrebbero essere NRE).",
        "Le lettere del nome nel codice fiscale (NNA) non corrispondono a «Carla» "
        "(dovrebbero essere CRL).",
    ]
    stored = db.session.execute(
        select(Beneficiary).where(Beneficiary.fiscal_code == ANNA)
    ).scalar_one()
    assert (stored.first_name, stored.sex) == ("Carla", "F")
    read = client.get(f"{URL}/{body['id']}", headers=headers).get_json()
    assert read["warnings"] == body["warnings"]
    fixed = client.patch(
        f"{URL}/{body['id']}", json={"first_name": "Anna", "last_name": "Rossi"}, headers=headers
    )
    assert fixed.status_code == 200 and fixed.get_json()["warnings"] == []


def test_a_mans_code_for_anna_is_flagged(client, as_role):  # noqa: F811
    code = f.fiscal_code_for(f.unique_birth_date(50), "M", "Neri", "Mario")
    body = client.post(
        URL,
        json=person(fiscal_code=code, first_name="Anna", last_name="Neri"),
        headers=as_role("admin"),
    ).get_json()
    assert body["sex"] == "M"
    assert (
        "Il codice fiscale indica un uomo, ma «Anna» è di solito un nome femminile."
        in (body["warnings"])
    )


def test_the_openapi_document_describes_warnings(client):
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    warnings = schema["Beneficiary"]["properties"]["warnings"]
    assert warnings["type"] == "array" and warnings["items"] == {"type": "string"}
