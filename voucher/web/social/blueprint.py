"""The social workers' blueprint, on which their views register their routes."""

from flask import Blueprint

bp = Blueprint("social", __name__, url_prefix="/servizi")
