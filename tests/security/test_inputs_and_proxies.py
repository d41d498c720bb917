"""Input that once gave a server error, proxy headers from whoever sent them, and personal data
in URLs: each attack of the hardening review, replayed.

- A JSON integer past Python's 4,300 digits is a 400 problem, logged without a traceback.
- X-Forwarded-For is believed only from the configured proxies, so rotating it does not
  escape a per-address rate limit; gunicorn listens on loopback unless told otherwise.
- Dates past the supported years are refused where they enter (a scheme's validity, the
  audit log's filters), with an Italian message, before any date arithmetic.
- A codice fiscale is looked up by POST; the GET that puts it in the URL is deprecated, and
  no request log keeps a query string.
"""

import logging
import os
import runpy
from datetime import date
from pathlib import Path

import pytest
from flask import Flask

from tests import factories as f
from tests.conftest import make_app
from voucher.api.fields import MAX_BIGINT
from voucher.extensions import limiter
from voucher.proxies import TrustedProxyFix, parse_networks

ROOT = Path(__file__).resolve().parents[2]
DIGITS = "9" * 5000  # past sys.get_int_max_str_digits(): int() refuses it
ANNA = "RSSNNA40C52D612P"


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == code and body["status"] == status and body["detail"]
    return body


def bearer(client, role: str) -> dict:
    return f.api_token(client, f.make_user(role))


# --- (4) JSON numbers past int()'s limit ----------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/balance", '{"code": ' + DIGITS + ', "pin": "123456"}'),
        ("/api/v1/auth/token", '{"username": "admin", "password": -' + DIGITS + "}"),
        ("/api/v1/auth/token", '{"username": [[{"a": ' + DIGITS + "}]]}"),
        ("/api/v1/balance", '{"code": "AAAA-BBBB-CCCC-DDDD", "pin": "123456"'),
    ],
)
def test_a_json_body_python_cannot_read_is_a_400_logged_without_a_traceback(
    client, caplog, path, body
):
    with caplog.at_level(logging.DEBUG):
        response = client.post(path, data=body, content_type="application/json")
    problem = assert_problem(response, 400, "bad_request")
    assert problem["errors"]["_schema"]
    assert not [r for r in caplog.records if r.levelno > logging.INFO or r.exc_info]


def test_a_huge_integer_in_a_signed_in_body_is_a_400_too(client):
    f.make_ente()
    response = client.post(
        "/api/v1/vouchers",
        data='{"scheme_id": ' + DIGITS + ', "beneficiary_id": 1}',
        content_type="application/json",
        headers=bearer(client, "admin"),
    )
    assert "troppe cifre" in assert_problem(response, 400, "bad_request")["errors"]["_schema"][0]


def _inputs(schema: dict, components: dict, path: str = ""):
    """Every integer or number a request schema reads, with its path."""
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    if schema.get("readOnly"):
        return
    if schema.get("type") in ("integer", "number"):
        yield path, schema
    for name, part in schema.get("properties", {}).items():
        yield from _inputs(part, components, f"{path}.{name}")
    if "items" in schema:
        yield from _inputs(schema["items"], components, f"{path}[]")


def test_every_number_the_api_reads_fits_the_database(client):
    """A number past a column's range in a body or a query string is a 422 from the schema,
    never a database error (an id in a path past the range names nothing: 404)."""
    document = client.get("/api/v1/openapi.json").get_json()
    components = document["components"]["schemas"]
    unbounded = []
    for route, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":  # the path's own: ids
                continue
            parameters = [p for p in operation.get("parameters", []) if p["in"] == "query"]
            schemas = [(p["name"], p["schema"]) for p in parameters]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            schemas += [("body", body["schema"])] if body else []
            for name, schema in schemas:
                for where, number in _inputs(schema, components, name):
                    if not number.get("maximum", float("inf")) <= MAX_BIGINT:
                        unbounded.append(f"{method.upper()} {route} {where}")
    assert not unbounded, unbounded


# --- (5) X-Forwarded-For from the configured proxies only ---------------------------------


@pytest.fixture
def behind_a_proxy(tmp_path):
    """An application of its own, set up as documented behind one proxy, rate limits on.
    Flask-Limiter keeps `enabled` on its one extension object: put back afterwards."""
    previous, instance = limiter.enabled, os.environ.get("VOUCHER_INSTANCE_PATH")
    app = make_app(
        f"sqlite:///{tmp_path / 'proxy.sqlite3'}",
        tmp_path / "instance",
        TRUSTED_PROXIES=1,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
    )
    try:
        yield app
    finally:
        limiter.enabled = previous
        if instance is not None:
            os.environ["VOUCHER_INSTANCE_PATH"] = instance


