"""Vouchers that can no longer be spent, each brought to its status the way it happens in
service: revoked by staff, expired by the nightly job, exhausted by redemptions."""

from datetime import timedelta

from voucher.extensions import db
from voucher.services import SYSTEM, clock, redemption, vouchers

# What the services answer when a PIN is asked for on such a voucher.
RESET_PIN_REFUSED = "Il PIN si può rigenerare solo per un buono attivo o sospeso."


def revoke(voucher, provider) -> None:
    vouchers.revoke_voucher(SYSTEM, voucher, "Rinuncia del beneficiario")


def expire(voucher, provider) -> None:
    vouchers.expire_vouchers(SYSTEM, day=voucher.valid_until + timedelta(days=1))


def exhaust(voucher, provider) -> None:
    request = redemption.RedemptionRequest(
        voucher.code, "A1", clock.today(), amount_cents=voucher.balance_cents
    )
    redemption.redeem(SYSTEM, provider.id, request, f"exhaust-{voucher.code}")


CLOSED = {"revoked": revoke, "expired": expire, "exhausted": exhaust}


def close(voucher, provider, status: str):
    """Bring `voucher` to `status` (a key of CLOSED), committed; returns it reloaded."""
    CLOSED[status](voucher, provider)
    db.session.commit()
    voucher = vouchers.get_voucher(voucher.code)
    assert voucher.status == status
    return voucher
