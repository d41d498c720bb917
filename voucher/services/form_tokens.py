"""One-time tokens for the forms that create money or vouchers (issue, replace, new PIN),
kept on the server: a form sent twice, whether by a double click, a reload, the same request
replayed with an old cookie or a second tab, acts once.

A token is random; only its SHA-256 digest is stored, with the form's purpose, the user it
was shown to and the object the form acts on. It is used by one conditional UPDATE in the
transaction of the action itself: of two submissions at once, the second waits on the row
the first has changed and then finds it used; if the action is refused and rolled back, the
token is unused again. Showing the same form again (same user, purpose and object) replaces
the earlier token, so that of two tabs only the newer one acts.

A bulk batch needs no token of its own: its draft is one, kept on the server and used once,
by the confirmation that finds it a draft under its row lock (services.batches).
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, update

from ..extensions import db
from ..models import FORM_TOKEN_PURPOSES, FormToken
from . import clock

# As long as a staff session lasts: a form left open longer is shown again.
TOKEN_LIFETIME = timedelta(hours=8)
_MAX_TOKEN_LENGTH = 200


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(user_id: int, purpose: str, subject: str) -> str:
    """A token for one display of a form; the same form shown earlier stops acting."""
    if purpose not in FORM_TOKEN_PURPOSES:
        raise ValueError(f"unknown form purpose {purpose!r}")
    db.session.execute(
        delete(FormToken)
        .where(
            FormToken.user_id == user_id,
            FormToken.purpose == purpose,
            FormToken.subject == subject,
            FormToken.used_at.is_(None),
        )
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        FormToken(
            digest=_digest(token),
            purpose=purpose,
            subject=subject,
            user_id=user_id,
            created_at=clock.now(),
        )
    )
    db.session.flush()
    return token


def use_token(user_id: int, purpose: str, subject: str, token: str | None) -> bool:
    """Mark the token used, in the caller's transaction; False when it is unknown, used,
    replaced by a newer display, expired, or shown to someone else or for another object."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return False
    now = clock.now()
    result = db.session.execute(
        update(FormToken)
        .where(
            FormToken.digest == _digest(token),
            FormToken.user_id == user_id,
            FormToken.purpose == purpose,
            FormToken.subject == subject,
            FormToken.used_at.is_(None),
            FormToken.created_at > now - TOKEN_LIFETIME,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def purge_tokens(now: datetime | None = None) -> int:
    """Delete the tokens past their lifetime, used or not (the nightly job); returns how many."""
    cutoff = (now or clock.now()) - TOKEN_LIFETIME
    return db.session.execute(
        delete(FormToken)
        .where(FormToken.created_at <= cutoff)
        .execution_options(synchronize_session=False)
    ).rowcount
