"""Users, passwords, sign-in and API session tokens. Sign-in throttling is in sign_in.py."""

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import lru_cache

from flask import current_app
from sqlalchemy import delete, select
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from ..errors import Conflict, InvalidCredentials, Locked, NotFound, ValidationFailed
from ..extensions import db
from ..models import ROLES, ApiToken, Provider, User
from . import Actor, audit, beneficiary_sessions, clock, sign_in

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
# zxcvbn's score: 3 is "safely unguessable" online (at least 10^8 guesses), which the
# sign-in throttling makes out of reach (ASVS 2.1.7: refuse breached and common passwords).
MIN_PASSWORD_SCORE = 3
# zxcvbn's work grows with the length; a strong beginning is what it needs to see.
_ANALYSED_LENGTH = 72
# Words anyone would try first against this application's accounts.
_APPLICATION_WORDS = (
    "voucher", "buono", "buoni", "servizio", "servizi", "sociali", "sociale",
    "ambito", "comune", "ente", "amministratore", "admin", "password",
)  # fmt: skip
MAX_FAILED_LOGINS = sign_in.MAX_FAILURES_PER_ADDRESS
LOGIN_LOCK_MINUTES = sign_in.LOCK_MINUTES
_DUMMY_PASSWORD = "not-a-real-password"  # noqa: S105 - compared against, never accepted
TOO_EASY = "La password è troppo facile da indovinare: {advice}"
TOO_EASY_ADVICE = (
    "usa una frase di almeno quattro parole non collegate tra loro, oppure lettere, "
    "numeri e simboli scelti a caso; evita nomi, date, parole comuni, sequenze della "
    "tastiera (qwerty, 123456) e ripetizioni."
)


def _hash_method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD") or "scrypt"


def hash_password(password: str) -> str:
    """A scrypt hash (werkzeug's default); the test suite configures a cheaper method."""
    return generate_password_hash(password, method=_hash_method())


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    """A hash to compare against when there is no user, made with the method real hashes
    use: an unknown username then costs as much time as a known one."""
    return generate_password_hash(_DUMMY_PASSWORD, method=method)


def check_password_policy(
    password: str, username: str = "", user_inputs: tuple[str | None, ...] = ()
) -> None:
    """ASVS 2.1: at least 12 characters, at most 256, not containing the username, and hard
    to guess by zxcvbn's estimate (score 3 or more), which knows common passwords, words,
    names, dates, keyboard patterns and repetitions, and is told the username, the person's
    name and the application's own words too."""
    password = password or ""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"La password deve avere almeno {MIN_PASSWORD_LENGTH} caratteri.")
    elif len(password) > MAX_PASSWORD_LENGTH:
        problems.append("La password è troppo lunga (al massimo 256 caratteri).")
    elif username and username.lower() in password.lower():
        problems.append(TOO_EASY.format(advice="non deve contenere il nome utente."))
    else:
        words = [w for w in (username, *user_inputs) if w]
        inputs = [*_APPLICATION_WORDS, *words, *(p for w in words for p in w.split())]
        strength = zxcvbn(password[:_ANALYSED_LENGTH], user_inputs=inputs)
        if strength["score"] < MIN_PASSWORD_SCORE:
            problems.append(TOO_EASY.format(advice=TOO_EASY_ADVICE))
    if problems:
        raise ValidationFailed("Password non valida", errors={"password": problems})


def _personal_words(full_name: str | None, email: str | None) -> tuple[str | None, ...]:
    """What zxcvbn should know of the person besides the username."""
    return (full_name, (email or "").split("@")[0])


def create_user(
    actor: Actor,
    *,
    username: str,
    password: str,
    role: str,
    provider_id: int | None = None,
    full_name: str | None = None,
    email: str | None = None,
) -> User:
    """Create a staff or provider account, its username unique and its password within policy."""
    username = (username or "").strip()
    errors = {}
    if not username or len(username) > 80:
        errors["username"] = ["Nome utente obbligatorio (massimo 80 caratteri)."]
    if role not in ROLES:
        errors["role"] = [f"Ruolo non valido: uno tra {', '.join(ROLES)}."]
    if role == "provider" and provider_id is None:
        errors["provider_id"] = ["Un utente fornitore deve indicare il fornitore."]
    if role != "provider" and provider_id is not None:
        errors["provider_id"] = ["Solo gli utenti fornitore appartengono a un fornitore."]
    if provider_id is not None and db.session.get(Provider, provider_id) is None:
        errors["provider_id"] = [f"Fornitore {provider_id} inesistente."]
    if errors:
        raise ValidationFailed("Dati dell'utente non validi", errors=errors)
    check_password_policy(password, username, _personal_words(full_name, email))
    if db.session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict(f"L'utente {username} esiste già.")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        provider_id=provider_id,
        full_name=full_name,
        email=email,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        actor,
        "user.created",
        "user",
        user.id,
        username=username,
        role=role,
        provider_id=provider_id,
    )
    return user