def _balance_checks(app, peer: str, forwarded) -> list[int]:
    client = app.test_client()
    body = {"code": "AAAA-BBBB-CCCC-DDDD", "pin": "123456"}
    return [
        client.post(
            "/api/v1/balance",
            json=body,
            headers={"X-Forwarded-For": forwarded(i)},
            environ_base={"REMOTE_ADDR": peer},
        ).status_code
        for i in range(40)
    ]


def test_a_client_rotating_x_forwarded_for_stays_rate_limited(behind_a_proxy):
    """A client that reaches the application directly names a new address each time."""
    statuses = _balance_checks(behind_a_proxy, "203.0.113.7", lambda i: f"198.51.100.{i}")
    assert statuses[:30] == [401] * 30 and set(statuses[30:]) == {429}


def test_the_configured_proxy_is_believed(behind_a_proxy):
    """Through the proxy (loopback by default) each visitor has a window of its own, and one
    visitor is limited whatever the proxy's address."""
    many = _balance_checks(behind_a_proxy, "127.0.0.1", lambda i: f"198.51.100.{i}")
    assert set(many) == {401}
    one = _balance_checks(behind_a_proxy, "::1", lambda i: "192.0.2.1")
    assert set(one[30:]) == {429}


@pytest.mark.parametrize(
    ("allowed", "peer", "trusted"),
    [
        ("127.0.0.1,::1", "127.0.0.1", True),
        ("127.0.0.1,::1", "::ffff:127.0.0.1", True),
        ("127.0.0.1,::1", "10.0.0.5", False),
        ("10.0.0.0/8", "10.0.0.5", True),
        ("10.0.0.0/8", "fe80::1", False),
        ("*", "203.0.113.7", True),
        ("", "127.0.0.1", False),
        ("10.0.0.1", "", True),  # a UNIX socket: only the machine itself connects
    ],
)
def test_which_peers_are_proxies(allowed, peer, trusted):
    assert TrustedProxyFix(None, 1, allowed).trusts(peer) is trusted


def test_a_malformed_proxy_address_stops_the_start():
    with pytest.raises(ValueError):
        parse_networks("127.0.0.1,proxy.example")


