"""Who may read which report, and bad parameters: 401, 403, 404 and 422, never a 5xx."""

from datetime import date

import pytest

from tests import factories as f
from tests.reports.world import Ledger, headers_for, issue, make_provider, make_scheme
from voucher.models import AuditEvent
from voucher.periods import Month
from voucher.services import clock

YEAR = clock.today().year - 1
MONTH = f"{YEAR}-03"


@pytest.fixture
def world(app, client):
    f.make_ente()
    scheme = make_scheme(YEAR)
    provider = make_provider(YEAR)
    other = make_provider(YEAR)
    voucher = issue(scheme, f.make_beneficiary())
    Ledger().redeem(provider, voucher, "A1", date(YEAR, 3, 10), quantity="2")
    return {"provider": provider, "other": other}


YEAR_REPORTS = ("funds", "fsc", "fondo-poverta")


@pytest.mark.parametrize("report", YEAR_REPORTS)
@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("auditor", 200), ("social_worker", 403), ("provider", 403), (None, 401)],
)
def test_year_reports_are_for_admin_and_auditor(client, world, report, role, status):
    headers = (
        headers_for(client, role, world["provider"] if role == "provider" else None) if role else {}
    )
    response = client.get(f"/api/v1/reports/{report}?year={YEAR}", headers=headers)
    assert response.status_code == status
    if status != 200:
        assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("role", "whose", "status"),
    [
        ("admin", "provider", 200),
        ("auditor", "provider", 200),
        ("provider", "provider", 200),
        ("provider", "other", 404),
        ("social_worker", "provider", 403),
        (None, "provider", 401),
    ],
)
def test_statement_reach(client, world, role, whose, status):
    headers = (
        headers_for(client, role, world["provider"] if role == "provider" else None) if role else {}
    )
    target = world[whose].id
    response = client.get(
        f"/api/v1/reports/providers/{target}/statement?month={MONTH}", headers=headers
    )
    assert response.status_code == status
    if status == 404:
        assert response.get_json()["code"] == "not_found"


def test_provider_api_key_reads_its_own_statement(client, world):
    from tests.api.voucher_world import api_key_headers

    headers = api_key_headers(world["provider"])
    own = client.get(
        f"/api/v1/reports/providers/{world['provider'].id}/statement?month={MONTH}",
        headers=headers,
    )
    assert own.status_code == 200 and own.get_json()["total_public_cents"] == 4000
    other = client.get(
        f"/api/v1/reports/providers/{world['other'].id}/statement?month={MONTH}",
        headers=headers,
    )
    assert other.status_code == 404


def test_unknown_provider_is_404(client, world):
    headers = headers_for(client, "admin")
    response = client.get(
        f"/api/v1/reports/providers/999999/statement?month={MONTH}", headers=headers
    )
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["auditor", "social_worker", "provider"])
def test_only_admin_approves_and_pays(client, world, role):
    headers = headers_for(client, role, world["provider"] if role == "provider" else None)
    base = f"/api/v1/reports/providers/{world['provider'].id}/statement"
    assert client.post(f"{base}/approve", json={"month": MONTH}, headers=headers).status_code == 403
    paid = {"month": MONTH, "reference": "M-1", "paid_on": f"{YEAR}-05-01"}
    assert client.post(f"{base}/paid", json=paid, headers=headers).status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/reports/funds?year=abc",
        "/api/v1/reports/funds",
        "/api/v1/reports/funds?year=99999999999999999999",
        "/api/v1/reports/fsc?year=1800",
        "/api/v1/reports/fsc?year=2026&format=docx",
        "/api/v1/reports/fondo-poverta?year=",
        "/api/v1/reports/providers/{id}/statement?month=2026-13",
        "/api/v1/reports/providers/{id}/statement?month=2026-1",
        "/api/v1/reports/providers/{id}/statement?month=marzo",
        "/api/v1/reports/providers/{id}/statement",
        "/api/v1/reports/siuss?from=2026-02-30&to=2026-03-01",
        "/api/v1/reports/siuss?from=2026-03-01&to=2026-02-01",
        "/api/v1/reports/siuss?from=2020-01-01&to=2026-01-01",
        "/api/v1/reports/siuss?to=2026-01-01",
        "/api/v1/siuss/flussi?since=-1",
        "/api/v1/siuss/flussi?since=abc",
        "/api/v1/siuss/flussi?since=0&limit=101",
        "/api/v1/siuss/flussi",
        "/api/v1/siuss/periods/2026-00/flows",
    ],
)
def test_bad_parameters_are_422(client, app, query):
    f.make_ente()
    provider = make_provider(YEAR, services=("A1",))
    headers = headers_for(client, "admin")
    response = client.get(query.format(id=provider.id), headers=headers)
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert body["code"] == "validation_error" and body["errors"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"month": "2026-13"},
        {"month": 202603},
        {"month": None},
        [],
        "2026-03",
    ],
)
def test_bad_approval_bodies_are_4xx(client, app, body):
    provider = make_provider(YEAR, services=("A1",))
    headers = headers_for(client, "admin")
    response = client.post(
        f"/api/v1/reports/providers/{provider.id}/statement/approve",
        json=body,
        headers=headers,
    )
    assert response.status_code in (400, 422)
    assert response.mimetype == "application/problem+json"


def test_huge_provider_id_is_404_not_a_crash(client, world):
    headers = headers_for(client, "admin")
    response = client.get(
        f"/api/v1/reports/providers/{2**70}/statement?month={MONTH}", headers=headers
    )
    assert response.status_code == 404


def test_report_downloads_are_audited_without_personal_data(client, world):
    from sqlalchemy import select

    from voucher.extensions import db

    headers = headers_for(client, "auditor")
    client.get(f"/api/v1/reports/fsc?year={YEAR}&format=csv", headers=headers)
    client.get(f"/api/v1/reports/siuss?from={YEAR}-03-01&to={YEAR}-03-31", headers=headers)
    events = (
        db.session.execute(
            select(AuditEvent)
            .where(AuditEvent.action == "report.downloaded")
            .order_by(AuditEvent.seq)
        )
        .scalars()
        .all()
    )
    assert [(e.object_id, e.data["format"]) for e in events[-2:]] == [
        ("fsc", "csv"),
        ("siuss", "xml"),
    ]
    assert events[-2].data["year"] == YEAR
    assert set(events[-1].data) == {"format", "date_from", "date_to"}


def test_statement_month_helpers():
    assert str(Month.parse("2026-12").next()) == "2027-01"
    assert str(Month.parse("2026-01").previous()) == "2025-12"
    assert Month.parse("2026-03").end == date(2026, 4, 1)


def test_reports_are_in_the_openapi_document(client, app):
    doc = client.get("/api/v1/openapi.json").get_json()
    paths = doc["paths"]
    for path in (
        "/api/v1/reports/funds",
        "/api/v1/reports/fsc",
        "/api/v1/reports/fondo-poverta",
        "/api/v1/reports/providers/{provider_id}/statement",
        "/api/v1/reports/providers/{provider_id}/statement/approve",
        "/api/v1/reports/providers/{provider_id}/statement/paid",
        "/api/v1/reports/siuss",
        "/api/v1/siuss/flussi",
        "/api/v1/siuss/esiti",
    ):
        assert path in paths, path
    funds = paths["/api/v1/reports/funds"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "text/csv; charset=utf-8", "application/pdf"} <= set(funds)
