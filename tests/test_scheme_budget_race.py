"""A cut of a scheme's budget racing the issue of its vouchers, on PostgreSQL, committing
for real: both take the scheme's row lock, and whichever comes second reads what the first
committed, so the vouchers never hold more than the budget."""

import threading

import pytest

from tests import factories as f
from tests.conftest import make_app
from tests.services.world import DAY
from tests.test_concurrency import _seed, _wait_for_a_lock_wait, race
from voucher.db import run_in_transaction
from voucher.errors import BudgetExceeded, Conflict
from voucher.extensions import db
from voucher.models import Beneficiary, Scheme
from voucher.services import SYSTEM, issuance, scheme_changes, schemes
from voucher.services.audit_sequencer import chain_all
from voucher.services.audit_verify import verify_chain

pytestmark = pytest.mark.postgres_only


def chained_and_verified() -> bool:
    """The sequencer's pass over what the race committed, then the whole chain checked:
    every event chained once, none waiting."""
    chain_all()
    report = verify_chain()
    return report.ok and report.unchained == 0


THREADS = 9


@pytest.fixture
def pg_app(postgres_url, tmp_path):
    app = make_app(
        postgres_url,
        tmp_path,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": THREADS + 4, "max_overflow": 0, "pool_timeout": 60},
        AUDIT_CHAIN_AT_COMMIT=False,  # as in production: the sequencer chains
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def _cut(app, scheme_id, budget_cents, answers):
    """Set the budget in a transaction of its own; the outcome goes to `answers`."""
    with app.app_context():

        def work():
            scheme = db.session.get(Scheme, scheme_id)
            return scheme_changes.change_budget(SYSTEM, scheme, budget_cents, "Riduzione")

        try:
            answers.append(run_in_transaction(work))
        except Conflict as error:
            answers.append(error)


def _position(app, scheme_id):
    with app.app_context():
        return (
            db.session.get(Scheme, scheme_id).budget_cents,
            schemes.committed_cents(scheme_id),
        )


def test_an_issue_after_a_cut_reads_the_new_budget(pg_app):
    """The issuer loaded the scheme before the cut committed: under the lock it must see
    the cut, not the budget it loaded."""
    scheme_id, _provider, _codes = _seed(
        pg_app, vouchers_wanted=2, face_value_cents=10_000, budget_cents=30_000
    )
    answers = []
    with pg_app.app_context():
        person = f.make_beneficiary()
        scheme = db.session.get(Scheme, scheme_id)
        assert scheme.budget_cents == 30_000  # as loaded by a view, before the cut
        cut = threading.Thread(target=_cut, args=(pg_app, scheme_id, 20_000, answers))
        cut.start()
        cut.join(timeout=60)
        assert answers == [True]
        with pytest.raises(BudgetExceeded):
            issuance.issue_voucher(SYSTEM, scheme, person, day=DAY)
        db.session.rollback()
    assert _position(pg_app, scheme_id) == (20_000, 20_000)


def test_a_cut_waiting_for_an_issue_counts_its_voucher(pg_app):
    """The cut waits for the issuer's lock; once the voucher is committed, the cut to the
    old committed figure is refused, with both figures."""
    scheme_id, _provider, _codes = _seed(
        pg_app, vouchers_wanted=2, face_value_cents=10_000, budget_cents=30_000
    )
    answers = []
    with pg_app.app_context():
        person = f.make_beneficiary()
        scheme = db.session.get(Scheme, scheme_id)
        issuance.issue_voucher(SYSTEM, scheme, person, day=DAY)  # holds the scheme's lock
        cut = threading.Thread(target=_cut, args=(pg_app, scheme_id, 20_000, answers))
        cut.start()
        with pg_app.app_context():
            _wait_for_a_lock_wait()
        db.session.commit()
        cut.join(timeout=60)
    assert len(answers) == 1 and isinstance(answers[0], Conflict)
    assert "impegnato 300,00 €" in answers[0].detail
    assert _position(pg_app, scheme_id) == (30_000, 30_000)


def test_cuts_and_issues_at_once_never_commit_more_than_the_budget(pg_app):
    scheme_id, _provider, _codes = _seed(
        pg_app, vouchers_wanted=1, face_value_cents=10_000, budget_cents=100_000
    )
    with pg_app.app_context():
        people = [f.make_beneficiary().id for _ in range(THREADS - 1)]

    def worker(i):
        scheme = db.session.get(Scheme, scheme_id)  # loaded before the race, as a view does
        if i == 0:
            return lambda: scheme_changes.change_budget(SYSTEM, scheme, 40_000, "Riduzione")
        person = db.session.get(Beneficiary, people[i - 1])
        return lambda: issuance.issue_voucher(SYSTEM, scheme, person, day=DAY)[0].code

    results = race(pg_app, THREADS, worker)
    refused = [r[1] for r in results if r[0] == "refused"]
    assert all(isinstance(e, BudgetExceeded | Conflict) for e in refused)
    budget, committed = _position(pg_app, scheme_id)
    assert committed <= budget
    cut = results[0]
    assert budget == (40_000 if cut[0] == "ok" else 100_000)
    issued = [r for r in results[1:] if r[0] == "ok"]
    assert committed == 10_000 * (1 + len(issued))
    with pg_app.app_context():
        assert chained_and_verified()
