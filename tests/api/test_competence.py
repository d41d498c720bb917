"""The Comune of competence through the API: registration anywhere in Italy, residence as a
scheme's rule, the Comune frozen on the voucher, entries that carry it, transfers and the
periods they may not reach."""

from datetime import date, timedelta
from itertools import count

import pytest
from sqlalchemy import select

from tests import factories as f
from tests.api.voucher_world import assert_problem, make_world
from voucher.extensions import db
from voucher.models import AuditEvent, LedgerEntry
from voucher.periods import Month
from voucher.services import SYSTEM, beneficiaries, clock, statements

_keys = count(1)


@pytest.fixture
def world(client, app):
    return make_world(client)


def _issue(world, person, scheme=None, **body):
    payload = {"scheme_id": (scheme or world.scheme).id, "beneficiary_id": person.id, **body}
    return world.client.post(
        "/api/v1/vouchers", json=payload, headers=world.headers("social_worker")
    )


def _redeem(world, code, day: date, **body):
    payload = {"voucher": code, "service_code": "A1", "service_date": day.isoformat()}
    payload.update(body or {"amount_cents": 1000})
    headers = {**world.headers("provider"), "Idempotency-Key": f"k-{next(_keys)}"}
    response = world.client.post("/api/v1/redemptions", json=payload, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def _ledger(world, code):
    response = world.client.get(
        f"/api/v1/redemptions?voucher={code}", headers=world.headers("social_worker")
    )
    assert response.status_code == 200
    return {e["service_date"]: e["comune_istat"] for e in response.get_json()}


def _transfer(world, code, istat, day: date):
    return world.client.post(
        f"/api/v1/vouchers/{code}/transfer",
        json={"comune_istat": istat, "from_date": day.isoformat(), "reason": "trasferimento"},
        headers=world.headers("social_worker"),
    )


def _months_ago(n: int) -> date:
    month = Month.of(clock.today())
    for _ in range(n):
        month = month.previous()
    return month.start


def test_a_person_living_outside_the_ente_is_registered(world):
    response = world.client.post(
        "/api/v1/beneficiaries",
        json={
            "fiscal_code": f.fiscal_code_for(f.unique_birth_date(9), "M"),
            "first_name": "Luca",
            "last_name": "Rossi",
            "comune_istat": f.PRATO["istat_code"],
            "categories": ["minor"],
        },
        headers=world.headers("social_worker"),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["comune_istat"] == "100005"


def test_residence_is_the_schemes_rule(world):
    outsider = f.make_beneficiary(comune=f.PRATO)
    problem = assert_problem(_issue(world, outsider), 409, "not_eligible")
    assert "resident" in problem["detail"].lower()

    open_scheme = f.make_scheme(residence_required=False)
    problem = assert_problem(_issue(world, outsider, open_scheme), 422, "validation_error")
    assert "comune_istat" in problem["errors"]
    problem = assert_problem(
        _issue(world, outsider, open_scheme, comune_istat="100005"), 422, "validation_error"
    )
    assert "comune_istat" in problem["errors"]

    response = _issue(world, outsider, open_scheme, comune_istat="048015")
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["comune_istat"] == "048015"


def test_the_comune_is_frozen_at_issue(world):
    response = _issue(world, world.person)
    assert response.status_code == 201
    code = response.get_json()["code"]
    assert response.get_json()["comune_istat"] == "048017"  # the residence, by default
    beneficiaries.update_beneficiary(SYSTEM, world.person, comune_istat="048015")
    db.session.commit()
    voucher = world.client.get(f"/api/v1/vouchers/{code}", headers=world.headers("admin"))
    assert voucher.get_json()["comune_istat"] == "048017"
    entry = _redeem(world, code, clock.today())
    assert _ledger(world, code)[entry["service_date"]] == "048017"


def test_a_transfer_moves_entries_from_its_date(world):
    code = _issue(world, world.person).get_json()["code"]
    before, after = _months_ago(3), _months_ago(1)
    _redeem(world, code, before)
    _redeem(world, code, after)

    response = _transfer(world, code, "048015", _months_ago(2))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["comune_istat"] == "048015"
    _redeem(world, code, clock.today())
    assert _ledger(world, code) == {
        before.isoformat(): "048017",
        after.isoformat(): "048015",
        clock.today().isoformat(): "048015",
    }
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "voucher.transferred")
    ).scalar_one()
    assert event.data["entries_moved"] == 1
    assert event.data["from_comune"] == "048017" and event.data["to_comune"] == "048015"


