"""Sign-in for pages (Flask-Login), the current actor, and security headers."""

from functools import wraps

from flask import Flask, abort, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext
from flask_login import current_user

from ..extensions import login_manager
from ..hooks import every_request
from ..services import Actor
from ..services.users import actor_for
from ..services.wording import N_

# Bootstrap Italia needs inline SVG sprites and data: fonts; no inline scripts are used.
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
    "font-src 'self' data:; script-src 'self'; connect-src 'self'; media-src 'self' blob:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    # Flashed when a page needs a signed-in user, in the reader's language.
    login_manager.login_message = N_("Accedi per continuare.")
    login_manager.localize_callback = gettext
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load_user(session_id: str):
        from ..services.users import load_session_user

        return load_session_user(session_id)

    app.session_interface = _BearerApiSessionInterface()
    # Every answer's headers, in one list: set where the view has not set them already.
    common = [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
        ("Permissions-Policy", "camera=(self), geolocation=(), microphone=()"),
    ]
    pages = [*common, ("Content-Security-Policy", CSP)]
    hsts = [("Strict-Transport-Security", "max-age=31536000")]

    @app.after_request
    @every_request
    def _security_headers(response):
        headers = response.headers
        api = request.path.startswith("/api/")
        present = {name.lower() for name in headers.keys()}  # noqa: SIM118 - (name, value) pairs otherwise
        wanted = common if api else pages
        if app.config.get("SESSION_COOKIE_SECURE"):
            wanted = wanted + hsts
        for name, value in wanted:
            if name.lower() not in present:
                headers.add(name, value)
        if request.endpoint == "static":
            pass  # stylesheets, scripts and fonts are the same for everyone: cached
        elif api and ("Authorization" in request.headers or request.method != "GET"):
            # Answers to a bearer token (or carrying one, like POST /auth/token) hold
            # personal data or credentials: no cache keeps them (RFC 6749 5.1, ASVS 8.2.1).
            # Decided first: an API call has no use for the signed-in user, whose loading
            # from the session cookie would cost every call.
            headers["Cache-Control"] = "no-store"
        elif getattr(g, "no_store", False) or (current_user and current_user.is_authenticated):
            headers["Cache-Control"] = "no-store"
        return response


class _BearerApiSessionInterface(SecureCookieSessionInterface):
    """The API knows only bearer tokens: under /api/ no cookie session is opened (nor
    its signing key derived), for any request."""

    def open_session(self, app, request):
        if request.path.startswith("/api/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


def current_actor() -> Actor | None:
    """The signed-in person, as the services' Actor; None when nobody is signed in."""
    if current_user and current_user.is_authenticated:
        return actor_for(current_user)
    return None


def permission_required(permission: str):
    """Pages: sign-in first, then the role table of voucher.permissions."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_actor().can(permission):
                abort(403)
            return view(*args, **kwargs)

        wrapper._requires = permission
        return wrapper

    return decorator
