"""The home page, which leads each audience to its area, and the site's legal pages."""

from flask import Blueprint, render_template
from flask_babel import refresh

from ..services.privacy import privacy_settings

bp = Blueprint("main", __name__)


@bp.before_app_request
def _choose_locale_per_request():
    # Flask-Babel caches the locale on `g`, which outlives one request when an application
    # context was already pushed (tests, scripts): choose it afresh for every request.
    refresh()


@bp.route("/")
def home():
    return render_template("main/home.html")


@bp.route("/accessibilita")
def accessibility():
    return render_template("main/accessibility.html")


@bp.route("/privacy")
def privacy():
    """The privacy notice (GDPR art. 13), with the ente's contacts and retention periods."""
    return render_template("main/privacy.html", privacy=privacy_settings())
