"""The SAML endpoints of SPID and CIE: the metadata, the start of a sign-in, the assertion
consumer service and the single-logout service. /spid/… and /cie/… are the same views."""

import logging

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ...extensions import db, limiter
from ...models import Beneficiary
from ...services import Actor, audit
from ...spid import pending
from ...spid.authn import UnknownIdentityProvider, authn_request
from ...spid.errors import SignInFailed, message
from ...spid.federations import federation
from ...spid.metadata import signed_metadata
from ...spid.organization import current_organization
from ...spid.response import Expected, peek, read_response
from . import session as citizen_session
from .blueprint import bp, csrf_exempt

logger = logging.getLogger(__name__)
FEDERATION = "<any(spid, cie):federation_name>"
# Starting sign-ins costs a signature and a stored request each: a client may not flood it.
LOGIN_LIMIT = "30 per minute;300 per hour"


def _context(name: str):
    fed = federation(name)
    return fed, current_organization(fed.base_url)


def failure_page(code: str, status: int = 403, name: str = "spid"):
    """The Italian page of a refused sign-in (never a 5xx)."""
    page = render_template("citizen/error.html", code=code, message=message(code), federation=name)
    return page, status


@bp.get(f"/{FEDERATION}/metadata")
def metadata(federation_name: str):
    """The signed SAML metadata of the service provider, for AgID (SPID) or the Ministero
    dell'Interno (CIE)."""
    fed, organization = _context(federation_name)
    xml = signed_metadata(fed, organization)
    return Response(xml, mimetype="application/samlmetadata+xml")


@bp.get(f"/{FEDERATION}/login")
@limiter.limit(LOGIN_LIMIT)
def login(federation_name: str):
    """Send the browser to the identity provider chosen, with a signed AuthnRequest."""
    fed, organization = _context(federation_name)
    idp = request.args.get("idp", "")
    try:
        outgoing = authn_request(fed, organization, idp[:500])
    except UnknownIdentityProvider:
        return failure_page("unknown_idp", 400, federation_name)
    pending.remember(outgoing.request_id, fed.name, idp)
    return redirect(outgoing.redirect_url, 302)


@bp.post(f"/{FEDERATION}/acs")
@csrf_exempt
def acs(federation_name: str):
    """The identity provider's answer: checked, answered once, and the person signed in."""
    fed, organization = _context(federation_name)
    encoded = request.form.get("SAMLResponse", "")
    try:
        request_id, idp = peek(encoded)
        issued_at = pending.consume(request_id, fed.name, idp)
        if issued_at is None:
            raise SignInFailed("invalid", "the response answers no waiting request of ours")
        identity = read_response(
            fed,
            organization,
            encoded,
            Expected(request_id=request_id, idp=idp, issued_at=issued_at),
        )
    except SignInFailed as failure:
        # The reason goes to the log (no personal data in it); the person reads the message.
        logger.info("%s sign-in refused: %s", fed.label, failure.reason)
        return failure_page(failure.code, 403, federation_name)
    person = db.session.execute(
        select(Beneficiary).where(Beneficiary.fiscal_code == identity.fiscal_code)
    ).scalar_one_or_none()
    represented = db.session.execute(
        select(Beneficiary.id)
        .where(
            Beneficiary.representative_fiscal_code == identity.fiscal_code,
            Beneficiary.pseudonymised_at.is_(None),
        )
        .order_by(Beneficiary.id)
    ).scalars()
    citizen_session.start(identity, fed.name, person.id if person else None, list(represented))
    actor = Actor("beneficiary", person.id if person else None, f"cittadino ({fed.label})")
    audit.record(
        actor,
        "citizen.signed_in",
        "beneficiary" if person else None,
        person.id if person else None,
        federation=fed.name,
        level=identity.level,
        idp=identity.idp,
    )
    return redirect(url_for("citizen.area"), 303)


@bp.route(f"/{FEDERATION}/slo", methods=["GET", "POST"])
@csrf_exempt
def slo(federation_name: str):
    """Where the identity provider answers our LogoutRequest, or asks us to log out: either
    way the session here ends, and the person is told."""
    federation(federation_name)  # the federation exists: /<other>/slo is a 404
    citizen_session.end()
    flash(_("Sei uscito dall'area personale."), "success")
    return redirect(url_for("citizen.area"), 303)
