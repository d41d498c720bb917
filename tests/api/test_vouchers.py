"""The vouchers API: issuing, reading by audience, managing, public keys and revocations."""

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests import factories as f
from tests.api.voucher_world import ROLES, api_key_headers, assert_problem, make_world
from tests.voucher_states import CLOSED, RESET_PIN_REFUSED, close
from voucher.documents.signing import end_of_day_epoch
from voucher.extensions import db
from voucher.models import AuditEvent
from voucher.services import SYSTEM, clock, vouchers

STAFF_KEYS = {
    "code",
    "status",
    "value_cents",
    "balance_cents",
    "coverage_percent",
    "valid_from",
    "valid_until",
    "qr_payload",
    "pdf_url",
    "scheme_id",
    "beneficiary_id",
}
PROVIDER_KEYS = {
    "code",
    "status",
    "balance_cents",
    "value_cents",
    "balance_units",
    "value_units",
    "valid_from",
    "valid_until",
    "scheme_name",
    "services",
    "unit",
    "unit_price_cents",
    "max_redemption_cents",
    "coverage_percent",
    "beneficiary_initials",
}


@pytest.fixture
def world(client, app):
    return make_world(client)


def issue(world, role="social_worker", **body):
    body = {"scheme_id": world.scheme.id, "beneficiary_id": world.person.id, **body}
    return world.client.post("/api/v1/vouchers", json=body, headers=world.headers(role))


# --- POST /vouchers -----------------------------------------------------------------------


def test_issue_returns_the_voucher_with_its_pin(world):
    response = issue(world)
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert STAFF_KEYS | {"pin"} <= set(body)
    assert body["status"] == "active"
    assert body["value_cents"] == body["balance_cents"] == world.scheme.face_value_cents
    assert body["coverage_percent"] == 100
    assert body["scheme_id"] == world.scheme.id and body["beneficiary_id"] == world.person.id
    assert body["valid_from"] == world.scheme.valid_from.isoformat()
    assert body["valid_until"] == world.scheme.valid_until.isoformat()
    assert len(body["pin"]) == 6 and body["pin"].isdigit()
    assert body["pdf_url"] == f"/api/v1/vouchers/{body['code']}/pdf"
    assert vouchers.check_pin(body["code"], body["pin"]).code == body["code"]


def test_the_pin_is_shown_only_when_issued(world):
    code = issue(world).get_json()["code"]
    for role in ("admin", "social_worker", "auditor", "provider"):
        body = world.client.get(f"/api/v1/vouchers/{code}", headers=world.headers(role))
        assert "pin" not in body.get_json()
        assert "pin_hash" not in body.get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 201), ("social_worker", 201), ("auditor", 403), ("provider", 403), (None, 401)],
)
def test_issue_role_matrix(world, role, status):
    response = issue(world, role) if role else world.client.post("/api/v1/vouchers", json={})
    assert response.status_code == status
    if status >= 400:
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["code"] == {401: "unauthorized", 403: "forbidden"}[status]


def test_not_eligible_names_the_rule(client, app):
    world = make_world(client, eligible_categories=["minor"])
    body = assert_problem(issue(world), 409, "not_eligible")
    assert "category" in body["detail"]


def test_budget_exceeded(client, app):
    world = make_world(client, budget_cents=60_000, face_value_cents=50_000)
    assert issue(world).status_code == 201
    other = f.make_beneficiary()
    assert_problem(issue(world, beneficiary_id=other.id), 409, "budget_exceeded")


def test_limit_reached(client, app):
    world = make_world(client, max_active_per_beneficiary=1)
    assert issue(world).status_code == 201
    assert_problem(issue(world), 409, "limit_reached")


def test_scheme_not_active(client, app):
    world = make_world(client, status="draft")
    assert_problem(issue(world), 409, "scheme_not_active")


@pytest.mark.parametrize("field", ["scheme_id", "beneficiary_id"])
def test_unknown_scheme_or_beneficiary_is_422_naming_the_field(world, field):
    body = assert_problem(issue(world, **{field: 999_999}), 422, "validation_error")
    assert list(body["errors"]) == [field]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"scheme_id": "uno", "beneficiary_id": 1},
        {"scheme_id": 1.5, "beneficiary_id": 1},
        {"scheme_id": True, "beneficiary_id": 1},
        {"scheme_id": None, "beneficiary_id": 1},
        {"scheme_id": 10**30, "beneficiary_id": 1},
        {"scheme_id": -1, "beneficiary_id": 1},
        {"scheme_id": 1, "beneficiary_id": 1, "extra": "x"},
        [],
        "testo",
        12,
    ],
)
def test_issue_garbage_is_a_validation_problem(world, body):
    response = world.client.post("/api/v1/vouchers", json=body, headers=world.headers("admin"))
    body = assert_problem(response, 422, "validation_error")
    assert body["errors"]


