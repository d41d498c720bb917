"""Sign-in and sign-out for staff and provider operators, and the language choice.

A staff session lasts STAFF_SESSION_HOURS from sign-in, however busy (ASVS 3.3.2): the
moment of sign-in is kept in the signed session and checked before every request, so
neither activity nor a copied cookie stretches it."""

import unicodedata
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BuildError

from ..errors import InvalidCredentials, Locked
from ..extensions import limiter
from ..services import clock, users
from .forms import LoginForm
from .i18n import COOKIE, SUPPORTED

bp = Blueprint("auth", __name__)

SIGNED_IN_AT = "signed_in_at"
MAX_NEXT_LENGTH = 2000
# The page each role uses most, where it lands after signing in (a local `next` wins).
LANDING = {
    "provider": "provider.scan",
    "social_worker": "social.beneficiaries",
    "admin": "reports.dashboard_page",
    "finance": "reports.finance",
    "auditor": "reports.index",
}


def local_path(target: str | None) -> str | None:
    """`target` if it is a path of this application, else None: the one check of every
    `next` (ASVS 5.1.5, no open redirect). Only "/" followed by anything but a second "/"
    or a backslash, with no scheme or host, and no control, format or blank character,
    which browsers drop or read as separators (`/%09/evil.example` is `//evil.example` to
    them) and which cannot go into a header."""
    if not isinstance(target, str) or not target or len(target) > MAX_NEXT_LENGTH:
        return None
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ch.isspace() or unicodedata.category(ch)[0] in "CZ" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def landing_page(role: str) -> str:
    """Where a role's work starts after sign-in: the provider's scanner, the social
    worker's beneficiaries, the admin's dashboard, the ragioneria's payments, the auditor's
    reports; the home page for a role without one (or a page not registered)."""
    endpoint = LANDING.get(role)
    if endpoint is not None:
        try:
            return url_for(endpoint)
        except BuildError:
            pass
    return url_for("main.home")


def staff_session_lifetime() -> timedelta:
    return current_app.config.get("STAFF_SESSION_LIFETIME") or timedelta(hours=8)


@bp.before_app_request
def _end_staff_session_past_its_lifetime():
    """A staff session older than its lifetime, or without a sign-in time (one opened
    before the lifetime was kept), is signed out before the request goes on."""
    if request.path.startswith("/api/") or request.endpoint == "static":
        return  # the API knows only bearer tokens; stylesheets need no signed-in user
    if "_user_id" not in session:
        return
    signed_in_at = session.get(SIGNED_IN_AT)
    now = clock.now().timestamp()
    lifetime = staff_session_lifetime().total_seconds()
    if isinstance(signed_in_at, int | float) and 0 <= now - signed_in_at < lifetime:
        return
    logout_user()
    session.pop(SIGNED_IN_AT, None)
    flash(_("La sessione è scaduta: accedi di nuovo per continuare."), "info")


def _refusal_message(error: InvalidCredentials | Locked) -> str:
    if isinstance(error, Locked):
        return _(
            "Troppi tentativi di accesso non riusciti: per sicurezza l'accesso è sospeso "
            "per qualche minuto. Riprova più tardi; se non ricordi la password, chiedi "
            "all'amministratore di impostarne una nuova."
        )
    return str(error.title)


@bp.route("/accesso", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = users.authenticate(
                form.username.data, form.password.data, address=request.remote_addr
            )
        except (InvalidCredentials, Locked) as error:
            # The view goes on normally, so the request boundary commits the failure count.
            flash(_refusal_message(error), "danger")
        else:
            lang = session.get("lang")
            session.clear()  # a fresh session on sign-in: no fixation
            if lang:
                session["lang"] = lang
            login_user(user)
            session[SIGNED_IN_AT] = clock.now().timestamp()
            session.permanent = True
            return redirect(local_path(request.args.get("next")) or landing_page(user.role))
    return render_template("auth/login.html", form=form)


@bp.route("/esci", methods=["POST"])
@login_required
def logout():
    lang = session.get("lang")
    user = current_user._get_current_object()
    logout_user()
    users.sign_out(user)
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("Sei uscito dal servizio."), "success")
    return redirect(url_for("main.home"))


def _page_to_show_again(target: str | None) -> str:
    """Back to the page where the language was chosen, if it can be shown with a GET
    (a page rendered as the answer to a form, such as a new API key, cannot)."""
    target = local_path(target)
    if target:
        try:
            current_app.url_map.bind("").match(target.split("?", 1)[0], method="GET")
        except HTTPException:
            target = None
    return target or url_for("main.home")


@bp.route("/lingua/<lang>", methods=["POST"])
def set_language(lang: str):
    response = redirect(_page_to_show_again(request.form.get("next")))
    if lang in SUPPORTED:
        session["lang"] = lang
        response.set_cookie(
            COOKIE,
            lang,
            max_age=365 * 24 * 3600,
            secure=current_app.config.get("SESSION_COOKIE_SECURE", True),
            httponly=True,
            samesite="Lax",
        )
    return response
