"""Users, passwords, sign-in throttling and API session tokens."""

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import Conflict, InvalidCredentials, Locked, NotFound, ValidationFailed
from ..extensions import db
from ..models import ROLES, ApiToken, Provider, User
from . import Actor, audit, clock

MIN_PASSWORD_LENGTH = 12
MAX_FAILED_LOGINS = 10
LOGIN_LOCK_MINUTES = 15
# A hash to compare against when the user does not exist, so timing does not tell.
_DUMMY_HASH = generate_password_hash("not-a-real-password")

_COMMON = {
    "password",
    "passw0rd",
    "123456789012",
    "qwertyuiopas",
    "amministratore",
    "password1234",
    "passwordpassword",
    "000000000000",
    "111111111111",
}


def hash_password(password: str) -> str:
    """A scrypt hash (werkzeug's default); the test suite configures a cheaper method."""
    method = current_app.config.get("PASSWORD_HASH_METHOD") or "scrypt"
    return generate_password_hash(password, method=method)


def check_password_policy(password: str, username: str = "") -> None:
    """ASVS 2.1: at least 12 characters, not a known common password, not the username."""
    problems = []
    if len(password or "") < MIN_PASSWORD_LENGTH:
        problems.append(f"La password deve avere almeno {MIN_PASSWORD_LENGTH} caratteri.")
    elif password.lower() in _COMMON or (username and username.lower() in password.lower()):
        problems.append("La password è troppo facile da indovinare.")
    if len(password or "") > 256:
        problems.append("La password è troppo lunga.")
    if problems:
        raise ValidationFailed("Password non valida", errors={"password": problems})


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
    check_password_policy(password, username)
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
    """Set a user's password: their sessions and API tokens end, a lockout is lifted."""
    check_password_policy(password, user.username)
    user.password_hash = hash_password(password)
    user.session_version += 1
    user.failed_logins = 0
    user.locked_until = None
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


def authenticate(username: str, password: str) -> User:
    """Check credentials, with a lockout after repeated failures (ASVS 2.2.1).
    A refusal keeps its work (`keeps_work`): the boundary commits the failure count."""
    user = db.session.execute(
        select(User).where(User.username == (username or "").strip())
    ).scalar_one_or_none()
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        raise InvalidCredentials("Nome utente o password non corretti.")
    now = clock.now()
    locked_until = user.locked_until
    if locked_until is not None and locked_until.tzinfo is None:
        locked_until = locked_until.replace(tzinfo=now.tzinfo)
    if locked_until is not None and locked_until > now:
        raise Locked("Troppi tentativi: account bloccato temporaneamente.")
    if not user.active or not check_password_hash(user.password_hash, password or ""):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.failed_logins = 0
            user.locked_until = now + timedelta(minutes=LOGIN_LOCK_MINUTES)
            audit.record(Actor("system", None, "system"), "user.locked", "user", user.id)
        db.session.flush()
        raise InvalidCredentials("Nome utente o password non corretti.")
    user.failed_logins = 0
    user.last_login_at = now
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
