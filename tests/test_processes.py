"""Redemption across several operating-system processes on PostgreSQL, as gunicorn runs it:
64 attempts on one voucher from 4 processes × 16 threads accept exactly those that fit, and
a worker killed in the middle of a redemption leaves no partial write behind."""

import multiprocessing
import os
import signal
import threading

import pytest
from sqlalchemy import func, select

from tests import factories as f
from tests.conftest import make_app
from voucher import create_app
from voucher.db import run_in_transaction
from voucher.errors import DomainError
from voucher.extensions import db
from voucher.models import LedgerEntry, Provider, Voucher
from voucher.services import SYSTEM, clock, redemption
from voucher.services.audit_sequencer import chain_all
from voucher.services.audit_verify import verify_chain
from voucher.services.issuance import issue_voucher
from voucher.services.redemption import RedemptionRequest

pytestmark = pytest.mark.postgres_only


def chained_and_verified() -> bool:
    """The sequencer's pass over what the race committed, then the whole chain checked:
    every event chained once, none waiting."""
    chain_all()
    report = verify_chain()
    return report.ok and report.unchained == 0


PROCESSES, THREADS = 4, 16
VALUE, AMOUNT = 10_000, 300  # 33 redemptions fit, 31 do not
SPAWN = multiprocessing.get_context("spawn")  # no inherited connections


def _child_app(url: str, instance: str, pool: int):
    os.environ["VOUCHER_INSTANCE_PATH"] = instance
    return create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=url,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": pool, "max_overflow": 0},
        AUDIT_CHAIN_AT_COMMIT=False,  # as in production: the sequencer chains
    )


def _redeem_from_threads(url, instance, code, provider_id, barrier, results):
    """One worker process: THREADS redemptions at once, each in its own transaction."""
    app = _child_app(url, instance, THREADS + 2)

    def attempt(i):
        with app.app_context():
            provider = db.session.get(Provider, provider_id)
            request = RedemptionRequest(code, "A1", clock.today(), amount_cents=AMOUNT)
            key = f"proc-{os.getpid()}-{i}"
            barrier.wait(timeout=120)
            try:
                entry, _ = run_in_transaction(
                    lambda: redemption.redeem(SYSTEM, provider.id, request, key)
                )
                results.put(("ok", entry.id))
            except DomainError as error:
                results.put(("refused", error.code))
            except Exception as error:  # noqa: BLE001 - reported by the parent's assertion
                results.put(("crashed", repr(error)))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _redeem_then_hang(url, instance, code, provider_id, ready):
    """A worker that has locked the voucher and written its ledger row, uncommitted."""
    app = _child_app(url, instance, 2)
    with app.app_context():
        provider = db.session.get(Provider, provider_id)
        request = RedemptionRequest(code, "A1", clock.today(), amount_cents=AMOUNT)
        redemption.redeem(SYSTEM, provider.id, request, "killed-mid-request")
        db.session.flush()
        ready.set()
        signal.pause()  # killed here, before the commit


@pytest.fixture
def world(postgres_url, tmp_path):
    """A committed PostgreSQL database with one voucher of VALUE cents and one provider."""
    app = make_app(postgres_url, tmp_path)
    with app.app_context():
        f.make_ente()
        scheme = f.make_scheme(unit="EUR", unit_price_cents=None, face_value_cents=VALUE)
        provider = f.make_provider()
        voucher, _pin = issue_voucher(SYSTEM, scheme, f.make_beneficiary())
        db.session.commit()
        data = {"code": voucher.code, "provider_id": provider.id, "voucher_id": voucher.id}
    yield app, postgres_url, str(tmp_path), data
    with app.app_context():
        db.engine.dispose()


def _state(app, voucher_id):
    with app.app_context():
        voucher = db.session.get(Voucher, voucher_id)
        entries = db.session.execute(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.voucher_id == voucher_id)
        ).scalar_one()
        spent = db.session.execute(
            select(func.coalesce(func.sum(LedgerEntry.public_cents), 0)).where(
                LedgerEntry.voucher_id == voucher_id
            )
        ).scalar_one()
        return voucher.balance_cents, entries, spent, chained_and_verified()


def test_64_attempts_from_four_processes_accept_exactly_those_that_fit(world):
    app, url, instance, data = world
    barrier = SPAWN.Barrier(PROCESSES * THREADS)
    results = SPAWN.Queue()
    workers = [
        SPAWN.Process(
            target=_redeem_from_threads,
            args=(url, instance, data["code"], data["provider_id"], barrier, results),
        )
        for _ in range(PROCESSES)
    ]
    for w in workers:
        w.start()
    outcomes = [results.get(timeout=180) for _ in range(PROCESSES * THREADS)]
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0

    accepted = [value for kind, value in outcomes if kind == "ok"]
    refused = [value for kind, value in outcomes if kind == "refused"]
    assert [o for o in outcomes if o[0] == "crashed"] == []
    assert len(accepted) == VALUE // AMOUNT == 33
    assert len(set(accepted)) == len(accepted)
    assert set(refused) <= {"insufficient_balance", "voucher_exhausted"}
    assert len(refused) == PROCESSES * THREADS - 33
    balance, entries, spent, chain_ok = _state(app, data["voucher_id"])
    assert entries == 33 and spent == 33 * AMOUNT
    assert balance == VALUE - spent == 100
    assert chain_ok


def test_a_worker_killed_mid_redemption_leaves_no_partial_write(world):
    app, url, instance, data = world
    ready = SPAWN.Event()
    worker = SPAWN.Process(
        target=_redeem_then_hang, args=(url, instance, data["code"], data["provider_id"], ready)
    )
    worker.start()
    assert ready.wait(timeout=120), "the worker never reached the middle of its redemption"
    os.kill(worker.pid, signal.SIGKILL)
    worker.join(timeout=30)
    assert worker.exitcode == -signal.SIGKILL

    balance, entries, spent, chain_ok = _state(app, data["voucher_id"])
    assert (balance, entries, spent) == (VALUE, 0, 0)
    assert chain_ok
    # The row lock died with the worker: the same request, retried with the same key,
    # goes through at once and is recorded exactly once.
    with app.app_context():
        provider = db.session.get(Provider, data["provider_id"])
        request = RedemptionRequest(data["code"], "A1", clock.today(), amount_cents=AMOUNT)
        entry, replay = run_in_transaction(
            lambda: redemption.redeem(SYSTEM, provider.id, request, "killed-mid-request")
        )
        assert not replay
    balance, entries, spent, chain_ok = _state(app, data["voucher_id"])
    assert (balance, entries, spent) == (VALUE - AMOUNT, 1, AMOUNT) and chain_ok
