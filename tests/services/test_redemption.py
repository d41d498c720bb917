"""Redemptions and reversals: every refusal, the rounding, idempotency and the exhausted
state."""

import base64
import json
from datetime import timedelta
from decimal import Decimal

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests import factories as f
from tests.services.world import DAY, END, START, audit_actions, ledger_count, make_world
from voucher.documents.signing import keyring
from voucher.errors import (
    AlreadyReversed,
    DomainError,
    IdempotencyConflict,
    NotFound,
    ValidationFailed,
    VoucherExhausted,
)
from voucher.extensions import db
from voucher.services import SYSTEM, codes, providers, redemption, schemes, vouchers


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def tampered_payload(payload: str) -> str:
    """The same signature over claims that now name another voucher."""
    header, claims, signature = payload.split(".")
    padded = claims + "=" * (-len(claims) % 4)
    body = json.loads(base64.urlsafe_b64decode(padded))
    body["code"] = codes.generate_code()
    return ".".join((header, _b64(body), signature))


def foreign_payload(payload: str, same_kid: bool) -> str:
    """The same claims signed by a key that is not the ente's (claiming its key id or not)."""
    claims = jwt.decode(payload, options={"verify_signature": False})
    kid = keyring().active.kid if same_kid else "someone-else"
    return jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": kid})


def _revoke(w):
    vouchers.revoke_voucher(SYSTEM, w.voucher, "revoca")
    db.session.commit()


def _suspend(w):
    vouchers.suspend_voucher(SYSTEM, w.voucher, "verifica")
    db.session.commit()


def _expire(w):
    vouchers.expire_vouchers(SYSTEM, day=END + timedelta(days=1))
    db.session.commit()


def _exhaust(w):
    w.redeem(50_000)


def _provider(services=("A1", "A2"), **kw):
    return lambda w: {"provider": f.make_provider(services=services, **kw)}


def _suspended_provider(w):
    providers.suspend_provider(SYSTEM, w.provider, "verifica")
    db.session.commit()


def _limit(w):
    w.scheme.max_redemption_cents = 3_000
    db.session.commit()


# (contract code, setup returning more redeem arguments or None, redeem arguments)
REFUSALS = [
    ("voucher_not_found", None, {"ref": "ZZZZ-ZZZZ-ZZZZ-ZZZ0"}),
    ("voucher_not_found", None, {"ref": "not a voucher"}),
    ("voucher_not_found", lambda w: {"ref": codes.generate_code()}, {}),
    ("invalid_signature", lambda w: {"ref": tampered_payload(w.voucher.qr_payload)}, {}),
    ("invalid_signature", lambda w: {"ref": foreign_payload(w.voucher.qr_payload, True)}, {}),
    ("invalid_signature", lambda w: {"ref": foreign_payload(w.voucher.qr_payload, False)}, {}),
    ("invalid_signature", lambda w: {"ref": w.voucher.qr_payload[:-4] + "AAAA"}, {}),
    ("invalid_signature", None, {"ref": "a.b.c"}),
    ("insufficient_balance", None, {"amount_cents": 50_001}),
    ("voucher_expired", None, {"day": END + timedelta(days=1), "service_date": END}),
    ("voucher_expired", _expire, {}),
    ("voucher_not_yet_valid", None, {"day": START - timedelta(days=1)}),
    ("voucher_revoked", _revoke, {}),
    ("voucher_suspended", _suspend, {}),
    ("voucher_exhausted", _exhaust, {"amount_cents": 1}),
    ("not_accredited", _provider(services=("A1",)), {"service": "A2"}),
    ("not_accredited", _provider(valid_until=DAY - timedelta(days=1)), {}),
    ("not_accredited", _provider(valid_from=DAY + timedelta(days=1)), {}),
    ("not_accredited", _suspended_provider, {}),
    ("service_not_in_scheme", _provider(services=("A1", "A3")), {"service": "A3"}),
    ("over_redemption_limit", _limit, {"amount_cents": 3_001}),
]


@pytest.mark.parametrize(
    ("code", "setup", "kwargs"),
    REFUSALS,
    ids=[f"{code}-{i}" for i, (code, _s, _k) in enumerate(REFUSALS)],
)
def test_every_refusal_names_its_code_and_changes_nothing(app, world, code, setup, kwargs):
    extra = (setup(world) if setup else None) or {}
    entries, balance = ledger_count(), world.voucher.balance_cents
    arguments = {"amount_cents": 1_000, **kwargs, **extra}
    with pytest.raises(DomainError) as caught:
        world.redeem(**arguments)
    assert caught.value.code == code, caught.value.detail
    db.session.rollback()
    db.session.expire_all()
    assert ledger_count() == entries
    assert world.voucher.balance_cents == balance