@pytest.mark.parametrize(
    ("data", "content_type"),
    [("{not json", "application/json"), ("scheme_id=1", "application/x-www-form-urlencoded")],
)
def test_issue_non_json_is_a_client_error(world, data, content_type):
    response = world.client.post(
        "/api/v1/vouchers", data=data, content_type=content_type, headers=world.headers("admin")
    )
    assert 400 <= response.status_code < 500
    assert response.mimetype == "application/problem+json"


# --- GET /vouchers/{code} -----------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "social_worker", "auditor"])
def test_staff_see_the_whole_voucher(world, role):
    issued = issue(world).get_json()
    response = world.client.get(f"/api/v1/vouchers/{issued['code']}", headers=world.headers(role))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) >= STAFF_KEYS
    assert {k: body[k] for k in STAFF_KEYS} == {k: issued[k] for k in STAFF_KEYS}
    assert body["scheme_name"] == world.scheme.name


@pytest.mark.parametrize("credential", ["user", "api_key"])
def test_a_provider_sees_only_what_it_needs(world, credential):
    issued = issue(world).get_json()
    headers = world.headers("provider") if credential == "user" else api_key_headers(world.provider)
    response = world.client.get(f"/api/v1/vouchers/{issued['code']}", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == PROVIDER_KEYS
    person = world.person
    assert body["beneficiary_initials"] == f"{person.first_name[0]}.{person.last_name[0]}."
    assert body["services"] == [
        {"code": "A1", "name": "Assistenza domiciliare sociale per anziani autosufficienti"},
        {"code": "A2", "name": "Pasti a domicilio"},
    ]
    assert body["unit"] == "HOUR" and body["unit_price_cents"] == world.scheme.unit_price_cents
    assert body["scheme_name"] == world.scheme.name
    text = response.get_data(as_text=True)
    for personal in (person.fiscal_code, person.first_name, person.last_name):
        assert personal not in text
    assert issued["qr_payload"] not in text


@pytest.mark.parametrize(
    "spelling", [str.lower, lambda c: c.replace("-", ""), lambda c: f"  {c.lower()} "]
)
def test_code_lookup_ignores_case_and_dashes(world, spelling):
    code = issue(world).get_json()["code"]
    response = world.client.get(
        f"/api/v1/vouchers/{spelling(code)}", headers=world.headers("provider")
    )
    assert response.status_code == 200
    assert response.get_json()["code"] == code


def test_lookup_by_qr_payload(world):
    issued = issue(world).get_json()
    response = world.client.get(
        f"/api/v1/vouchers/{issued['qr_payload']}", headers=world.headers("provider")
    )
    assert response.get_json()["code"] == issued["code"]


@pytest.mark.parametrize(
    "code",
    [
        "AAAA-BBBB-CCCC-DDDD",
        "nessuno",
        "x" * 5000,
        "%00",
        "%C3%A8%E2%82%AC",
        "..",
        "a.b.c",
        "eyJhbGciOiJub25lIn0.e30.",
    ],
)
def test_unknown_or_garbage_code_is_a_4xx(world, code):
    response = world.client.get(f"/api/v1/vouchers/{code}", headers=world.headers("provider"))
    assert 400 <= response.status_code < 500
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] in ("voucher_not_found", "invalid_signature", "not_found")


def test_unknown_code_is_voucher_not_found(world):
    response = world.client.get(
        "/api/v1/vouchers/AAAA-BBBB-CCCC-DDDD", headers=world.headers("admin")
    )
    assert_problem(response, 404, "voucher_not_found")


def test_reading_needs_a_token(world):
    code = issue(world).get_json()["code"]
    assert_problem(world.client.get(f"/api/v1/vouchers/{code}"), 401, "unauthorized")


