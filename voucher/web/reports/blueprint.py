"""The reports blueprint, on which the reports views register their routes."""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/rendiconti")
