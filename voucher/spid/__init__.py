"""SPID and CIE: the SAML 2.0 service provider through which citizens sign in.

federations   the two federations' settings (entity ID, paths, level, metadata sources)
organization  the ente as the metadata names it
certificates  the service provider's key and certificate, generated for development
saml          the pysaml2 configuration
metadata      the signed metadata, with the AgID extensions
authn         the AuthnRequest (HTTP-Redirect, signed)
pending       the requests waiting for their answer, each answerable once
response      the checks of the Response and the identity it carries
logout        single logout towards the identity provider
idps          the identity providers' metadata, listed and refreshed
errors        the messages of a failed sign-in (SPID ErrorCode nr19–nr25)

The web pages that use it are in voucher.web.citizen; docs/spid.md tells an ente how to
configure it.
"""