def test_a_transfer_cannot_reach_an_approved_statement(world):
    code = _issue(world, world.person).get_json()["code"]
    day = _months_ago(2)
    _redeem(world, code, day)
    statements.approve_statement(SYSTEM, world.provider, Month.of(day))
    db.session.commit()

    problem = assert_problem(_transfer(world, code, "048015", day), 409, "period_closed")
    assert "rendiconto" in problem["detail"]
    entries = db.session.execute(select(LedgerEntry.comune_id)).scalars().all()
    assert len(set(entries)) == 1  # nothing moved

    # From the month after the approved one, the transfer goes through.
    assert _transfer(world, code, "048015", _months_ago(1)).status_code == 200


def test_transfer_refusals(world):
    code = _issue(world, world.person).get_json()["code"]
    problem = assert_problem(
        _transfer(world, code, "100005", _months_ago(1)), 422, "validation_error"
    )
    assert "comune_istat" in problem["errors"]
    far = world.scheme.valid_until + timedelta(days=1)
    problem = assert_problem(_transfer(world, code, "048015", far), 422, "validation_error")
    assert "from_date" in problem["errors"]
    assert _transfer(world, code, "048015", _months_ago(1)).status_code == 200
    problem = assert_problem(
        _transfer(world, code, "048017", _months_ago(2)), 422, "validation_error"
    )
    assert "from_date" in problem["errors"]
    response = world.client.post(
        f"/api/v1/vouchers/{code}/transfer",
        json={"comune_istat": "048015", "from_date": _months_ago(1).isoformat()},
        headers=world.headers("provider"),
    )
    assert response.status_code == 403


def test_hours_recorded_on_a_euro_voucher(client, app):
    world = make_world(client, unit="EUR", unit_price_cents=None)
    code = _issue(world, world.person).get_json()["code"]
    entry = _redeem(world, code, clock.today(), amount_cents=4000, hours="2.5")
    assert entry["hours"] == "2.50" or float(entry["hours"]) == 2.5
    stored = db.session.execute(select(LedgerEntry.hours)).scalar_one()
    assert float(stored) == 2.5
    listed = world.client.get(
        f"/api/v1/redemptions?voucher={code}", headers=world.headers("admin")
    ).get_json()
    assert listed[0]["hours"] == 2.5


def test_hours_on_a_unit_scheme_are_refused(world):
    code = _issue(world, world.person).get_json()["code"]
    headers = {**world.headers("provider"), "Idempotency-Key": "ore-1"}
    response = world.client.post(
        "/api/v1/redemptions",
        json={
            "voucher": code,
            "service_code": "A1",
            "service_date": clock.today().isoformat(),
            "quantity": "1",
            "hours": "1",
        },
        headers=headers,
    )
    problem = assert_problem(response, 422, "validation_error")
    assert "hours" in problem["errors"]


def test_statement_lines_and_subtotals_name_the_comune(world):
    code = _issue(world, world.person).get_json()["code"]
    month = Month.of(_months_ago(1))
    _redeem(world, code, month.start)
    _redeem(world, code, month.start + timedelta(days=10), amount_cents=2500)
    assert _transfer(world, code, "048015", month.start + timedelta(days=5)).status_code == 200
    response = world.client.get(
        f"/api/v1/reports/providers/{world.provider.id}/statement?month={month}",
        headers=world.headers("admin"),
    )
    body = response.get_json()
    assert [line["comune_istat"] for line in body["lines"]] == ["048017", "048015"]
    assert {line["fund_code"] for line in body["lines"]} == {"FSC_OS"}
    assert [(s["comune_istat"], s["public_cents"]) for s in body["subtotals"]] == [
        ("048015", 2500),
        ("048017", 1000),
    ]
    assert sum(s["public_cents"] for s in body["subtotals"]) == body["total_public_cents"]
