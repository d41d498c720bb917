"""Sign-in and sign-out for staff and provider operators."""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import login_required, login_user, logout_user

from ..errors import InvalidCredentials, Locked
from ..extensions import db, limiter
from ..services import users
from .forms import LoginForm

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
            db.session.commit()  # keep the failure count
            flash(error.detail, "danger")
        else:
            db.session.commit()
            session.clear()
            login_user(user)
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")) or url_for("main.home"))
    return render_template("auth/login.html", form=form)


@bp.route("/esci", methods=["POST"])
@login_required
def logout():
    logout_user()
    session.clear()
    flash("Sei uscito dal servizio.", "success")
    return redirect(url_for("main.home"))


@bp.route("/lingua/<lang>", methods=["POST"])
def set_language(lang: str):
    from .i18n import SUPPORTED

    if lang in SUPPORTED:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")) or url_for("main.home"))
