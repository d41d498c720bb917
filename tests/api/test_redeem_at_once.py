"""POST /api/v1/redemptions answered at once (voucher.api.redeem_at_once): the same answer
as the documented view, for exactly the requests it takes; everything else is the
documented view's, refusals included."""

from datetime import date

import pytest

from tests.api.test_redemptions import redeem
from tests.api.voucher_world import api_key_headers, assert_problem, make_world
from tests.services.world import provider_actor
from voucher.api import redeem_at_once
from voucher.api.schemas_redemptions import RedemptionSchema
from voucher.extensions import db
from voucher.services import clock, redemption


@pytest.fixture
def world(client, app):
    return make_world(client)


@pytest.fixture
def documented_only(monkeypatch):
    """The documented view answers every request."""
    monkeypatch.setattr(redeem_at_once, "_recorded", lambda *args: None)


def _without_identity(response) -> tuple[dict, dict]:
    body = dict(response.get_json())
    for name in ("id", "created_at", "voucher_code"):
        body.pop(name)
    headers = {k: v for k, v in response.headers.items() if k not in ("Date", "Content-Length")}
    return body, headers


def test_the_answer_at_once_is_the_documented_views_answer(world, monkeypatch):
    headers = api_key_headers(world.provider)
    first, _pin = world.issue()
    second, _pin = world.issue()
    at_once = redeem(world, first, headers=headers, amount_cents=1250)
    with monkeypatch.context() as patch:
        patch.setattr(redeem_at_once, "_recorded", lambda *args: None)
        documented = redeem(world, second, headers=headers, amount_cents=1250)
    assert at_once.status_code == documented.status_code == 201
    assert _without_identity(at_once) == _without_identity(documented)
    assert at_once.get_json()["voucher_code"] == first.code
    assert at_once.headers["Idempotent-Replayed"] == "false"
    assert at_once.headers["Cache-Control"] == "no-store"


def test_the_hand_written_answer_is_the_schemas_dump(world):
    voucher, _pin = world.issue()
    redeem(world, voucher, headers=api_key_headers(world.provider), key="k")
    entry, replayed = redemption.redeem(
        provider_actor(world.provider),
        world.provider.id,
        redemption.RedemptionRequest(voucher.code, "A1", clock.today(), amount_cents=1250),
        "k2",
    )
    db.session.commit()
    assert not replayed
    assert redeem_at_once.as_json(entry) == RedemptionSchema().dump(entry)


def test_postgresql_answers_an_accepted_request_without_the_documented_view(
    world, monkeypatch, backend
):
    """On PostgreSQL the documented view (and the ordinary path) is not called for an
    accepted request; on SQLite it answers everything."""
    calls = []
    original = redemption.redeem
    monkeypatch.setattr(redemption, "redeem", lambda *a, **k: calls.append(1) or original(*a, **k))
    voucher, _pin = world.issue()
    response = redeem(world, voucher, headers=api_key_headers(world.provider))
    assert response.status_code == 201
    assert calls == ([] if backend == "postgresql" else [1])


def test_replays_and_refusals_are_the_documented_views(world):
    headers = api_key_headers(world.provider)
    voucher, _pin = world.issue()
    first = redeem(world, voucher, headers=headers, key="stessa", amount_cents=700)
    again = redeem(world, voucher, headers=headers, key="stessa", amount_cents=700)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    conflict = redeem(world, voucher, headers=headers, key="stessa", amount_cents=701)
    assert_problem(conflict, 422, "idempotency_conflict")
    too_much = redeem(world, voucher, headers=headers, amount_cents=10**8)
    assert_problem(too_much, 409, "insufficient_balance")
    assert_problem(redeem(world, "NON-ESISTE-1234", headers=headers), 404, "voucher_not_found")


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"voucher": "A", "service_code": "A1", "service_date": "2026-01-01"}',
        b'{"voucher": "A", "service_code": "A1", "service_date": "2026-01-01", '
        b'"amount_cents": 1, "quantity": null}',
        b'{"voucher": "A", "service_code": "A1", "service_date": "2026-01-01", '
        b'"amount_cents": true}',
        b'{"voucher": "A", "service_code": "A1", "service_date": "2026-01-01", '
        b'"amount_cents": 1.0}',
        b'{"voucher": "A", "service_code": "A1", "service_date": "2026-02-30", "amount_cents": 1}',
        b'{"voucher": "A", "service_code": "A1", "service_date": "20260101", "amount_cents": 1}',
        b'{"voucher": " A", "service_code": "A1", "service_date": "2026-01-01", "amount_cents": 1}',
        b'{"voucher": "A", "service_code": "A 1", "service_date": "2026-01-01", "amount_cents": 1}',
        b'{"voucher": "A", "service_code": "A1", "service_date": "2026-01-01", "amount_cents": 0}',
        b'{"voucher": "A", "service_code": "A1", "service_date": "2026-01-01", '
        b'"amount_cents": 2147483648}',
    ],
)
def test_only_the_plainest_bodies_are_taken_at_once(body):
    assert redeem_at_once.plain_request(body) is None


