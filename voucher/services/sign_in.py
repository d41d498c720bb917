"""Throttling of staff sign-in (pages and API token), by username and client address.

The choices, and why (ASVS 2.2.1, OWASP's guidance on account lockout):

- Failures are counted per (username as typed, client address). Ten failures within 15
  minutes stop that address from trying that username for 15 minutes, whatever the
  password: guessing from one address stops there, while the real user, signing in from
  another address, is not locked out by someone else's guesses.
- A looser ceiling per username across every address (100 failures in an hour) stops a
  guess spread over many addresses. Reaching it would let anyone with enough addresses
  lock the real user out, so it spares the addresses from which that user signed in
  successfully in the last 30 days: the office keeps working while a botnet waits.
- The counting is the same whether or not the username exists: an unknown name is counted,
  locked and answered exactly like a known one. So the lockout can be told apart (429
  `locked`, "try again in a few minutes"), which helps the real user, without revealing
  which usernames exist. Every attempt, locked or not, for a known or an unknown user,
  computes one password hash (a dummy one when there is no user to compare with), so the
  time taken does not tell either.
- An administrator setting a new password lifts every lock on the username.
- The lock of an existing account is written to the audit trail. That one extra write
  happens at most once per address every 15 minutes, too seldom to be timed.

The counters are rows of `rate_limit_counter` (the table of the per-address request limits),
written in the request's own transaction, so every worker and host sees them; a refused
attempt keeps its work, so the boundary commits its count. Keys hold digests, never the
username or the address themselves. The nightly `expire` job deletes ended windows
(users.purge_ended_sessions).
"""

import hashlib
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import RateLimitCounter
from . import clock

MAX_FAILURES_PER_ADDRESS = 10
LOCK_MINUTES = 15
MAX_FAILURES_PER_USERNAME = 100
USERNAME_WINDOW_MINUTES = 60
TRUSTED_ADDRESS_DAYS = 30

# A window that has ended starts again at 1; otherwise the count grows.
_INCR = sa.text("""
    INSERT INTO rate_limit_counter (key, count, expires_at)
    VALUES (:key, 1, :expires_at)
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN rate_limit_counter.expires_at <= :now THEN 1
                   ELSE rate_limit_counter.count + 1 END,
      expires_at = CASE WHEN rate_limit_counter.expires_at <= :now THEN :expires_at
                        ELSE rate_limit_counter.expires_at END
    RETURNING count
""")


def _digest(text: str, size: int) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:size]


@dataclass(frozen=True)
class _Keys:
    """The counters of one (username, address)."""

    username: str  # failures for the username, from every address
    pair: str  # failures for the username from this address
    trusted: str  # a successful sign-in for the username from this address

    @classmethod
    def of(cls, username: str, address: str | None) -> "_Keys":
        user = _digest(username, 32)
        where = _digest(address or "-", 16)
        return cls(
            username=f"signin:user:{user}",
            pair=f"signin:pair:{user}:{where}",
            trusted=f"signin:ok:{user}:{where}",
        )


def _live_counts(keys: list[str], now: float) -> dict[str, int]:
    rows = db.session.execute(
        sa.select(RateLimitCounter.key, RateLimitCounter.count).where(
            RateLimitCounter.key.in_(keys), RateLimitCounter.expires_at > now
        )
    )
    return {row.key: row.count for row in rows}


def _increment(key: str, now: float, window: timedelta) -> int:
    params = {"key": key, "now": now, "expires_at": now + window.total_seconds()}
    return db.session.execute(_INCR, params).scalar_one()


def _extend(key: str, until: float) -> None:
    db.session.execute(
        sa.update(RateLimitCounter).where(RateLimitCounter.key == key).values(expires_at=until)
    )


def is_locked(username: str, address: str | None) -> bool:
    """Whether sign-in for `username` from `address` is refused for now."""
    keys = _Keys.of(username, address)
    counts = _live_counts([keys.username, keys.pair, keys.trusted], clock.now().timestamp())
    if counts.get(keys.pair, 0) >= MAX_FAILURES_PER_ADDRESS:
        return True
    return counts.get(keys.username, 0) >= MAX_FAILURES_PER_USERNAME and keys.trusted not in counts


def record_failure(username: str, address: str | None) -> bool:
    """Count a failed sign-in; True when it is the one that locks the address out."""
    keys = _Keys.of(username, address)
    now = clock.now().timestamp()
    lock = timedelta(minutes=LOCK_MINUTES)
    _increment(keys.username, now, timedelta(minutes=USERNAME_WINDOW_MINUTES))
    count = _increment(keys.pair, now, lock)
    if count == MAX_FAILURES_PER_ADDRESS:
        # The lock lasts its full length from the failure that set it.
        _extend(keys.pair, now + lock.total_seconds())
        return True
    return False


def record_success(username: str, address: str | None) -> None:
    """A right password: this address's failures are forgotten and it is trusted for a
    while, so the per-username ceiling never keeps the real user out from where they work."""
    keys = _Keys.of(username, address)
    now = clock.now().timestamp()
    db.session.execute(sa.delete(RateLimitCounter).where(RateLimitCounter.key == keys.pair))
    _increment(keys.trusted, now, timedelta(days=TRUSTED_ADDRESS_DAYS))
    _extend(keys.trusted, now + timedelta(days=TRUSTED_ADDRESS_DAYS).total_seconds())


def failure_count(username: str, address: str | None) -> int:
    """Failures counted now for `username` from `address`."""
    keys = _Keys.of(username, address)
    return _live_counts([keys.pair], clock.now().timestamp()).get(keys.pair, 0)


def lift_locks(username: str) -> None:
    """Forget every failure counted for `username`, from every address."""
    user = _digest(username, 32)
    db.session.execute(
        sa.delete(RateLimitCounter).where(
            sa.or_(
                RateLimitCounter.key == f"signin:user:{user}",
                RateLimitCounter.key.like(f"signin:pair:{user}:%"),
            )
        )
    )


def purge_ended() -> int:
    """Delete the sign-in counters whose window has ended; how many."""
    result = db.session.execute(
        sa.delete(RateLimitCounter).where(
            RateLimitCounter.key.like("signin:%"),
            RateLimitCounter.expires_at <= clock.now().timestamp(),
        )
    )
    return result.rowcount or 0