def test_a_voucher_past_its_last_day_reads_as_expired(client, app):
    today = clock.today()
    world = make_world(
        client,
        valid_from=today - timedelta(days=60),
        valid_until=today - timedelta(days=1),
    )
    voucher, _pin = world.issue(day=today - timedelta(days=30))
    body = client.get(f"/api/v1/vouchers/{voucher.code}", headers=world.headers("admin"))
    assert body.get_json()["status"] == "expired"


# --- QR payload and public keys -----------------------------------------------------------


def test_public_keys_verify_the_qr_payload_offline(world):
    issued = issue(world).get_json()
    response = world.client.get("/api/v1/public-keys")
    assert response.status_code == 200
    keys = response.get_json()["keys"]
    assert keys and all(k["kty"] == "OKP" and k["crv"] == "Ed25519" for k in keys)
    header = jwt.get_unverified_header(issued["qr_payload"])
    assert header["alg"] == "EdDSA"
    jwk = next(k for k in keys if k["kid"] == header["kid"])
    claims = jwt.decode(
        issued["qr_payload"], jwt.PyJWK(jwk).key, algorithms=["EdDSA"], options={"verify_nbf": 0}
    )
    assert claims["code"] == issued["code"]
    assert claims["exp"] == end_of_day_epoch(world.scheme.valid_until)
    assert set(claims) <= {"iss", "code", "nbf", "exp"}  # no personal data
    for personal in (world.person.fiscal_code, world.person.last_name):
        assert personal not in str(claims)


def test_a_foreign_key_does_not_verify(world):
    issued = issue(world).get_json()
    keys = world.client.get("/api/v1/public-keys").get_json()["keys"]
    forged = jwt.encode(
        {"code": issued["code"], "exp": 4_000_000_000},
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": keys[0]["kid"]},
    )
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, jwt.PyJWK(keys[0]).key, algorithms=["EdDSA"])


# --- PDF ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "social_worker"])
def test_pdf_is_the_letter_whose_qr_is_the_payload(world, role):
    import pymupdf
    import zxingcpp
    from PIL import Image

    issued = issue(world).get_json()
    response = world.client.get(issued["pdf_url"], headers=world.headers(role))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    page = pymupdf.open(stream=response.data, filetype="pdf")[0]
    pixmap = page.get_pixmap(dpi=200)
    image = Image.frombytes("RGB", (pixmap.width, pixmap.height), pixmap.samples)
    decoded = [r.text for r in zxingcpp.read_barcodes(image)]
    assert issued["qr_payload"] in decoded
    assert issued["pin"] not in page.get_text()


def test_pdf_is_for_staff_only(world):
    issued = issue(world).get_json()
    response = world.client.get(issued["pdf_url"], headers=world.headers("provider"))
    assert_problem(response, 403, "forbidden")
    assert_problem(world.client.get(issued["pdf_url"]), 401, "unauthorized")
    response = world.client.get(
        "/api/v1/vouchers/AAAA-BBBB-CCCC-DDDD/pdf", headers=world.headers("admin")
    )
    assert_problem(response, 404, "voucher_not_found")


# --- revoke, replace, reset PIN, suspend --------------------------------------------------


def test_revoke(world):
    code = issue(world).get_json()["code"]
    headers = world.headers("social_worker")
    response = world.client.post(
        f"/api/v1/vouchers/{code}/revoke", json={"reason": "Trasferito"}, headers=headers
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "revoked" and body["code"] == code
    assert body["revoke_reason"] == "Trasferito" and body["revoked_at"]
    again = world.client.post(
        f"/api/v1/vouchers/{code}/revoke", json={"reason": "Ancora"}, headers=headers
    )
    assert_problem(again, 409, "conflict")


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "a\x00b"}])
def test_revoke_needs_a_reason(world, body):
    code = issue(world).get_json()["code"]
    response = world.client.post(
        f"/api/v1/vouchers/{code}/revoke", json=body, headers=world.headers("admin")
    )
    problem = assert_problem(response, 422, "validation_error")
    assert "reason" in problem["errors"]


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("social_worker", 200), ("auditor", 403), ("provider", 403), (None, 401)],
)
def test_manage_role_matrix(world, role, status):
    code = issue(world).get_json()["code"]
    headers = world.headers(role) if role else {}
    for action, body, ok in [
        ("suspend", {}, 200),
        ("reactivate", None, 200),
        ("reset-pin", None, 200),
        ("revoke", {"reason": "Prova"}, 200),
    ]:
        response = world.client.post(
            f"/api/v1/vouchers/{code}/{action}", json=body, headers=headers
        )
        assert response.status_code == (ok if status == 200 else status), action


