"""The short beneficiary session of the self-service pages. The signed cookie holds only a
random token naming a session kept on the server (services.beneficiary_sessions), looked up
on every request: sign-out, a PIN reset or a revocation ends it at once, copies included."""

from flask import current_app, session

from ...models import Voucher
from ...services import beneficiary_sessions

# Kept apart from a staff sign-in in the same browser: signing out of one leaves the other.
SESSION_KEY = "beneficiary"


def session_minutes() -> int:
    return int(current_app.config.get("BENEFICIARY_SESSION_MINUTES", 10))


def start_session(voucher: Voucher) -> None:
    """Open a server-side session on the voucher for BENEFICIARY_SESSION_MINUTES."""
    token = beneficiary_sessions.open_session(voucher, session_minutes())
    session[SESSION_KEY] = {"token": token}


def _token() -> str | None:
    data = session.get(SESSION_KEY)
    token = data.get("token") if isinstance(data, dict) else None
    return token if isinstance(token, str) else None


def end_session() -> bool:
    """Forget the voucher, on the server and in the cookie; True if there was one."""
    token = _token()
    if token:
        beneficiary_sessions.close_session(token)
    return session.pop(SESSION_KEY, None) is not None


def session_voucher() -> tuple[Voucher | None, bool]:
    """The voucher of a live beneficiary session, and whether a session had just ended
    (expired, signed out elsewhere, or closed by a PIN reset or a revocation)."""
    if session.get(SESSION_KEY) is None:
        return None, False
    voucher = beneficiary_sessions.session_voucher(_token())
    if voucher is None:
        end_session()
        return None, True
    return voucher, False
