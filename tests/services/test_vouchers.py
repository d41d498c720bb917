"""Vouchers after issuance: codes and PINs, revocation, replacement, PIN reset, expiry and
the beneficiary's PIN lockout."""

from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import select, text

from tests import factories as f
from tests.services.world import DAY, END, audit_actions
from voucher.errors import Conflict, InvalidCodeOrPin, Locked, VoucherRevoked
from voucher.extensions import db
from voucher.models import Voucher
from voucher.models.status import voucher_allows
from voucher.services import SYSTEM, clock, codes, schemes, vouchers


def _pepper():
    return current_app.config["PIN_PEPPER"]


def _wrong(pin):
    """A PIN that is not `pin`."""
    return "000000" if pin != "000000" else "111111"


def test_issue_gives_a_checked_code_and_a_pin_kept_only_as_a_digest(app, world):
    voucher, pin = world.voucher, world.pin
    assert codes.normalise_code(voucher.code) == voucher.code
    assert codes.normalise_code(voucher.code.lower().replace("-", " ")) == voucher.code
    assert len(pin) == 6 and pin.isdigit()
    assert codes.pin_matches(_pepper(), voucher.pin_salt, pin, voucher.pin_hash)
    row = (
        db.session.execute(text("SELECT * FROM voucher WHERE id = :id"), {"id": voucher.id})
        .mappings()
        .one()
    )
    assert all(pin not in str(value) for value in row.values())
    assert voucher.value_cents == voucher.balance_cents == world.scheme.face_value_cents
    assert (voucher.valid_from, voucher.valid_until) == (
        world.scheme.valid_from,
        world.scheme.valid_until,
    )
    assert audit_actions(voucher.code) == ["voucher.issued"]


def test_codes_are_distinct(app, world):
    issued = {world.issue(person=f.make_beneficiary())[0].code for _ in range(5)}
    assert len(issued | {world.voucher.code}) == 6


def test_revoke_releases_the_unspent_balance_to_the_budget(app, world):
    world.redeem(12_345)
    committed = schemes.committed_cents(world.scheme.id)
    assert committed == 50_000
    vouchers.revoke_voucher(SYSTEM, world.voucher, "trasferito")
    db.session.commit()
    assert world.voucher.status == "revoked" and world.voucher.revoke_reason == "trasferito"
    assert world.voucher.balance_cents == 50_000 - 12_345
    assert schemes.committed_cents(world.scheme.id) == 12_345
    assert schemes.redeemed_cents(world.scheme.id) == 12_345
    with pytest.raises(VoucherRevoked):
        world.redeem(100)
    with pytest.raises(Conflict):
        vouchers.revoke_voucher(SYSTEM, world.voucher, "di nuovo")
    assert audit_actions(world.voucher.code)[-1] == "voucher.revoked"


def test_replace_moves_exactly_the_remaining_balance(app, world):
    world.redeem(7_777)
    committed = schemes.committed_cents(world.scheme.id)
    old = world.voucher
    new, pin = vouchers.replace_voucher(SYSTEM, old, "smarrito")
    db.session.commit()
    assert old.status == "revoked"
    assert new.status == "active" and new.replaces_id == old.id and new.code != old.code
    assert new.value_cents == new.balance_cents == 50_000 - 7_777
    assert new.coverage_percent == old.coverage_percent
    assert codes.normalise_code(new.code) == new.code
    assert codes.pin_matches(_pepper(), new.pin_salt, pin, new.pin_hash)
    assert schemes.committed_cents(world.scheme.id) == committed
    assert audit_actions(new.code) == ["voucher.replaced"]
    # the new code is spendable, the old one is not
    world.redeem(1_000, voucher=new)
    with pytest.raises(VoucherRevoked):
        world.redeem(1_000, voucher=old)
    with pytest.raises(Conflict):
        vouchers.replace_voucher(SYSTEM, old, "di nuovo")