VALIDATION = [
    ("future service date", {"service_date": DAY + timedelta(days=1)}, "service_date"),
    ("before validity", {"service_date": START - timedelta(days=1)}, "service_date"),
    ("both", {"amount_cents": 100, "quantity": "1"}, "amount_cents"),
    ("neither", {"amount_cents": None}, "amount_cents"),
    ("three decimals", {"amount_cents": None, "quantity": "1.005"}, "quantity"),
    ("zero quantity", {"amount_cents": None, "quantity": "0"}, "quantity"),
    ("negative quantity", {"amount_cents": None, "quantity": "-1"}, "quantity"),
    ("not a number", {"amount_cents": None, "quantity": "NaN"}, "quantity"),
    ("infinite", {"amount_cents": None, "quantity": "Infinity"}, "quantity"),
    ("huge", {"amount_cents": None, "quantity": "1E+30"}, "quantity"),
    ("zero amount", {"amount_cents": 0}, "amount_cents"),
    ("negative amount", {"amount_cents": -5}, "amount_cents"),
]


@pytest.mark.parametrize(("case", "kwargs", "field"), VALIDATION, ids=[v[0] for v in VALIDATION])
def test_validation_errors_name_the_field(app, world, case, kwargs, field):
    # accredited long before the voucher starts, so the date rule is the one that speaks
    provider = f.make_provider(valid_from=START - timedelta(days=60))
    with pytest.raises(ValidationFailed) as caught:
        world.redeem(**{"amount_cents": 1_000, "provider": provider, **kwargs})
    assert field in caught.value.errors
    db.session.rollback()
    assert ledger_count() == 0


def test_quantity_is_refused_for_a_scheme_in_euro(app):
    world = make_world(unit="EUR", unit_price_cents=None)
    with pytest.raises(ValidationFailed) as caught:
        world.redeem(quantity="1")
    assert "quantity" in caught.value.errors
    entry, _ = world.redeem(1_234)
    assert entry.amount_cents == 1_234 and entry.quantity is None


def test_the_redemption_limit_is_inclusive(app, world):
    _limit(world)
    entry, _ = world.redeem(3_000)
    assert entry.amount_cents == 3_000


def test_a_signed_qr_payload_is_accepted_like_the_code(app, world):
    entry, replayed = world.redeem(2_500, ref=world.voucher.qr_payload)
    assert not replayed and entry.voucher_id == world.voucher.id
    entry, _ = world.redeem(100, ref=world.voucher.code.lower().replace("-", ""))
    assert world.voucher.balance_cents == 50_000 - 2_600


ROUNDING = [
    # quantity or amount, unit price, coverage %, expected cost, expected public share
    ("1.5", 1_333, 100, 2_000, 2_000),  # 1999.5 -> 2000
    ("0.01", 50, 100, 1, 1),  # 0.5 -> 1
    ("2.25", 1_999, 100, 4_498, 4_498),  # 4497.75
    ("0.5", 1_999, 50, 1_000, 500),  # 999.5 -> 1000, then 500
    ("1.10", 2_000, 100, 2_200, 2_200),
    ("0.03", 1_650, 30, 50, 15),  # 49.5 -> 50, then 15
    ("0.01", 1_001, 50, 10, 5),  # 10.01 -> 10
    (1, None, 50, 1, 1),  # public 0.5 -> 1, co-payment 0
    (3, None, 50, 3, 2),  # 1.5 -> 2
    (1_001, None, 50, 1_001, 501),  # 500.5 -> 501
    (999, None, 33, 999, 330),  # 329.67 -> 330
    (10, None, 25, 10, 3),  # 2.5 -> 3
    (2_001, None, 75, 2_001, 1_501),  # 1500.75 -> 1501
    (4_999, None, 10, 4_999, 500),  # 499.9 -> 500
]


@pytest.mark.parametrize(("given", "price", "coverage", "cost", "public"), ROUNDING)
def test_cost_and_public_share_round_half_up(app, given, price, coverage, cost, public):
    bands = [] if coverage == 100 else [{"isee_max_cents": 5_000_000, "coverage_percent": coverage}]
    world = make_world(unit_price_cents=price or 2_000, copay_bands=bands)
    assert world.voucher.coverage_percent == coverage
    if isinstance(given, str):
        entry, _ = world.redeem(quantity=given)
        assert entry.quantity == Decimal(given)
    else:
        entry, _ = world.redeem(given)
    assert (entry.amount_cents, entry.public_cents, entry.copay_cents) == (
        cost,
        public,
        cost - public,
    )
    assert entry.balance_after_cents == world.voucher.balance_cents == 50_000 - public


def test_idempotent_replay_returns_the_first_entry_and_changes_nothing(app, world):
    first, replayed = world.redeem(1_500, key="visita-1")
    assert not replayed
    events = len(audit_actions())
    again, replayed = world.redeem(1_500, key="visita-1")
    assert replayed and again.id == first.id
    assert ledger_count() == 1 and world.voucher.balance_cents == 48_500
    assert len(audit_actions()) == events
    # even once the voucher can no longer be used, a retry gets its original answer
    _revoke(world)
    assert world.redeem(1_500, key="visita-1")[0].id == first.id


