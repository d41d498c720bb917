"""The citizens' blueprint, on which the SAML and personal-area views register their routes."""

from flask import Blueprint

from ...extensions import csrf

bp = Blueprint("citizen", __name__)


@bp.after_request
def _no_store(response):
    # Responses of identity providers and personal pages: never cached, never shown again
    # from the history of a shared computer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def csrf_exempt(view):
    """The identity provider's form posts to the ACS and SLO from its own site: the SAML
    message is the proof (signed, answering a request of ours), not a CSRF token."""
    csrf.exempt(view)
    return view
