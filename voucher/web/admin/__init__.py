"""The ente admin's pages: the ente and its Comuni, schemes, providers and users.

Each view is thin: it parses a form, calls one service and shows the outcome (the request
boundary commits); a service's refusal becomes a flash message and errors next to the fields
(voucher.web.refusals).
"""

# The views register their routes on the blueprint when imported.
from . import ente, providers, schemes, subject, users  # noqa: F401
from .blueprint import bp

__all__ = ["bp"]
