"""Citizens signed in with SPID or CIE: the SAML endpoints (/spid/…, /cie/…) and the
personal area (/area-personale), where a person sees every voucher of which they are the
beneficiary, found by the fiscal code their digital identity carries.

Nothing personal reaches a URL or a log line: the identity provider posts the response, the
session cookie holds the person's record id (not the fiscal code), and the pages after
sign-in are addressed by the session.
"""

# The views register their routes on the blueprint when imported.
from . import area_views, saml_views  # noqa: F401
from .blueprint import bp

__all__ = ["bp"]
