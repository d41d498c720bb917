"""The AuthnRequest of SPID and CIE, sent with the HTTP-Redirect binding.

What the SPID "Regole tecniche" (and the Avvisi n.11 and n.29) ask of it: an Issuer with
NameQualifier and the entity format, a transient NameIDPolicy, the level in a
RequestedAuthnContext with Comparison "minimum" and ForceAuthn above level 1, the
AssertionConsumerServiceIndex and AttributeConsumingServiceIndex of the metadata (so no
AssertionConsumerServiceURL nor ProtocolBinding), the identity provider's entity ID as
Destination, and a signature over the query string (RSA-SHA256). The RelayState is an
opaque random value, never a URL.
"""

import secrets
from dataclasses import dataclass

import saml2
from saml2 import samlp
from saml2.authn_context import requested_authn_context
from saml2.s_utils import sid
from saml2.saml import NAMEID_FORMAT_ENTITY, NAMEID_FORMAT_TRANSIENT, Issuer
from saml2.time_util import instant
from saml2.xmldsig import SIG_RSA_SHA256

from .federations import Federation
from .organization import Organization
from .saml import client


class UnknownIdentityProvider(Exception):
    """The identity provider asked for is not among the configured ones."""


@dataclass(frozen=True)
class OutgoingRequest:
    """A request ready to go: where the browser is sent, and what to remember of it."""

    request_id: str
    redirect_url: str
    relay_state: str


def authn_request(fed: Federation, organization: Organization, idp: str) -> OutgoingRequest:
    """A signed AuthnRequest for `idp`, as the URL that carries it."""
    sp = client(fed, organization)
    if not idp or idp not in sp.metadata.identity_providers():
        raise UnknownIdentityProvider(idp)
    location = sp.sso_location(idp, saml2.BINDING_HTTP_REDIRECT)
    request = samlp.AuthnRequest(
        id=sid(),
        version=saml2.VERSION,
        issue_instant=instant(),
        destination=idp,
        force_authn="true" if fed.level > 1 else None,
        assertion_consumer_service_index="0",
        attribute_consuming_service_index="0",
        issuer=Issuer(
            text=fed.entity_id, format=NAMEID_FORMAT_ENTITY, name_qualifier=fed.entity_id
        ),
        name_id_policy=samlp.NameIDPolicy(format=NAMEID_FORMAT_TRANSIENT),
        requested_authn_context=requested_authn_context(
            class_ref=fed.authn_context, comparison="minimum"
        ),
    )
    relay_state = secrets.token_urlsafe(16)
    info = sp.apply_binding(
        saml2.BINDING_HTTP_REDIRECT,
        str(request),
        location,
        relay_state=relay_state,
        sign=True,
        sigalg=SIG_RSA_SHA256,
    )
    url = dict(info["headers"])["Location"]
    return OutgoingRequest(request_id=request.id, redirect_url=url, relay_state=relay_state)
