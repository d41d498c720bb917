"""The beneficiaries' self-service sessions, kept on the server (ASVS 3.3.1, 3.3.2).

The browser holds only a random token; the server keeps its digest, the voucher and the
moment it ends. A copied cookie is worth nothing once the row is gone: sign-out deletes the
session's row, and a PIN reset or a revocation deletes every session of the voucher, so
whoever signed in with the old PIN, or holds a lost letter, reads nothing more.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from ..extensions import db
from ..models import BeneficiarySession, Voucher
from . import clock


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime, like: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=like.tzinfo)


def open_session(voucher: Voucher, minutes: int) -> str:
    """A new session on `voucher` for `minutes`; returns the token for the cookie. Sessions
    that have ended, of any voucher, are deleted on the way."""
    now = clock.now()
    purge_ended()
    token = secrets.token_urlsafe(32)
    db.session.add(
        BeneficiarySession(
            token_hash=_digest(token),
            voucher_id=voucher.id,
            expires_at=now + timedelta(minutes=minutes),
        )
    )
    db.session.flush()
    return token


def session_voucher(token: str) -> Voucher | None:
    """The voucher of a live session, or None when the token names none (signed out, ended
    by a PIN reset or a revocation, or expired)."""
    if not isinstance(token, str) or not token or len(token) > 100:
        return None
    record = db.session.execute(
        select(BeneficiarySession).where(BeneficiarySession.token_hash == _digest(token))
    ).scalar_one_or_none()
    if record is None:
        return None
    now = clock.now()
    if _aware(record.expires_at, now) <= now:
        return None
    return db.session.get(Voucher, record.voucher_id)


def close_session(token: str) -> None:
    """Sign-out: the session's row is deleted."""
    if isinstance(token, str) and token:
        db.session.execute(
            delete(BeneficiarySession).where(BeneficiarySession.token_hash == _digest(token))
        )


def end_sessions(voucher: Voucher) -> None:
    """End every open session of `voucher` (a new PIN, a revocation)."""
    db.session.execute(
        delete(BeneficiarySession).where(BeneficiarySession.voucher_id == voucher.id)
    )


def purge_ended() -> int:
    """Delete the sessions that have ended; how many."""
    result = db.session.execute(
        delete(BeneficiarySession).where(BeneficiarySession.expires_at <= clock.now())
    )
    return result.rowcount or 0
