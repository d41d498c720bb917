"""Single logout: the LogoutRequest that ends the session at the identity provider too.

SPID asks a service provider to offer single logout and, on sign-out, to tell the identity
provider (HTTP-Redirect here, signed like the AuthnRequest), naming the NameID and the
SessionIndex of the assertion. When the provider's metadata offers no logout service, the
session ends only here, and the page says so.
"""

import saml2
from saml2 import samlp
from saml2.s_utils import sid
from saml2.saml import NAMEID_FORMAT_ENTITY, NAMEID_FORMAT_TRANSIENT, Issuer, NameID
from saml2.time_util import instant
from saml2.xmldsig import SIG_RSA_SHA256

from .federations import Federation
from .organization import Organization
from .saml import client


def logout_redirect(
    fed: Federation,
    organization: Organization,
    idp: str,
    name_id: str,
    name_qualifier: str | None,
    session_index: str | None,
) -> str | None:
    """The URL that carries a signed LogoutRequest to `idp`, or None if it has no SLO."""
    sp = client(fed, organization)
    try:
        services = sp.metadata.single_logout_service(idp, saml2.BINDING_HTTP_REDIRECT, "idpsso")
    except Exception:  # noqa: BLE001 - an identity provider no longer in the metadata
        return None
    if not services:
        return None
    location = services[0]["location"]
    request = samlp.LogoutRequest(
        id=sid(),
        version=saml2.VERSION,
        issue_instant=instant(),
        destination=location,
        issuer=Issuer(
            text=fed.entity_id, format=NAMEID_FORMAT_ENTITY, name_qualifier=fed.entity_id
        ),
        name_id=NameID(text=name_id, format=NAMEID_FORMAT_TRANSIENT, name_qualifier=name_qualifier),
        session_index=[samlp.SessionIndex(text=session_index)] if session_index else None,
    )
    info = sp.apply_binding(
        saml2.BINDING_HTTP_REDIRECT, str(request), location, sign=True, sigalg=SIG_RSA_SHA256
    )
    return dict(info["headers"])["Location"]