def test_a_plain_body_is_read_as_the_schema_reads_it():
    body = (
        b'{"voucher": "ABCD-EFGH", "service_code": "A1", "service_date": "2026-03-01", '
        b'"amount_cents": 2147483647}'
    )
    req = redeem_at_once.plain_request(body)
    assert req == redemption.RedemptionRequest(
        "ABCD-EFGH", "A1", date(2026, 3, 1), amount_cents=2147483647
    )
    loaded = redeem_at_once_schema().load(
        {"voucher": "ABCD-EFGH", "service_code": "A1", "service_date": "2026-03-01",
         "amount_cents": 2147483647}
    )  # fmt: skip
    assert loaded == {
        "voucher": req.voucher,
        "service_code": req.service_code,
        "service_date": req.service_date,
        "amount_cents": req.amount_cents,
    }


def redeem_at_once_schema():
    from voucher.api.schemas_redemptions import RedemptionRequestSchema

    return RedemptionRequestSchema()


# --- as in production: autocommit, real commits, several connections (PostgreSQL) -------


@pytest.fixture
def autocommit_app(postgres_url, tmp_path):
    from tests.conftest import make_app

    return make_app(
        postgres_url,
        tmp_path,
        REDEEM_IN_AUTOCOMMIT=True,
        AUDIT_CHAIN_AT_COMMIT=False,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 20, "max_overflow": 0},
    )


@pytest.mark.postgres_only
def test_in_autocommit_races_on_a_key_and_on_the_balance_stay_exact(autocommit_app, monkeypatch):
    import threading

    from sqlalchemy import func, select

    from voucher.models import LedgerEntry, Voucher
    from voucher.services.audit_sequencer import chain_all
    from voucher.services.audit_verify import verify_chain

    app = autocommit_app
    with app.app_context():
        world = make_world(app.test_client(), face_value_cents=10_000)
        voucher, _pin = world.issue()
        headers = api_key_headers(world.provider)
        code = voucher.code
        db.session.commit()
    body = {"voucher": code, "service_code": "A1", "service_date": clock.today().isoformat()}
    answers, documented = [], []
    original = redemption.redeem
    monkeypatch.setattr(
        redemption, "redeem", lambda *a, **k: documented.append(1) or original(*a, **k)
    )

    def post(key, amount):
        with app.test_client() as client:
            response = client.post(
                "/api/v1/redemptions",
                json={**body, "amount_cents": amount},
                headers={**headers, "Idempotency-Key": key},
            )
            answers.append((key, response.status_code, response.get_json()))

    # 12 requests with one key, and 30 of 500 cents on a voucher of 10,000: 20 fit.
    threads = [threading.Thread(target=post, args=("stessa", 500)) for _ in range(12)]
    threads += [threading.Thread(target=post, args=(f"k{n}", 500)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    same = [a for a in answers if a[0] == "stessa"]
    assert {status for _, status, _ in same} == {201}
    assert len({body["id"] for _, _, body in same}) == 1
    others = [a for a in answers if a[0] != "stessa"]
    accepted = [a for a in others if a[1] == 201]
    assert len(accepted) == 19  # the 20th 500 went to the shared key
    # at once: the 20 accepted; the documented view: replays, lost races and refusals
    assert len(documented) == len(answers) - 20
    assert all(
        a[1] == 409 and a[2]["code"] in ("insufficient_balance", "voucher_exhausted")
        for a in others
        if a[1] != 201
    )
    with app.app_context():
        fresh = db.session.execute(select(Voucher).where(Voucher.code == code)).scalar_one()
        spent = db.session.execute(
            select(func.sum(LedgerEntry.public_cents)).where(LedgerEntry.voucher_id == fresh.id)
        ).scalar_one()
        assert (fresh.balance_cents, fresh.status, spent) == (0, "exhausted", 10_000)
        chain_all()
        report = verify_chain()
        assert report.ok and report.unchained == 0
