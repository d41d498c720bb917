"""Bearer authentication for the API: session tokens and provider API keys."""

from functools import wraps

from flask import abort, g, request

from ..services import Actor
from ..services.providers import actor_for_api_key, authenticate_api_key
from ..services.users import actor_for, resolve_token

BEARER_SECURITY = [{"bearerAuth": []}]


def load_actor() -> None:
    """Before every API request: who is calling, if anyone."""
    g.actor = None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 512:
        return
    token = token.strip()
    holder = authenticate_api_key(token)
    if holder is not None:
        g.actor = actor_for_api_key(holder)
        return
    user = resolve_token(token)
    if user is not None:
        g.actor = actor_for(user)


def current_actor() -> Actor:
    return g.actor


def requires(permission: str):
    """401 without a valid token; 403 when the role may not do this."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            actor = getattr(g, "actor", None)
            if actor is None:
                abort(401, "Token mancante, scaduto o non valido.")
            if not actor.can(permission):
                abort(403, "Il tuo ruolo non consente questa operazione.")
            return view(*args, **kwargs)

        wrapper._requires = permission
        return wrapper

    return decorator
