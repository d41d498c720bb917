"""POST /api/v1/redemptions/{id}/reversal by a provider: its own redemption, on the day it
recorded it (Europe/Rome), is cancelled like a staff reversal; the next day is 403
`forbidden`, another provider's entry 404, an approved month 409 `period_closed`. And
GET /api/v1/vouchers/{code} tells a provider not accredited for the voucher nothing."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests import factories as f
from tests.api.voucher_world import api_key_headers, assert_problem, make_world
from voucher.extensions import db
from voucher.models import AuditEvent
from voucher.periods import Month
from voucher.services import SYSTEM, clock, providers, statements, users, vouchers


@pytest.fixture
def world(client, app):
    return make_world(client)


def redeem(world, voucher, headers, key, day=None, **amount):
    response = world.client.post(
        "/api/v1/redemptions",
        json={
            "voucher": voucher.code,
            "service_code": "A1",
            "service_date": (day or clock.today()).isoformat(),
            **(amount or {"quantity": 1}),
        },
        headers={**headers, "Idempotency-Key": key},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def reverse(world, entry_id, headers, reason="Registrata due volte"):
    return world.client.post(
        f"/api/v1/redemptions/{entry_id}/reversal", json={"reason": reason}, headers=headers
    )


def balance(code) -> int:
    db.session.expire_all()
    return vouchers.get_voucher(code).balance_cents


@pytest.mark.parametrize("credential", ["user", "api_key"])
def test_the_provider_cancels_its_own_the_same_day(world, credential):
    voucher, _pin = world.issue()
    headers = world.headers("provider") if credential == "user" else api_key_headers(world.provider)
    entry = redeem(world, voucher, headers, "k1")
    response = reverse(world, entry["id"], headers)
    assert response.status_code == 201
    body = response.get_json()
    assert body["kind"] == "reversal" and body["reverses"] == entry["id"]
    assert body["public_cents"] == -entry["public_cents"]
    assert balance(voucher.code) == voucher.value_cents
    assert_problem(reverse(world, entry["id"], headers), 409, "already_reversed")
    (event,) = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "voucher.redemption_cancelled")
    ).scalars()
    assert event.data["by"] == "provider" and event.data["cancelled_same_day"] is True
    assert event.object_id == str(body["id"])


def test_the_next_day_is_forbidden_and_staff_still_reverse(world, monkeypatch):
    voucher, _pin = world.issue()
    entry = redeem(world, voucher, world.headers("provider"), "k1")
    staff = world.headers("social_worker")
    tomorrow = clock.today() + timedelta(days=1)
    monkeypatch.setattr(clock, "today", lambda: tomorrow)
    problem = assert_problem(
        reverse(world, entry["id"], world.headers("provider")), 403, "forbidden"
    )
    assert "Dal giorno dopo la correzione la fa l'ente: chiamate" in problem["detail"]
    assert balance(voucher.code) == voucher.value_cents - entry["public_cents"]
    assert reverse(world, entry["id"], staff).status_code == 201  # staff unchanged


def test_another_providers_entry_is_not_found(world):
    voucher, _pin = world.issue()
    other = f.make_provider(services=("A1",), valid_from=clock.today() - timedelta(400))
    theirs = redeem(world, voucher, api_key_headers(other), "k1")
    response = reverse(world, theirs["id"], world.headers("provider"))
    assert_problem(response, 404, "not_found")
    assert_problem(reverse(world, 999_999, world.headers("provider")), 404, "not_found")
    assert balance(voucher.code) == voucher.value_cents - theirs["public_cents"]


def test_a_reversal_or_a_blank_reason_is_refused(world):
    voucher, _pin = world.issue()
    headers = world.headers("provider")
    entry = redeem(world, voucher, headers, "k1")
    assert_problem(reverse(world, entry["id"], headers, reason=" "), 422, "validation_error")
    reversal = reverse(world, entry["id"], headers).get_json()
    assert_problem(reverse(world, reversal["id"], headers), 422, "validation_error")


def test_an_approved_month_is_period_closed(world):
    last_month = Month.of(clock.today()).previous()
    voucher, _pin = world.issue(day=last_month.start)
    voucher.valid_from = last_month.start
    db.session.commit()
    entry = redeem(world, voucher, world.headers("provider"), "k1", day=last_month.start)
    admin = users.actor_for(f.make_user("admin"))
    statements.approve_statement(admin, world.provider, last_month)
    db.session.commit()
    response = reverse(world, entry["id"], world.headers("provider"))
    problem = assert_problem(response, 409, "period_closed")
    assert last_month.label() in problem["detail"]
    assert balance(voucher.code) == voucher.value_cents - entry["public_cents"]


def test_a_provider_not_accredited_for_the_voucher_reads_nothing(world):
    voucher, _pin = world.issue()
    stranger = f.make_provider(services=("A3",), valid_from=clock.today() - timedelta(400))
    response = world.client.get(
        f"/api/v1/vouchers/{voucher.code}", headers=api_key_headers(stranger)
    )
    problem = assert_problem(response, 403, "not_accredited")
    assert "non può essere usato dal vostro ente" in problem["detail"]
    for leak in ("balance", "initials", world.scheme.name):
        assert leak not in response.get_data(as_text=True)
    # Suspended, the world's own provider reads nothing either.
    providers.suspend_provider(SYSTEM, world.provider, "verifica")
    db.session.commit()
    response = world.client.get(
        f"/api/v1/vouchers/{voucher.code}", headers=world.headers("provider")
    )
    assert_problem(response, 403, "not_accredited")
    assert (
        world.client.get(
            f"/api/v1/vouchers/{voucher.code}", headers=world.headers("admin")
        ).status_code
        == 200
    )


def test_the_cancellation_is_a_statement_line_of_its_own_kind(world):
    voucher, _pin = world.issue()
    headers = world.headers("provider")
    entry = redeem(world, voucher, headers, "k1")
    reversal = reverse(world, entry["id"], headers).get_json()
    month = Month.of(clock.today())
    body = world.client.get(
        f"/api/v1/reports/providers/{world.provider.id}/statement",
        query_string={"month": str(month)},
        headers=headers,
    ).get_json()
    lines = {line["entry_id"]: line for line in body["lines"]}
    assert lines[reversal["id"]]["kind"] == "reversal"
    assert lines[reversal["id"]]["cancelled_by_provider"] is True
    assert lines[entry["id"]]["cancelled_by_provider"] is False
    assert body["total_public_cents"] == 0