def test_reset_pin_replaces_the_pin_and_lifts_a_lockout(app, world):
    now = clock.now()
    for _ in range(5):
        with pytest.raises(InvalidCodeOrPin):
            vouchers.check_pin(world.voucher.code, _wrong(world.pin), now)
        db.session.commit()
    with pytest.raises(Locked):
        vouchers.check_pin(world.voucher.code, world.pin, now)
    new_pin = vouchers.reset_pin(SYSTEM, world.voucher)
    db.session.commit()
    assert vouchers.check_pin(world.voucher.code, new_pin, now) is world.voucher
    if new_pin != world.pin:
        with pytest.raises(InvalidCodeOrPin):
            vouchers.check_pin(world.voucher.code, world.pin, now)
    assert "voucher.pin_reset" in audit_actions(world.voucher.code)


RESET_PIN_REFUSED = "Il PIN si può rigenerare solo per un buono attivo o sospeso."


def _revoked(world):
    vouchers.revoke_voucher(SYSTEM, world.voucher, "rinuncia")


def _expired(world):
    assert vouchers.expire_vouchers(SYSTEM, day=END + timedelta(days=1)) == 1


def _exhausted(world):
    world.redeem(world.voucher.balance_cents)


def _past_its_last_day(world):
    """Still recorded as active: the nightly expiry has not run yet."""
    world.voucher.valid_until = clock.today() - timedelta(days=1)


@pytest.mark.parametrize(
    ("make", "status"),
    [
        (_revoked, "revoked"),
        (_expired, "expired"),
        (_exhausted, "exhausted"),
        (_past_its_last_day, "active"),
    ],
)
def test_reset_pin_is_refused_on_a_voucher_that_can_no_longer_be_spent(app, world, make, status):
    make(world)
    db.session.commit()
    voucher = vouchers.get_voucher(world.voucher.code)
    assert voucher.status == status
    digest = voucher.pin_hash
    with pytest.raises(Conflict) as refused:
        vouchers.reset_pin(SYSTEM, voucher, "richiesta del beneficiario")
    assert refused.value.detail == RESET_PIN_REFUSED
    db.session.rollback()
    assert vouchers.get_voucher(world.voucher.code).pin_hash == digest
    assert "voucher.pin_reset" not in audit_actions(world.voucher.code)


def test_reset_pin_is_allowed_on_a_suspended_voucher(app, world):
    vouchers.suspend_voucher(SYSTEM, world.voucher, "verifica")
    db.session.commit()
    pin = vouchers.reset_pin(SYSTEM, world.voucher)
    db.session.commit()
    assert codes.pin_matches(_pepper(), world.voucher.pin_salt, pin, world.voucher.pin_hash)


def test_pin_lockout_after_five_failures_for_fifteen_minutes(app, world):
    code, pin, now = world.voucher.code, world.pin, clock.now()
    for _ in range(4):
        with pytest.raises(InvalidCodeOrPin):
            vouchers.check_pin(code, _wrong(pin), now)
        db.session.commit()
    # a success resets the count: four more failures still do not lock
    assert vouchers.check_pin(code, pin, now).pin_failures == 0
    db.session.commit()
    for _ in range(4):
        with pytest.raises(InvalidCodeOrPin):
            vouchers.check_pin(code, _wrong(pin), now)
        db.session.commit()
    assert vouchers.check_pin(code, pin, now)
    db.session.commit()
    for _ in range(5):
        with pytest.raises(InvalidCodeOrPin):
            vouchers.check_pin(code, _wrong(pin), now)
        db.session.commit()
    db.session.expire_all()  # read the lock back from the database
    for later in (timedelta(0), timedelta(minutes=14, seconds=59)):
        with pytest.raises(Locked):
            vouchers.check_pin(code, pin, now + later)
    assert vouchers.check_pin(code, pin, now + timedelta(minutes=15, seconds=1)) is not None
    assert "voucher.pin_locked" in audit_actions(code)


