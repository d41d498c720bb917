"""The short beneficiary session of the self-service pages."""

from datetime import timedelta

from flask import current_app, session

from ...models import Voucher
from ...services import clock, selfservice

# Kept apart from a staff sign-in in the same browser: signing out of one leaves the other.
SESSION_KEY = "beneficiary"


def session_minutes() -> int:
    return int(current_app.config.get("BENEFICIARY_SESSION_MINUTES", 10))


def start_session(voucher: Voucher) -> None:
    """Remember the voucher, and only its id, for BENEFICIARY_SESSION_MINUTES."""
    until = clock.now() + timedelta(minutes=session_minutes())
    session[SESSION_KEY] = {"voucher_id": voucher.id, "until": until.timestamp()}


def end_session() -> bool:
    """Forget the voucher; True if there was one."""
    return session.pop(SESSION_KEY, None) is not None


def session_voucher() -> tuple[Voucher | None, bool]:
    """The voucher of a live beneficiary session, and whether a session had just expired.
    The cookie is signed by the server, so its content cannot be forged; its age is
    checked here, whatever the cookie's own lifetime."""
    data = session.get(SESSION_KEY)
    if data is None:
        return None, False
    voucher_id = data.get("voucher_id") if isinstance(data, dict) else None
    until = data.get("until") if isinstance(data, dict) else None
    if (
        not isinstance(voucher_id, int)
        or not isinstance(until, int | float)
        or until <= clock.now().timestamp()
    ):
        end_session()
        return None, True
    voucher = selfservice.voucher_by_id(voucher_id)
    if voucher is None:
        end_session()
        return None, True
    return voucher, False
