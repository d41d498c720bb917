"""Concurrency on PostgreSQL: many transactions at once on one voucher or one budget, each
thread with its own application context, session and connection, committing for real, as
the API does (voucher.db.run_in_transaction). A barrier makes them start together."""

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from tests import factories as f
from tests.conftest import make_app
from tests.services.world import DAY, provider_actor
from voucher.db import run_in_transaction
from voucher.errors import BudgetExceeded, DomainError, InsufficientBalance, VoucherExhausted
from voucher.extensions import db
from voucher.models import AuditEvent, Beneficiary, LedgerEntry, Provider, Scheme, Voucher
from voucher.services import SYSTEM, issuance, redemption, vouchers
from voucher.services.audit_sequencer import chain_all
from voucher.services.audit_verify import verify_chain
from voucher.services.redemption import RedemptionRequest

pytestmark = pytest.mark.postgres_only


def chained_and_verified() -> bool:
    """The sequencer's pass over what the race committed, then the whole chain checked:
    every event chained once, none waiting."""
    chain_all()
    report = verify_chain()
    return report.ok and report.unchained == 0


THREADS = 32


@pytest.fixture
def pg_app(postgres_url, tmp_path):
    """An application on a fresh PostgreSQL database, with a connection for every thread."""
    app = make_app(
        postgres_url,
        tmp_path,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": THREADS + 4, "max_overflow": 0, "pool_timeout": 60},
        AUDIT_CHAIN_AT_COMMIT=False,  # as in production: the sequencer chains
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def race(app, count, work):
    """Run work(i) in `count` threads started together, each in its own transaction.
    Returns, per thread, ("ok", result) or ("refused", domain error)."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        with app.app_context():
            try:
                prepare = work(i)  # may read before the race, as a view does
                barrier.wait(timeout=60)
                results[i] = ("ok", run_in_transaction(prepare))
            except DomainError as error:
                results[i] = ("refused", error)
            except Exception as error:  # noqa: BLE001 - reported by the assertion below
                results[i] = ("crashed", error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(not t.is_alive() for t in threads)
    crashed = [r for r in results if r is None or r[0] == "crashed"]
    assert not crashed, crashed
    return results


def _seed(app, vouchers_wanted=2, **scheme_kw):
    with app.app_context():
        f.make_ente()
        scheme = f.make_scheme(**scheme_kw)
        provider = f.make_provider()
        codes = []
        for _ in range(vouchers_wanted):
            voucher, _pin = issuance.issue_voucher(SYSTEM, scheme, f.make_beneficiary(), day=DAY)
            db.session.commit()
            codes.append(voucher.code)
        return scheme.id, provider.id, codes


def _redeemer(code, provider_id, amount, key, preload):
    """A thread's work: optionally load the voucher first (as a page would), then redeem."""

    def prepare():
        if preload:
            vouchers.get_voucher(code)
        provider = db.session.get(Provider, provider_id)

        def work():
            req = RedemptionRequest(code, "A1", DAY, amount_cents=amount)
            entry, replayed = redemption.redeem(
                provider_actor(provider), provider.id, req, key, day=DAY
            )
            return entry.id, replayed

        return work

    return prepare()


def test_simultaneous_redemptions_never_overdraw(pg_app):
    _scheme_id, provider_id, codes = _seed(pg_app)
    redeemed = 0
    # 7 000 leaves a remainder (the rest are refused for the balance); 5 000 empties it
    for code, amount in zip(codes, (7_000, 5_000), strict=True):
        results = race(
            pg_app,
            THREADS,
            lambda i, code=code, amount=amount: _redeemer(
                code, provider_id, amount, f"key-{code}-{i}", preload=i % 2 == 0
            ),
        )
        accepted = [r[1] for r in results if r[0] == "ok"]
        refused = [r[1] for r in results if r[0] == "refused"]
        assert len(accepted) == 50_000 // amount
        assert all(isinstance(e, InsufficientBalance | VoucherExhausted) for e in refused), refused
        redeemed += len(accepted)
        with pg_app.app_context():
            voucher = vouchers.get_voucher(code)
            assert voucher.balance_cents == 50_000 - amount * len(accepted) >= 0
            assert voucher.status == ("exhausted" if voucher.balance_cents == 0 else "active")
            ids = db.session.execute(
                select(LedgerEntry.id).where(LedgerEntry.voucher_id == voucher.id)
            ).scalars()
            assert sorted(ids) == sorted(e[0] for e in accepted)
    with pg_app.app_context():
        assert chained_and_verified()
        events = db.session.execute(
            select(func.count()).where(AuditEvent.action == "voucher.redeemed")
        ).scalar_one()
        assert events == redeemed


def test_one_idempotency_key_raced_makes_one_entry(pg_app):
    _scheme_id, provider_id, (code, _other) = _seed(pg_app)
    count = 16
    results = race(
        pg_app, count, lambda i: _redeemer(code, provider_id, 2_500, "same-key", preload=False)
    )
    assert all(r[0] == "ok" for r in results)
    ids = {r[1][0] for r in results}
    replays = [r[1][1] for r in results]
    assert len(ids) == 1 and replays.count(False) == 1 and replays.count(True) == count - 1
    with pg_app.app_context():
        voucher = vouchers.get_voucher(code)
        assert voucher.balance_cents == 50_000 - 2_500
        assert db.session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == 1
        assert chained_and_verified()


def test_simultaneous_issuance_respects_the_budget(pg_app):
    count, room = 16, 5
    scheme_id, _provider_id, _codes = _seed(
        pg_app, vouchers_wanted=0, face_value_cents=10_000, budget_cents=room * 10_000
    )
    with pg_app.app_context():
        people = [f.make_beneficiary().id for _ in range(count)]

    def issuer(i):
        scheme = db.session.get(Scheme, scheme_id)
        person = db.session.get(Beneficiary, people[i])

        def work():
            voucher, _pin = issuance.issue_voucher(SYSTEM, scheme, person, day=DAY)
            db.session.flush()
            return voucher.code

        return work

    results = race(pg_app, count, issuer)
    issued = [r[1] for r in results if r[0] == "ok"]
    refused = [r[1] for r in results if r[0] == "refused"]
    assert len(issued) == room and len(set(issued)) == room
    assert len(refused) == count - room and all(isinstance(e, BudgetExceeded) for e in refused)
    with pg_app.app_context():
        total = db.session.execute(
            select(func.count(), func.sum(Voucher.value_cents)).where(
                Voucher.scheme_id == scheme_id
            )
        ).one()
        assert total == (room, room * 10_000)
        assert chained_and_verified()


def _wait_for_a_lock_wait(timeout: float = 30) -> None:
    """Until another connection waits for a row lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = db.session.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            )
        ).scalar_one()
        db.session.rollback()
        if waiting:
            return
        time.sleep(0.05)
    raise AssertionError("no connection waited for the voucher's lock")


def test_a_retry_that_waited_for_the_original_gets_its_answer_not_a_refusal(pg_app):
    """The original request spends the whole balance and commits while its retry (same key,
    same body) waits for the voucher's lock: the retry must answer as the original did,
    not with "voucher exhausted"."""
    _scheme_id, provider_id, (code, _other) = _seed(pg_app)
    answers = []
    with pg_app.app_context():
        provider = db.session.get(Provider, provider_id)
        req = RedemptionRequest(code, "A1", DAY, amount_cents=50_000)
        original, _ = redemption.redeem(provider_actor(provider), provider_id, req, "k", day=DAY)
        retry = threading.Thread(
            target=lambda: answers.append(_retry(pg_app, code, provider_id)), daemon=True
        )
        retry.start()
        with pg_app.app_context():
            _wait_for_a_lock_wait()
        db.session.commit()
        retry.join(timeout=60)
    assert answers == [(original.id, True)]
    with pg_app.app_context():
        assert vouchers.get_voucher(code).balance_cents == 0
        assert db.session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == 1


def _retry(app, code, provider_id):
    with app.app_context():
        try:
            return run_in_transaction(_redeemer(code, provider_id, 50_000, "k", preload=False))
        except DomainError as error:
            return error


def test_a_voucher_loaded_before_the_lock_is_read_afresh(pg_app):
    """A view that loaded the voucher, then replaces it after another transaction spent from
    it, must move the balance as it is now, not as it was when loaded."""
    scheme_id, provider_id, (code, _other) = _seed(pg_app)
    with pg_app.app_context():
        loaded = vouchers.get_voucher(code)  # this transaction now holds a stale copy
        assert loaded.balance_cents == 50_000
        spender = threading.Thread(
            target=lambda: _spend(pg_app, code, provider_id, 12_000), daemon=True
        )
        spender.start()
        spender.join(timeout=60)
        new, _pin = vouchers.replace_voucher(SYSTEM, loaded, "smarrito")
        db.session.commit()
        assert new.value_cents == new.balance_cents == 50_000 - 12_000
        committed = db.session.execute(
            select(func.sum(Voucher.value_cents - Voucher.balance_cents)).where(
                Voucher.scheme_id == scheme_id, Voucher.status == "revoked"
            )
        ).scalar_one()
        assert committed == 12_000  # the revoked voucher keeps only what was spent
        # and a redemption on a voucher already in the session sees the latest balance too
        other = vouchers.get_voucher(_other)
        _spend(pg_app, _other, provider_id, 30_000)
        _spend(pg_app, _other, provider_id, 15_000, reuse=other)
        db.session.expire_all()
        assert vouchers.get_voucher(_other).balance_cents == 5_000
        assert chained_and_verified()


def _spend(app, code, provider_id, amount, reuse=None):
    """Redeem `amount` in a new application context, or in the current one when `reuse`
    (an object already loaded in it) is given."""

    def work():
        provider = db.session.get(Provider, provider_id)
        req = RedemptionRequest(code, "A1", DAY - timedelta(days=1), amount_cents=amount)
        return redemption.redeem(
            provider_actor(provider), provider.id, req, f"spend-{amount}", day=DAY
        )

    if reuse is not None:
        return run_in_transaction(work)
    with app.app_context():
        return run_in_transaction(work)
