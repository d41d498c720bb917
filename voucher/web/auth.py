"""Sign-in and sign-out for staff and provider operators, and the language choice."""

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

from ..errors import InvalidCredentials, Locked
from ..extensions import limiter
from ..services import users
from .forms import LoginForm
from .i18n import COOKIE, SUPPORTED

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    """Only local paths: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@bp.route("/accesso", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = users.authenticate(form.username.data, form.password.data)
        except (InvalidCredentials, Locked) as error:
            # The view goes on normally, so the request boundary commits the failure count.
            flash(str(error.title), "danger")
        else:
            lang = session.get("lang")
            session.clear()  # a fresh session on sign-in: no fixation
            if lang:
                session["lang"] = lang
            login_user(user)
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")) or url_for("main.home"))
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
    target = _safe_next(target)
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