@pytest.mark.parametrize(
    "different",
    [
        {"amount_cents": 1_501},
        {"service": "A2"},
        {"service_date": DAY - timedelta(days=1)},
        {"amount_cents": None, "quantity": "0.75"},
    ],
)
def test_idempotency_key_reused_for_another_request_is_a_conflict(app, world, different):
    world.redeem(1_500, key="visita-1")
    with pytest.raises(IdempotencyConflict):
        world.redeem(**{"amount_cents": 1_500, "key": "visita-1", **different})
    db.session.rollback()
    assert ledger_count() == 1


def test_idempotency_keys_belong_to_each_provider(app, world):
    other = f.make_provider()
    a, _ = world.redeem(1_000, key="k")
    b, replayed = world.redeem(1_000, key="k", provider=other)
    assert not replayed and a.id != b.id and ledger_count() == 2


def test_exhausted_at_zero_and_active_again_after_a_reversal(app, world):
    first, _ = world.redeem(20_000)
    last, _ = world.redeem(30_000)
    assert world.voucher.balance_cents == 0 and world.voucher.status == "exhausted"
    with pytest.raises(VoucherExhausted):
        world.redeem(1)
    db.session.rollback()
    reversal = redemption.reverse_redemption(SYSTEM, last.id, "importo errato")
    db.session.commit()
    assert world.voucher.status == "active" and world.voucher.balance_cents == 30_000
    assert reversal.kind == "reversal" and reversal.reverses_id == last.id
    assert (reversal.amount_cents, reversal.public_cents, reversal.copay_cents) == (
        -last.amount_cents,
        -last.public_cents,
        -last.copay_cents,
    )
    assert reversal.balance_after_cents == 30_000
    assert schemes.redeemed_cents(world.scheme.id) == 20_000
    assert audit_actions(world.voucher.code)[-1] == "voucher.redemption_reversed"
    world.redeem(30_000)
    assert world.voucher.status == "exhausted"


def test_a_redemption_is_reversed_once_and_a_reversal_never(app, world):
    entry, _ = world.redeem(5_000)
    reversal = redemption.reverse_redemption(SYSTEM, entry.id, "errore")
    db.session.commit()
    with pytest.raises(AlreadyReversed):
        redemption.reverse_redemption(SYSTEM, entry.id, "ancora")
    with pytest.raises(ValidationFailed):
        redemption.reverse_redemption(SYSTEM, reversal.id, "storno dello storno")
    with pytest.raises(NotFound):
        redemption.reverse_redemption(SYSTEM, reversal.id + 1000, "inesistente")
    other, _ = world.redeem(1_000)
    with pytest.raises(ValidationFailed):
        redemption.reverse_redemption(SYSTEM, other.id, "   ")
    db.session.rollback()
    db.session.expire_all()
    assert world.voucher.balance_cents == 49_000 and ledger_count() == 3


def test_a_reversal_on_a_revoked_voucher_releases_to_the_budget(app, world):
    entry, _ = world.redeem(5_000)
    _revoke(world)
    assert schemes.committed_cents(world.scheme.id) == 5_000
    redemption.reverse_redemption(SYSTEM, entry.id, "non eseguita")
    db.session.commit()
    assert world.voucher.status == "revoked" and world.voucher.balance_cents == 50_000
    assert schemes.committed_cents(world.scheme.id) == 0


def test_a_retry_spelling_the_code_differently_replays_the_original(app):
    """The same key for the same voucher, typed in lowercase or sent as the QR payload, is
    the same request: the original entry comes back, nothing is written twice."""
    from voucher.services import clock
    from voucher.services.issuance import issue_voucher
    from voucher.services.redemption import RedemptionRequest, redeem

    f.make_ente()
    scheme = f.make_scheme(unit="EUR", unit_price_cents=None)
    provider = f.make_provider()
    voucher, _pin = issue_voucher(SYSTEM, scheme, f.make_beneficiary())
    day = clock.today()
    first, replay = redeem(
        SYSTEM, provider.id, RedemptionRequest(voucher.code, "A1", day, amount_cents=1000), "key-1"
    )
    assert not replay
    for spelling in (voucher.code.lower().replace("-", ""), voucher.qr_payload):
        again, replay = redeem(
            SYSTEM, provider.id, RedemptionRequest(spelling, "A1", day, amount_cents=1000), "key-1"
        )
        assert replay and again.id == first.id
    assert voucher.balance_cents == voucher.value_cents - 1000


def test_a_quantity_costing_less_than_a_cent_is_refused(app):
    from voucher.errors import ValidationFailed
    from voucher.services import clock
    from voucher.services.issuance import issue_voucher
    from voucher.services.redemption import RedemptionRequest, redeem

    f.make_ente()
    scheme = f.make_scheme(unit="HOUR", unit_price_cents=20)
    provider = f.make_provider()
    voucher, _pin = issue_voucher(SYSTEM, scheme, f.make_beneficiary())
    with pytest.raises(ValidationFailed) as error:
        redeem(
            SYSTEM,
            provider.id,
            RedemptionRequest(voucher.code, "A1", clock.today(), quantity=Decimal("0.01")),
            "key-0",
        )
    assert "quantity" in error.value.errors
