"""The home page: leads staff, providers and beneficiaries each to their area."""

from flask import Blueprint, render_template

bp = Blueprint("main", __name__)


@bp.route("/")
def home():
    return render_template("main/home.html")
