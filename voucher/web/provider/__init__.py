"""The accredited providers' pages: read a voucher (camera, photo, typed code or a barcode
scanner), record a service with a preview and a receipt, and the provider's own history.

A voucher code never travels in a URL: the scan and record forms are POSTed, and receipts
are addressed by the ledger entry's id.
"""

from flask import Blueprint

bp = Blueprint("provider", __name__, url_prefix="/fornitore")

# The views register their routes on `bp`.
from . import history, redeem  # noqa: E402, F401
