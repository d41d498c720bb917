"""The citizen's session, in the signed session cookie: the record of the person signed in
(their id, not their fiscal code), the identity provider and the SAML NameID and
SessionIndex that single logout names, and an absolute end (CITIZEN_SESSION_MINUTES after
sign-in, however busy). Kept apart from a staff sign-in and from /saldo's session."""

import hashlib
import hmac
import time
from dataclasses import dataclass, field

from flask import current_app, session

from ...spid.response import Identity

SESSION_KEY = "citizen"


@dataclass(frozen=True)
class Citizen:
    """Who is signed in, as the pages need it."""

    beneficiary_id: int | None
    first_name: str
    federation: str
    idp: str
    name_id: str
    name_qualifier: str | None
    session_index: str | None
    ends_at: float
    # The people this person acts for (a minor's parent, a guardian...), found at sign-in by
    # their records' representative_fiscal_code, and a keyed digest of the signed-in code, so
    # that each page re-checks a record still names them (the code itself is not kept).
    represented_ids: tuple[int, ...] = field(default=())
    code_digest: str = ""


def session_minutes() -> int:
    return int(current_app.config.get("CITIZEN_SESSION_MINUTES", 30))


def code_digest(fiscal_code: str) -> str:
    """A keyed digest of a codice fiscale: what the session keeps instead of the code."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, fiscal_code.encode(), hashlib.sha256).hexdigest()


def start(
    identity: Identity,
    federation: str,
    beneficiary_id: int | None,
    represented_ids: list[int] | None = None,
) -> None:
    """Sign the person in, replacing any earlier citizen session of this browser."""
    session[SESSION_KEY] = {
        "b": beneficiary_id,
        "r": list(represented_ids or [])[:50],
        "h": code_digest(identity.fiscal_code),
        "n": identity.first_name[:100],
        "f": federation,
        "i": identity.idp,
        "nid": identity.name_id[:300],
        "nq": (identity.name_id_qualifier or "")[:300] or None,
        "si": (identity.session_index or "")[:300] or None,
        "e": time.time() + 60 * session_minutes(),
    }


def current() -> tuple[Citizen | None, bool]:
    """The citizen signed in, and whether a session had just ended (past its end)."""
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None, False
    try:
        citizen = Citizen(
            beneficiary_id=data.get("b"),
            first_name=str(data.get("n") or ""),
            federation=str(data["f"]),
            idp=str(data["i"]),
            name_id=str(data["nid"]),
            name_qualifier=data.get("nq"),
            session_index=data.get("si"),
            ends_at=float(data["e"]),
            represented_ids=tuple(int(i) for i in data.get("r") or ()),
            code_digest=str(data.get("h") or ""),
        )
    except (KeyError, TypeError, ValueError):
        session.pop(SESSION_KEY, None)
        return None, True
    if citizen.ends_at <= time.time():
        session.pop(SESSION_KEY, None)
        return None, True
    return citizen, False


def end() -> None:
    """Forget the citizen in this browser."""
    session.pop(SESSION_KEY, None)