def test_a_wrong_code_and_a_wrong_pin_get_the_same_answer(app, world):
    errors = []
    for code, pin in (
        (codes.generate_code(), world.pin),
        ("not a code", world.pin),
        (world.voucher.code, _wrong(world.pin)),
    ):
        with pytest.raises(InvalidCodeOrPin) as caught:
            vouchers.check_pin(code, pin)
        errors.append(caught.value.detail)
    assert len(set(errors)) == 1


def test_expire_vouchers_past_validity_and_release_their_balance(app, world):
    world.redeem(10_000)
    suspended, _ = world.issue(person=f.make_beneficiary())
    vouchers.suspend_voucher(SYSTEM, suspended, "verifica")
    spent, _ = world.issue(person=f.make_beneficiary())
    world.redeem(50_000, voucher=spent)  # exhausted: nothing left to expire
    revoked, _ = world.issue(person=f.make_beneficiary())
    vouchers.revoke_voucher(SYSTEM, revoked, "rinuncia")
    db.session.commit()
    assert vouchers.expire_vouchers(SYSTEM, day=END) == 0  # still valid on its last day
    assert vouchers.expire_vouchers(SYSTEM, day=END + timedelta(days=1)) == 2
    db.session.commit()
    statuses = dict(
        db.session.execute(
            select(Voucher.code, Voucher.status).where(Voucher.scheme_id == world.scheme.id)
        ).all()
    )
    assert statuses == {
        world.voucher.code: "expired",
        suspended.code: "expired",
        spent.code: "exhausted",
        revoked.code: "revoked",
    }
    # spent money stays committed, the unspent balances go back to the budget
    assert schemes.committed_cents(world.scheme.id) == 10_000 + 50_000
    assert vouchers.expire_vouchers(SYSTEM, day=END + timedelta(days=2)) == 0
    assert audit_actions(world.voucher.code)[-1] == "voucher.expired"


def test_reactivating_a_suspended_voucher(app, world):
    vouchers.suspend_voucher(SYSTEM, world.voucher, "verifica")
    db.session.commit()
    with pytest.raises(Conflict):
        vouchers.suspend_voucher(SYSTEM, world.voucher, "di nuovo")
    vouchers.reactivate_voucher(SYSTEM, world.voucher)
    db.session.commit()
    assert world.voucher.status == "active"
    world.redeem(100, day=DAY)


_INTO_STATUS = {
    "active": lambda world: None,
    "suspended": lambda world: vouchers.suspend_voucher(SYSTEM, world.voucher, "verifica"),
    "revoked": _revoked,
    "expired": _expired,
    "exhausted": _exhausted,
}
_ACTION = {
    "suspend": lambda v: vouchers.suspend_voucher(SYSTEM, v, "verifica"),
    "reactivate": lambda v: vouchers.reactivate_voucher(SYSTEM, v),
    "revoke": lambda v: vouchers.revoke_voucher(SYSTEM, v, "rinuncia"),
    "replace": lambda v: vouchers.replace_voucher(SYSTEM, v, "smarrito"),
    "reset_pin": lambda v: vouchers.reset_pin(SYSTEM, v),
}


@pytest.mark.parametrize("status", list(_INTO_STATUS))
@pytest.mark.parametrize("action", list(_ACTION))
def test_every_voucher_action_obeys_the_status_table(app, world, status, action):
    """The services accept an action exactly in the statuses VOUCHER_ACTIONS names, the table
    the pages read to offer it."""
    _INTO_STATUS[status](world)
    db.session.commit()
    voucher = vouchers.get_voucher(world.voucher.code)
    assert voucher.status == status
    if voucher_allows(status, action):
        _ACTION[action](voucher)
        db.session.commit()
    else:
        with pytest.raises(Conflict):
            _ACTION[action](voucher)
        db.session.rollback()
        assert vouchers.get_voucher(world.voucher.code).status == status
