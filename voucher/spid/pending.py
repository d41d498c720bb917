"""The authentication requests waiting for their answer, each answerable once.

A response is accepted only as the answer to a request this application sent, to that
identity provider, in that federation, and only once: the request is recorded on the server
when it leaves, and the first response that names it (InResponseTo, and its Issuer) marks it
used in the transaction that signs the person in. A response replayed later finds the
request used; one naming a request of another identity provider finds none.

The record cannot live in the session cookie: the identity provider's form posts the
response from another site, and the cookie (SameSite=Lax) does not come with it. It lives in
the rate-limit counters' table (a key, a number, an expiry), already shared by every worker:
`count` 0 means waiting, 1 means answered, and the expiry tells when the request left.
"""

import hashlib
import time
from datetime import UTC, datetime

from sqlalchemy import delete, select, update

from ..extensions import db
from ..models import RateLimitCounter

# How long an identity provider may take to answer: a person typing a password and an OTP.
LIFETIME_SECONDS = 15 * 60
_PREFIX = "saml-request:"


def _key(request_id: str, federation: str, idp: str) -> str:
    digest = hashlib.sha256(f"{federation}\n{idp}\n{request_id}".encode()).hexdigest()
    return _PREFIX + digest


def remember(request_id: str, federation: str, idp: str) -> None:
    """Record a new request as waiting for its answer (requests past their lifetime go)."""
    now = time.time()
    db.session.execute(
        delete(RateLimitCounter)
        .where(RateLimitCounter.key.startswith(_PREFIX), RateLimitCounter.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    db.session.add(
        RateLimitCounter(
            key=_key(request_id, federation, idp), count=0, expires_at=now + LIFETIME_SECONDS
        )
    )
    db.session.flush()


def consume(request_id: str | None, federation: str, idp: str | None) -> datetime | None:
    """Mark the request answered and return when it was sent; None when it is unknown,
    already answered, too old, or was sent to another identity provider."""
    if not request_id or not idp or len(request_id) > 200 or len(idp) > 500:
        return None
    key = _key(request_id, federation, idp)
    expires_at = db.session.execute(
        select(RateLimitCounter.expires_at).where(RateLimitCounter.key == key)
    ).scalar_one_or_none()
    if expires_at is None:
        return None
    result = db.session.execute(
        update(RateLimitCounter)
        .where(
            RateLimitCounter.key == key,
            RateLimitCounter.count == 0,
            RateLimitCounter.expires_at > time.time(),
        )
        .values(count=1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    return datetime.fromtimestamp(expires_at - LIFETIME_SECONDS, UTC)
