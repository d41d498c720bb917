"""The database itself backs every rule money depends on: each statement below breaks one
rule behind the services' back, inside a savepoint, and the database refuses it."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from tests import factories as f
from tests.services.world import DAY, make_world
from voucher.extensions import db
from voucher.models import AuditEvent, Beneficiary, LedgerEntry, Voucher
from voucher.services import SYSTEM, redemption


def _refused(statement_or_callable, error=IntegrityError):
    """Run it in a SAVEPOINT and expect the database to refuse; the test goes on."""
    with pytest.raises(error) as caught, db.session.begin_nested():
        if callable(statement_or_callable):
            statement_or_callable()
        else:
            db.session.execute(statement_or_callable)
        db.session.flush()
    return caught.value


def _copy(obj, **changes):
    """A new, unsaved row with the same column values as `obj` (except the key)."""
    table = type(obj).__table__
    values = {c.key: getattr(obj, c.key) for c in table.columns if c.key != "id"}
    values.update(changes)
    return type(obj)(**values)


def _set_balance(voucher, cents):
    return sa.update(Voucher).where(Voucher.id == voucher.id).values(balance_cents=cents)


def test_a_negative_balance_is_refused(app, world):
    _refused(_set_balance(world.voucher, -1))


def test_a_balance_above_the_value_is_refused(app, world):
    _refused(_set_balance(world.voucher, world.voucher.value_cents + 1))
    db.session.execute(_set_balance(world.voucher, world.voucher.value_cents))  # the edge holds


def test_a_duplicate_idempotency_key_of_one_provider_is_refused(app, world):
    entry = db.session.get(LedgerEntry, world.redeem(1_000, key="visita-1")[0].id)
    _refused(lambda: db.session.add(_copy(entry)))
    # another provider may use the same key
    other = f.make_provider()
    with db.session.begin_nested():
        db.session.add(_copy(entry, provider_id=other.id))


def test_a_duplicate_fiscal_code_is_refused(app, world):
    _refused(lambda: db.session.add(_copy(world.person)))


def test_a_duplicate_voucher_code_is_refused(app, world):
    _refused(lambda: db.session.add(_copy(world.voucher, pin_hash="0" * 64)))


def _redeemed_entry(world) -> LedgerEntry:
    """A redemption's ledger row, as a mapped object to copy."""
    return db.session.get(LedgerEntry, world.redeem(1_000)[0].id)


def test_a_second_reversal_of_one_redemption_is_refused(app, world):
    entry, _ = world.redeem(1_000)
    reversal = redemption.reverse_redemption(SYSTEM, entry.id, "errore")
    db.session.commit()
    _refused(lambda: db.session.add(_copy(reversal, reason="ancora")))


@pytest.mark.parametrize(
    "changes",
    [
        {"public_cents": 600, "copay_cents": 600},  # shares must add up to the cost
        {"kind": "reversal"},  # a reversal is negative and names what it reverses
        {"amount_cents": -1_000, "public_cents": -1_000, "copay_cents": 0},
        {"balance_after_cents": -1},
        {"kind": "gift"},
    ],
)
def test_a_ledger_entry_that_does_not_add_up_is_refused(app, world, changes):
    entry = _redeemed_entry(world)
    _refused(lambda: db.session.add(_copy(entry, idempotency_key="altro", **changes)))


@pytest.mark.parametrize("operation", ["update", "delete"])
@pytest.mark.parametrize("model", [LedgerEntry, AuditEvent])
def test_ledger_and_audit_trail_are_append_only(app, world, operation, model):
    world.redeem(1_000)
    if model is LedgerEntry:
        statement = sa.update(model).values(amount_cents=model.amount_cents)
    else:
        statement = sa.update(model).values(actor_label="altro")
    if operation == "delete":
        statement = sa.delete(model)
    error = _refused(statement, DBAPIError)
    assert "append-only" in str(error.orig)
    assert db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one() > 0


def test_foreign_keys_are_enforced(app, world):
    if db.session.get_bind().dialect.name == "sqlite":
        assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar_one() == 1
    entry = _redeemed_entry(world)
    _refused(lambda: db.session.add(_copy(entry, idempotency_key="x", voucher_id=10**9)))
    _refused(lambda: db.session.add(_copy(world.voucher, code="X", scheme_id=10**9)))
    _refused(sa.update(Beneficiary).values(comune_id=10**9))
    _refused(lambda: db.session.add(_copy(entry, idempotency_key="y", service_code="ZZ9")))


def test_a_voucher_may_replace_only_one_other(app, world):
    replacement = _copy(world.voucher, code="AAAA-AAAA", replaces_id=world.voucher.id)
    with db.session.begin_nested():
        db.session.add(replacement)
    _refused(
        lambda: db.session.add(_copy(world.voucher, code="BBBB", replaces_id=world.voucher.id))
    )


def test_a_scheme_window_must_be_ordered(app, world):
    _refused(
        sa.update(type(world.scheme))
        .where(type(world.scheme).id == world.scheme.id)
        .values(valid_until=DAY - timedelta(days=400))
    )


@pytest.fixture
def world(app):
    return make_world()