def test_replace_moves_the_remaining_balance_to_a_new_code(world):
    old, _pin = world.issue()
    old.balance_cents = 12_345  # as if partly spent
    db.session.commit()
    response = world.client.post(
        f"/api/v1/vouchers/{old.code}/replace",
        json={"reason": "Smarrito"},
        headers=world.headers("social_worker"),
    )
    assert response.status_code == 201
    new = response.get_json()
    assert new["code"] != old.code and new["pin"].isdigit()
    assert new["value_cents"] == new["balance_cents"] == 12_345
    assert new["replaces"] == old.code and new["status"] == "active"
    assert vouchers.get_voucher(old.code).status == "revoked"
    again = world.client.post(
        f"/api/v1/vouchers/{old.code}/replace",
        json={"reason": "Ancora"},
        headers=world.headers("social_worker"),
    )
    assert_problem(again, 409, "conflict")


def test_reset_pin_gives_a_new_pin_and_the_old_stops_working(world):
    issued = issue(world).get_json()
    response = world.client.post(
        f"/api/v1/vouchers/{issued['code']}/reset-pin", headers=world.headers("admin")
    )
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"code", "pin"} and body["code"] == issued["code"]
    assert response.headers["Cache-Control"] == "no-store"
    old = world.client.post("/api/v1/balance", json={"code": issued["code"], "pin": issued["pin"]})
    if issued["pin"] != body["pin"]:
        assert_problem(old, 401, "invalid_code_or_pin")
    new = world.client.post("/api/v1/balance", json={"code": issued["code"], "pin": body["pin"]})
    assert new.status_code == 200


@pytest.mark.parametrize("status", sorted(CLOSED))
def test_reset_pin_is_refused_on_a_voucher_that_can_no_longer_be_spent(world, status):
    voucher, _pin = world.issue()
    voucher = close(voucher, world.provider, status)
    digest = voucher.pin_hash
    response = world.client.post(
        f"/api/v1/vouchers/{voucher.code}/reset-pin",
        json={"reason": "PIN dimenticato"},
        headers=world.headers("social_worker"),
    )
    body = assert_problem(response, 409, "conflict")
    assert body["detail"] == RESET_PIN_REFUSED
    assert "pin" not in body
    db.session.expire_all()
    assert vouchers.get_voucher(voucher.code).pin_hash == digest
    resets = select(AuditEvent).where(
        AuditEvent.object_id == voucher.code, AuditEvent.action == "voucher.pin_reset"
    )
    assert db.session.execute(resets).first() is None


def test_reset_pin_is_allowed_on_a_suspended_voucher(world):
    voucher, _pin = world.issue()
    vouchers.suspend_voucher(SYSTEM, voucher, "Verifica")
    db.session.commit()
    response = world.client.post(
        f"/api/v1/vouchers/{voucher.code}/reset-pin", headers=world.headers("social_worker")
    )
    assert response.status_code == 200 and response.get_json()["pin"].isdigit()