def set_password(actor: Actor, user: User, password: str) -> None:
    """Set a user's password: their sessions and API tokens end, every lock is lifted."""
    check_password_policy(password, user.username, _personal_words(user.full_name, user.email))
    user.password_hash = hash_password(password)
    user.session_version += 1
    sign_in.lift_locks(user.username)
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    db.session.flush()
    audit.record(actor, "user.password_set", "user", user.id)


def _refuse_on_self(actor: Actor, user: User, message: str) -> None:
    """An admin never locks themselves out: another admin must do it."""
    if actor.user_id is not None and actor.user_id == user.id:
        raise Conflict(message)


def set_active(actor: Actor, user: User, active: bool) -> None:
    """Enable or disable an account (never one's own); disabling ends its sessions and tokens."""
    if not active:
        _refuse_on_self(actor, user, "Non puoi disattivare il tuo stesso account.")
    user.active = active
    user.session_version += 1
    if not active:
        db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    db.session.flush()
    audit.record(actor, "user.enabled" if active else "user.disabled", "user", user.id)


def set_role(actor: Actor, user: User, role: str, provider_id: int | None = None) -> None:
    """Change an account's role (never one's own); a provider's operator names the provider."""
    _refuse_on_self(actor, user, "Non puoi cambiare il ruolo del tuo stesso account.")
    if role not in ROLES or (role == "provider") != (provider_id is not None):
        raise ValidationFailed(errors={"role": ["Ruolo o fornitore non validi."]})
    user.role, user.provider_id = role, provider_id
    user.session_version += 1
    db.session.flush()
    audit.record(actor, "user.role_changed", "user", user.id, role=role, provider_id=provider_id)


def authenticate(username: str, password: str, address: str | None = None) -> User:
    """Check credentials from a client `address`, throttled by username and address
    (ASVS 2.2.1; the reasons are in sign_in.py): the same answers, and the same work, for a
    known and an unknown username. A refusal keeps its work (`keeps_work`): the boundary
    commits the failure count."""
    username = (username or "").strip()
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    locked = sign_in.is_locked(username, address)
    # One hash in every case, before anything else is decided: timing tells nothing.
    stored = user.password_hash if user is not None else _dummy_hash(_hash_method())
    matches = check_password_hash(stored, password or "") and user is not None
    if locked:
        raise Locked("Troppi tentativi di accesso: riprova tra qualche minuto.")
    if not matches or not user.active:
        if sign_in.record_failure(username, address) and user is not None:
            audit.record(Actor("system", None, "system"), "user.locked", "user", user.id)
        raise InvalidCredentials("Nome utente o password non corretti.")
    sign_in.record_success(username, address)
    user.last_login_at = clock.now()
    db.session.flush()
    audit.record(actor_for(user), "user.login", "user", user.id)
    return user


def sign_out(user: User) -> None:
    """End the user's page sessions (ASVS 3.3.1). Sessions are signed cookies, which cannot
    be revoked one by one: a new session version makes the cookie being signed out, and any
    copy of it, worthless. The user's other browsers are signed out too."""
    user.session_version += 1
    db.session.flush()
    audit.record(actor_for(user), "user.logout", "user", user.id)


def actor_for(user: User) -> Actor:
    """The Actor of a signed-in user."""
    return Actor(
        type="user",
        id=user.id,
        label=user.username,
        role=user.role,
        provider_id=user.provider_id,
        user_id=user.id,
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, ttl: timedelta) -> tuple[str, int]:
    """A bearer token for the API; only its digest is stored. Returns (token, seconds)."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        ApiToken(user_id=user.id, token_hash=_digest(token), expires_at=clock.now() + ttl)
    )
    db.session.flush()
    return token, int(ttl.total_seconds())


def resolve_token(token: str) -> User | None:
    """The active user an unexpired API token belongs to, or None."""
    record = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == _digest(token))
    ).scalar_one_or_none()
    if record is None:
        return None
    expires = record.expires_at
    now = clock.now()
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=now.tzinfo)
    if expires <= now or not record.user.active:
        return None
    return record.user


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's loader: "<id>:<version>"; an old version means a logged-out session."""
    try:
        user_id, version = (int(p) for p in session_id.split(":"))
    except ValueError:
        return None
    user = db.session.get(User, user_id)
    if user is None or user.session_version != version or not user.active:
        return None
    return user


def get_user(user_id: int) -> User:
    """The user with this id, or NotFound."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("Utente non trovato.")
    return user


def list_users() -> list[User]:
    """Every account, by username."""
    return list(db.session.execute(select(User).order_by(User.username)).scalars())


def purge_expired_tokens(now: datetime | None = None) -> int:
    """Delete the API tokens expired by `now`; how many."""
    result = db.session.execute(delete(ApiToken).where(ApiToken.expires_at < (now or clock.now())))
    return result.rowcount or 0


def purge_ended_sessions() -> int:
    """The nightly clean-up of sign-in state: expired API tokens, ended self-service
    sessions and ended sign-in counters; how many rows went."""
    return purge_expired_tokens() + beneficiary_sessions.purge_ended() + sign_in.purge_ended()
