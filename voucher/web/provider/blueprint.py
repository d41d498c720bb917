"""The providers' blueprint, on which their views register their routes."""

from flask import Blueprint

bp = Blueprint("provider", __name__, url_prefix="/fornitore")
