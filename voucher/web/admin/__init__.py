"""The ente admin's pages: the ente and its Comuni, schemes, providers and users.

Each view is thin: it parses a form, calls one service, commits, and shows the outcome;
a service's refusal (DomainError) becomes a flash message and errors next to the fields.
"""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import ente, providers, schemes, users  # noqa: E402, F401  (they register routes on bp)
