"""The beneficiaries' self-service pages, with no account: the voucher code and PIN (typed,
or the code filled in from the `/saldo#c=<code>` fragment) open a short signed session that
holds only the voucher's id, and show balance, status, history and providers.

No code, PIN or personal data ever reaches a URL or a log line: the form is POSTed, the
fragment never leaves the browser, and the pages after sign-in are addressed by the session.
"""

from flask import Blueprint

bp = Blueprint("beneficiary", __name__)

# The views register their routes on `bp`.
from . import views  # noqa: E402, F401