def _gunicorn_settings(monkeypatch, **env) -> dict:
    for name in ("BIND", "HOST", "PORT", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_listens_on_loopback_unless_told_otherwise(monkeypatch):
    settings = _gunicorn_settings(monkeypatch)
    assert settings["bind"] == "127.0.0.1:8000"
    assert settings["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert _gunicorn_settings(monkeypatch, PORT="9000")["bind"] == "127.0.0.1:9000"
    assert _gunicorn_settings(monkeypatch, HOST="0.0.0.0")["bind"] == "0.0.0.0:8000"  # noqa: S104
    assert _gunicorn_settings(monkeypatch, BIND="10.0.0.2:80")["bind"] == "10.0.0.2:80"


# --- (12) Dates past the supported years ---------------------------------------------------


@pytest.mark.parametrize(
    "query", ["al=9999-12-31", "dal=0001-01-01", "dal=1999-12-31&al=9999-12-31"]
)
def test_the_audit_log_refuses_dates_past_the_supported_years(client, query):
    f.login(client, f.make_user("admin"))
    response = client.get(f"/rendiconti/registro?{query}")
    assert response.status_code == 400
    assert "Data fuori intervallo" in response.get_data(as_text=True)


@pytest.mark.parametrize("field", ["valid_from", "valid_until"])
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2101-01-01"])
def test_a_scheme_valid_past_the_supported_years_is_refused(client, field, day):
    f.make_ente()
    data = {k: v.isoformat() if isinstance(v, date) else v for k, v in f.scheme_data().items()}
    data[field] = day
    response = client.post("/api/v1/schemes", json=data, headers=bearer(client, "admin"))
    problem = assert_problem(response, 422, "validation_error")
    assert any("tra il 2000 e il 2100" in m for m in problem["errors"][field])


def test_a_scheme_valid_to_the_end_of_2100_issues(client):
    """The last supported day has a next day: its vouchers' QR codes expire after it."""
    f.make_ente()
    scheme = f.make_scheme(valid_until=date(2100, 12, 31))
    person = f.make_beneficiary()
    response = client.post(
        "/api/v1/vouchers",
        json={"scheme_id": scheme.id, "beneficiary_id": person.id},
        headers=bearer(client, "social_worker"),
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["valid_until"] == "2100-12-31"


def test_pages_refuse_a_nul_character(client):
    """PostgreSQL stores no NUL: a page queried with one answered 500. Pages drop it and
    answer to the rest of the input."""
    f.login(client, f.make_user("admin"))
    response = client.get("/rendiconti/registro?oggetto=a%00b&al=2026-01-01%00")
    assert response.status_code == 200
    assert "\x00" not in response.get_data(as_text=True)


# --- (13) No codice fiscale in a URL ---------------------------------------------------------


def test_the_fiscal_code_is_looked_up_by_post(client):
    f.make_ente()
    person = f.make_beneficiary()
    headers = bearer(client, "social_worker")
    posted = client.post(
        "/api/v1/beneficiaries/search",
        json={"fiscal_code": person.fiscal_code.lower()},
        headers=headers,
    )
    assert posted.status_code == 200 and [b["id"] for b in posted.get_json()] == [person.id]
    assert "Deprecation" not in posted.headers
    got = client.get(
        "/api/v1/beneficiaries", query_string={"fiscal_code": person.fiscal_code}, headers=headers
    )
    assert got.get_json() == posted.get_json()
    assert got.headers["Deprecation"].startswith("@")
    assert "/api/v1/beneficiaries/search" in got.headers["Link"]
    nobody = client.post(
        "/api/v1/beneficiaries/search", json={"fiscal_code": ANNA}, headers=headers
    )
    assert nobody.status_code == 200 and nobody.get_json() == []
    operations = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert operations["/api/v1/beneficiaries"]["get"]["deprecated"] is True
    assert "post" in operations["/api/v1/beneficiaries/search"]


@pytest.mark.parametrize(
    ("body", "role", "status"),
    [
        ({}, "social_worker", 422),
        ({"fiscal_code": "x" * 101}, "admin", 422),
        ({"fiscal_code": ANNA}, "provider", 403),
        ({"fiscal_code": ANNA}, "auditor", 403),
    ],
)
def test_the_search_by_post_refuses_like_the_get(client, body, role, status):
    provider = f.make_provider() if role == "provider" else None
    f.make_ente()
    headers = f.api_token(client, f.make_user(role, provider=provider))
    response = client.post("/api/v1/beneficiaries/search", json=body, headers=headers)
    assert response.status_code == status


def test_the_pages_never_put_a_fiscal_code_in_a_url(client):
    f.make_ente()
    person = f.make_beneficiary()
    f.login(client, f.make_user("social_worker"))
    page = client.get("/servizi/beneficiari").get_data(as_text=True)
    assert 'method="post" action="/servizi/beneficiari"' in page
    in_url = client.get("/servizi/beneficiari", query_string={"q": person.fiscal_code})
    assert 'id="results-title"' not in in_url.get_data(as_text=True)  # a GET never searches
    found = client.post("/servizi/beneficiari", data={"q": person.fiscal_code})
    html = found.get_data(as_text=True)
    assert f"/servizi/beneficiari/{person.id}" in html
    assert f"={person.fiscal_code}" not in html and f"/{person.fiscal_code}" not in html


def test_request_logs_never_hold_a_query_string(capsys):
    from voucher.logs import configure_logging

    logger = logging.getLogger("voucher")
    saved = logger.handlers[:], logger.level, logger.propagate
    app = Flask("logs")
    app.add_url_rule("/api/v1/beneficiaries", "find", lambda: "[]")
    try:
        configure_logging(app)
        client = app.test_client()
        client.get(f"/api/v1/beneficiaries?fiscal_code={ANNA}")
        client.get(f"/nowhere?fiscal_code={ANNA}")
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved
    logged = capsys.readouterr().err
    assert '"route": "/api/v1/beneficiaries"' in logged and '"route": "<unmatched>"' in logged
    assert ANNA not in logged and "fiscal_code" not in logged


def test_gunicorn_would_log_no_query_string_or_address(monkeypatch):
    settings = _gunicorn_settings(monkeypatch)
    assert settings["accesslog"] is None
    assert "%(U)s" in settings["access_log_format"]
    for atom in ("%(r)s", "%(q)s", "%(h)s", "%({x-forwarded-for}i)s"):
        assert atom not in settings["access_log_format"]


def test_a_log_line_carries_the_counts_and_ids_it_is_given_and_nothing_else():
    """The notification worker's counts and ids reach the JSON log; any other `extra`
    key (a fiscal code passed by mistake, say) does not."""
    import json

    from voucher.logs import JsonFormatter

    record = logging.LogRecord("voucher.x", logging.INFO, __file__, 1, "sent", None, None)
    record.count, record.notification, record.fiscal_code = 20, 7, ANNA
    line = json.loads(JsonFormatter().format(record))
    assert (line["count"], line["notification"]) == (20, 7)
    assert ANNA not in json.dumps(line)
