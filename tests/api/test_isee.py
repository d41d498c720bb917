"""The ISEE records API: entering and listing a beneficiary's records, which ISEE a scheme
reads when issuing, and the voucher's coverage as of today."""

from datetime import timedelta

import pytest

from tests import factories as f
from tests.api.voucher_world import assert_problem, make_world
from voucher.periods import Month
from voucher.services import clock

# 10.000 € → 90 %, 20.000 € → 70 %, 30.000 € → 50 %; the world's person has 10.000 €.
BANDS = [
    {"isee_max_cents": 1_000_000, "coverage_percent": 90},
    {"isee_max_cents": 2_000_000, "coverage_percent": 70},
    {"isee_max_cents": 3_000_000, "coverage_percent": 50},
]
TODAY = clock.today()
LAST_MONTH = Month.of(TODAY).previous().start


@pytest.fixture
def world(client, app):
    return make_world(client, copay_bands=BANDS)


def record(**overrides) -> dict:
    return {
        "type": "ordinario",
        "value_cents": 1_500_000,
        "dsu_protocol": f"INPS-ISEE-{LAST_MONTH.year}-000000123-01",
        "dsu_date": LAST_MONTH.isoformat(),
        "valid_until": (TODAY + timedelta(days=300)).isoformat(),
        **overrides,
    }


def post(world, person_id, body, role="social_worker"):
    return world.client.post(
        f"/api/v1/beneficiaries/{person_id}/isee", json=body, headers=world.headers(role)
    )


def test_records_are_created_and_listed_newest_first(world):
    first = post(world, world.person.id, record(dsu_date=(LAST_MONTH - timedelta(1)).isoformat()))
    second = post(world, world.person.id, record(type="corrente", value_cents=0), role="admin")
    assert first.status_code == second.status_code == 201, first.get_json()
    body = second.get_json()
    assert set(body) == {
        "id",
        "type",
        "value_cents",
        "dsu_protocol",
        "dsu_date",
        "valid_until",
        "created_at",
    }
    assert (body["type"], body["value_cents"], body["dsu_date"]) == (
        "corrente",
        0,
        LAST_MONTH.isoformat(),
    )
    listed = world.client.get(
        f"/api/v1/beneficiaries/{world.person.id}/isee", headers=world.headers("social_worker")
    )
    ids = [r["id"] for r in listed.get_json()]
    # The two DSUs by date, then the record the registration's ISEE shortcut made.
    assert ids[:2] == [body["id"], first.get_json()["id"]] and len(ids) == 3
    assert listed.get_json()[2]["dsu_protocol"] is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"dsu_protocol": "INPS-ISEE-2026-12345-01"}, "dsu_protocol"),
        ({"dsu_protocol": "ISEE 2026 000000123"}, "dsu_protocol"),
        ({"type": "straordinario"}, "type"),
        ({"value_cents": -1}, "value_cents"),
        ({"dsu_date": (TODAY + timedelta(days=1)).isoformat()}, "dsu_date"),
        ({"valid_until": (LAST_MONTH - timedelta(days=1)).isoformat()}, "valid_until"),
    ],
)
def test_each_field_is_validated(world, changes, field):
    response = post(world, world.person.id, record(**changes))
    assert field in assert_problem(response, 422, "validation_error")["errors"]


def test_an_unknown_beneficiary_is_404(world):
    assert_problem(post(world, 999_999, record()), 404, "not_found")
    response = world.client.get(
        "/api/v1/beneficiaries/999999/isee", headers=world.headers("social_worker")
    )
    assert_problem(response, 404, "not_found")


def test_the_voucher_shows_the_coverage_of_today(world):
    voucher, _pin = world.issue()
    assert post(world, world.person.id, record()).status_code == 201
    # The DSU of last month applies from the first of this month: today's coverage is 70 %.
    for role in ("social_worker", "provider"):
        response = world.client.get(f"/api/v1/vouchers/{voucher.code}", headers=world.headers(role))
        assert response.get_json()["coverage_percent"] == 70, role


def test_without_an_isee_a_scheme_requires_it_or_applies_its_last_band(world):
    person = f.make_beneficiary(isee_cents=None)
    required = f.make_scheme(copay_bands=BANDS, isee_required=True)
    headers = world.headers("social_worker")
    refused = world.client.post(
        "/api/v1/vouchers",
        json={"scheme_id": required.id, "beneficiary_id": person.id},
        headers=headers,
    )
    assert "ISEE" in assert_problem(refused, 409, "not_eligible")["detail"]
    issued = world.client.post(
        "/api/v1/vouchers",
        json={"scheme_id": world.scheme.id, "beneficiary_id": person.id},
        headers=headers,
    )
    assert issued.status_code == 201, issued.get_json()
    assert issued.get_json()["coverage_percent"] == 50
