"""The admin blueprint, on which the admin's views register their routes."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
