"""The accredited providers' pages: read a voucher (camera, photo, typed code or a barcode
scanner), record a service with a preview and a receipt, and the provider's own history.

A voucher code never travels in a URL: the scan and record forms are POSTed, and receipts
are addressed by the ledger entry's id.
"""

# The views register their routes on the blueprint when imported.
from . import cancel, history, redeem  # noqa: F401
from .blueprint import bp

__all__ = ["bp"]
