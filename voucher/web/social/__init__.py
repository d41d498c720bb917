"""The social workers' pages: beneficiaries, vouchers one at a time, and bulk issuance.

Personal data never travels in a URL: beneficiaries are found with a POST form and their
pages are addressed by numeric id; vouchers by id as well.
"""

from flask import Blueprint

bp = Blueprint("social", __name__, url_prefix="/servizi")

# The views register their routes on `bp`.
from . import batches, beneficiaries, vouchers  # noqa: E402, F401
