"""The one-statement redemption (PostgreSQL) accepts exactly what the rules accept, at the
same price: hundreds of combinations of the voucher's state, dates, balance and coverage,
the scheme's unit, limit and chosen providers, the provider's standing and accreditation,
the API key and the request, each judged by both (voucher.services.redemption_rules on the
terms as read, and the statement), in a savepoint rolled back after."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests import factories as f
from tests.conftest import make_app
from tests.services.world import DAY
from voucher.errors import DomainError
from voucher.extensions import db
from voucher.models import Accreditation, ApiKey, Provider, Scheme, Voucher, VoucherCoverage
from voucher.models.scheme import scheme_provider
from voucher.services import SYSTEM, Actor, issuance, providers, redemption
from voucher.services.redemption_at_once import redeem_in_one_statement
from voucher.services.redemption_sql import read_terms

pytestmark = pytest.mark.postgres_only

CASES = 250


def _case(rng: random.Random) -> dict:
    """One combination: each fact is usually one a redemption passes, sometimes one that
    refuses it (and the price's inputs vary freely)."""

    def pick(passing, *refusing):
        return passing if not refusing or rng.random() < 0.92 else rng.choice(refusing)

    quantity = rng.choice([None, None, Decimal("0.01"), Decimal("1.25"), Decimal("3")])
    amount = rng.choice([1, 399, 400, 401, 25_000, 50_000, 50_001]) if quantity is None else None
    return {
        "status": pick("active", "suspended", "revoked", "expired", "exhausted"),
        "balance": pick(rng.choice([400, 25_000, 50_000]), 0, 1),
        "valid_from": pick(DAY - timedelta(days=30), DAY, DAY + timedelta(days=1)),
        "valid_until": pick(DAY + timedelta(days=30), DAY, DAY - timedelta(days=1)),
        "today": pick(DAY, DAY + timedelta(days=1), DAY + timedelta(days=40)),
        "service_date": pick(DAY, DAY - timedelta(days=2), DAY + timedelta(days=1)),
        "service": pick("A1", "A2", "B1"),
        "unit": rng.choice(["EUR", "HOUR"]),
        "max_redemption": rng.choice([None, None, 400]),
        "coverage": rng.choice([100, 100, 70, 33]),
        "provider_status": pick("active", "suspended"),
        "accredited_until": pick(None, DAY - timedelta(days=1)),
        "listed": pick(rng.choice(["open", "this"]), "other"),
        "key_revoked": pick(False, True),
        "amount": amount,
        "quantity": quantity,
        "hours": rng.choice([None, None, Decimal("1.5")]),
    }


def _arrange(case: dict, voucher, scheme, provider, other, key_id) -> None:
    db.session.execute(
        sa.update(Voucher)
        .where(Voucher.id == voucher.id)
        .values(
            status=case["status"],
            balance_cents=case["balance"],
            valid_from=case["valid_from"],
            valid_until=case["valid_until"],
        )
    )
    db.session.execute(
        sa.update(VoucherCoverage)
        .where(VoucherCoverage.voucher_id == voucher.id)
        .values(coverage_percent=case["coverage"])
    )
    db.session.execute(
        sa.update(Scheme)
        .where(Scheme.id == scheme.id)
        .values(
            unit=case["unit"],
            unit_price_cents=2_333,
            max_redemption_cents=case["max_redemption"],
        )
    )
    db.session.execute(
        sa.update(Provider).where(Provider.id == provider.id).values(status=case["provider_status"])
    )
    db.session.execute(
        sa.update(Accreditation)
        .where(Accreditation.provider_id == provider.id)
        .values(valid_until=case["accredited_until"])
    )
    if case["listed"] != "open":
        listed = provider.id if case["listed"] == "this" else other.id
        db.session.execute(
            sa.insert(scheme_provider).values(scheme_id=scheme.id, provider_id=listed)
        )
    if case["key_revoked"]:
        db.session.execute(
            sa.update(ApiKey).where(ApiKey.id == key_id).values(revoked_at=sa.func.now())
        )


def _by_the_rules(connection, case, code, provider_id, actor, req):
    """The rules' verdict on the terms as they stand: the price, or the refusal."""
    terms = read_terms(
        connection,
        code,
        provider_id,
        req.service_code,
        req.service_date,
        api_key_id=actor.api_key_id,
        idempotency_key="chiave",
    )
    if not terms.key_valid:
        return "unauthorized"
    try:
        cost, public, copay, _quantity = redemption.check_redemption(terms, req, case["today"])
        redemption.hours_of(terms, req)
    except DomainError as error:
        return error.code
    return (cost, public, copay, terms.balance_cents - public)


def test_the_statement_accepts_what_the_rules_accept(postgres_url, tmp_path):
    app = make_app(postgres_url, tmp_path)
    rng = random.Random(20261207)  # noqa: S311 - reproducible cases, not secrets
    with app.app_context():
        f.make_ente()
        scheme = f.make_scheme(service_codes=["A1", "A2"])
        provider = f.make_provider(services=("A1", "A2"), valid_from=DAY - timedelta(days=400))
        other = f.make_provider(services=("A1",), valid_from=DAY - timedelta(days=400))
        person = f.make_beneficiary()
        voucher, _pin = issuance.issue_voucher(SYSTEM, scheme, person)
        key = providers.create_api_key(SYSTEM, provider, "prova")
        db.session.commit()
        key_id = providers.authenticate_api_key(key).id
        actor = Actor(
            type="api_key",
            id=key_id,
            label="api-key:prova",
            role="provider",
            provider_id=provider.id,
            api_key_id=key_id,
        )
        verdicts = {"accepted": 0, "refused": 0}
        for _ in range(CASES):
            case = _case(rng)
            req = redemption.RedemptionRequest(
                voucher.code,
                case["service"],
                case["service_date"],
                amount_cents=case["amount"],
                quantity=case["quantity"],
                hours=case["hours"],
            )
            with db.session.begin_nested() as savepoint:
                _arrange(case, voucher, scheme, provider, other, key_id)
                connection = db.session.connection()
                expected = _by_the_rules(connection, case, voucher.code, provider.id, actor, req)
                form = redemption.well_formed(req)
                recorded = redeem_in_one_statement(
                    connection,
                    actor,
                    code=voucher.code,
                    provider_id=provider.id,
                    service_code=req.service_code,
                    service_date=req.service_date,
                    amount_cents=req.amount_cents,
                    quantity=form[0],
                    hours=form[1],
                    idempotency_key="chiave",
                    request_hash="h",
                    today=case["today"],
                    created_at=datetime.now(UTC),
                )
                savepoint.rollback()
            if isinstance(expected, tuple):
                verdicts["accepted"] += 1
                assert recorded is not None, (case, expected)
                got = (
                    recorded.amount_cents,
                    recorded.public_cents,
                    recorded.copay_cents,
                    recorded.balance_after_cents,
                )
                assert got == expected, case
            else:
                verdicts["refused"] += 1
                assert recorded is None, (case, expected)
        db.session.rollback()
    # Both verdicts were tried many times.
    assert verdicts["accepted"] >= 40 and verdicts["refused"] >= 40, verdicts
