"""The beneficiaries' self-service pages, with no account: the voucher code and PIN (typed,
or the code filled in from the `/saldo#c=<code>` fragment) open a short session, kept on
the server and named by a random token in the cookie, and show balance, status, history
and providers.

No code, PIN or personal data ever reaches a URL or a log line: the form is POSTed, the
fragment never leaves the browser, and the pages after sign-in are addressed by the session.
"""

# The views register their routes on the blueprint when imported.
from . import views  # noqa: F401
from .blueprint import bp

__all__ = ["bp"]