def test_suspend_and_reactivate(world):
    code = issue(world).get_json()["code"]
    headers = world.headers("social_worker")
    response = world.client.post(
        f"/api/v1/vouchers/{code}/suspend", json={"reason": "Ricovero"}, headers=headers
    )
    assert response.status_code == 200 and response.get_json()["status"] == "suspended"
    assert_problem(
        world.client.post(f"/api/v1/vouchers/{code}/suspend", json={}, headers=headers),
        409,
        "conflict",
    )
    response = world.client.post(
        f"/api/v1/vouchers/{code}/reactivate", json={"reason": "Rientrato"}, headers=headers
    )
    assert response.status_code == 200 and response.get_json()["status"] == "active"
    actions = {
        e.action: e.data
        for e in db.session.execute(select(AuditEvent).where(AuditEvent.object_id == code))
        .scalars()
        .all()
    }
    assert actions["voucher.suspended"]["reason"] == "Ricovero"
    assert actions["voucher.reactivated"]["reason"] == "Rientrato"
    # Without a body at all, a suspension needs no note.
    response = world.client.post(f"/api/v1/vouchers/{code}/suspend", headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "suspended"
    response = world.client.post(f"/api/v1/vouchers/{code}/reactivate", headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "active"
    assert_problem(
        world.client.post(f"/api/v1/vouchers/{code}/reactivate", headers=headers),
        409,
        "conflict",
    )


@pytest.mark.parametrize("action", ["revoke", "replace", "suspend", "reactivate", "reset-pin"])
def test_managing_an_unknown_voucher_is_404(world, action):
    response = world.client.post(
        f"/api/v1/vouchers/AAAA-BBBB-CCCC-DDDD/{action}",
        json={"reason": "Prova"},
        headers=world.headers("admin"),
    )
    assert_problem(response, 404, "voucher_not_found")


# --- revocations --------------------------------------------------------------------------


def _revoke(world, reason="Prova"):
    voucher, _pin = world.issue()
    vouchers.revoke_voucher(SYSTEM, voucher, reason)
    db.session.commit()
    return voucher


@pytest.mark.parametrize("role", ROLES)
def test_revocations_list_revoked_codes(world, role):
    kept, _pin = world.issue()
    revoked = _revoke(world)
    response = world.client.get("/api/v1/revocations", headers=world.headers(role))
    assert response.status_code == 200
    rows = response.get_json()["revoked"]
    assert revoked.code in {r["code"] for r in rows}
    assert kept.code not in {r["code"] for r in rows}
    row = next(r for r in rows if r["code"] == revoked.code)
    assert datetime.fromisoformat(row["revoked_at"]).tzinfo is not None


def test_revocations_since(world):
    revoked = _revoke(world)
    headers = world.headers("provider")
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    for since, expected in [(past, True), (future, False)]:
        response = world.client.get(
            "/api/v1/revocations", query_string={"since": since}, headers=headers
        )
        assert response.status_code == 200
        codes = {r["code"] for r in response.get_json()["revoked"]}
        assert (revoked.code in codes) is expected
    # An unencoded "+" in the offset arrives as a space: still understood.
    rome = datetime.now(UTC).astimezone(clock.ROME) - timedelta(hours=1)
    raw = rome.replace(microsecond=0).isoformat()
    response = world.client.get(f"/api/v1/revocations?since={raw}", headers=headers)
    assert response.status_code == 200
    assert revoked.code in {r["code"] for r in response.get_json()["revoked"]}


@pytest.mark.parametrize(
    "since",
    ["ieri", "2026-13-45T00:00:00Z", "", "1" * 300, "2026-01-01T25", "0001-01-01T00:00:00+14:00"],
)
def test_revocations_bad_timestamp_is_422(world, since):
    response = world.client.get(
        "/api/v1/revocations", query_string={"since": since}, headers=world.headers("admin")
    )
    problem = assert_problem(response, 422, "validation_error")
    assert "since" in problem["errors"]


def test_revocations_need_a_token(world):
    assert_problem(world.client.get("/api/v1/revocations"), 401, "unauthorized")


def test_every_operation_is_in_the_openapi_document(client, app):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, method in [
        ("/api/v1/vouchers", "post"),
        ("/api/v1/vouchers/{code}", "get"),
        ("/api/v1/vouchers/{code}/pdf", "get"),
        ("/api/v1/vouchers/{code}/revoke", "post"),
        ("/api/v1/public-keys", "get"),
        ("/api/v1/revocations", "get"),
    ]:
        operation = paths[path][method]
        assert operation["responses"], path
    assert "requestBody" in paths["/api/v1/vouchers"]["post"]


JUNK = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.fixed_dictionaries({}, optional={"scheme_id": JUNK, "beneficiary_id": JUNK}),
    reason=JUNK,
    path=st.text(min_size=1, max_size=80),
)
def test_no_voucher_request_is_a_server_error(world, body, reason, path):
    headers = world.headers("admin")
    response = world.client.post("/api/v1/vouchers", json=body, headers=headers)
    assert response.status_code < 500, response.get_data(as_text=True)
    code = quote(path, safe="")
    for method, url, payload in [
        ("get", f"/api/v1/vouchers/{code}", None),
        ("post", f"/api/v1/vouchers/{code}/revoke", {"reason": reason}),
        ("post", f"/api/v1/vouchers/{code}/suspend", {"reason": reason}),
        ("get", f"/api/v1/revocations?since={code}", None),
    ]:
        response = getattr(world.client, method)(url, json=payload, headers=headers)
        assert response.status_code < 500, (url, response.get_data(as_text=True))
