"""The pysaml2 configuration of the service provider, one per federation.

The values follow the SPID "Regole tecniche" and their Avvisi: signed requests
(RSA-SHA256), signed assertions, transient NameID, the HTTP-POST binding for the
AssertionConsumerService, and no unsolicited response (each one answers a request of ours).
"""

import os
from functools import lru_cache

import saml2
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.saml import NAME_FORMAT_BASIC, NAMEID_FORMAT_TRANSIENT
from saml2.sigver import get_xmlsec_binary
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from .certificates import Subject, ensure_key_pair
from .federations import REQUESTED_ATTRIBUTES, Federation
from .organization import Organization


def _stamps(fed: Federation) -> tuple:
    return tuple((path, os.stat(path).st_mtime_ns) for path in fed.metadata_files())


def sp_config(fed: Federation, organization: Organization) -> SPConfig:
    """The SPConfig of `fed`, creating the development key pair on first use."""
    return _cached_client(fed, organization, _stamps(fed)).config


def client(fed: Federation, organization: Organization) -> Saml2Client:
    """A pysaml2 client of the service provider in `fed`. Loading the identity providers'
    metadata (schema validation) and the RSA key takes most of a second, so a client is
    kept until the settings, the ente or the metadata files change."""
    return _cached_client(fed, organization, _stamps(fed))


@lru_cache(maxsize=8)
def _cached_client(fed: Federation, organization: Organization, stamps: tuple) -> Saml2Client:
    return Saml2Client(_load_config(fed, organization, stamps))


def _load_config(fed: Federation, organization: Organization, stamps: tuple) -> SPConfig:
    ensure_key_pair(
        fed.key_file,
        fed.cert_file,
        Subject(
            organization=organization.name,
            ipa_code=organization.ipa_code,
            entity_id=fed.entity_id,
            locality=organization.locality,
        ),
    )
    config = SPConfig()
    config.load(
        {
            "entityid": fed.entity_id,
            "xmlsec_binary": get_xmlsec_binary(["/usr/bin", "/usr/local/bin"]),
            "key_file": fed.key_file,
            "cert_file": fed.cert_file,
            "accepted_time_diff": fed.clock_skew,
            "metadata": {"local": [path for path, _mtime in stamps]},
            "service": {
                "sp": {
                    "name": organization.name,
                    "name_qualifier": fed.base_url,
                    "name_id_format": [NAMEID_FORMAT_TRANSIENT],
                    "name_id_format_allow_create": False,
                    "endpoints": {
                        "assertion_consumer_service": [(fed.acs_url, saml2.BINDING_HTTP_POST)],
                        "single_logout_service": [
                            (fed.slo_url, saml2.BINDING_HTTP_POST),
                            (fed.slo_url, saml2.BINDING_HTTP_REDIRECT),
                        ],
                    },
                    "required_attributes": list(REQUESTED_ATTRIBUTES),
                    "requested_attribute_name_format": NAME_FORMAT_BASIC,
                    "name_format": NAME_FORMAT_BASIC,
                    "signing_algorithm": SIG_RSA_SHA256,
                    "digest_algorithm": DIGEST_SHA256,
                    "authn_requests_signed": True,
                    "logout_requests_signed": True,
                    "want_assertions_signed": True,
                    "want_response_signed": False,
                    "allow_unsolicited": False,
                    "allow_unknown_attributes": True,
                    "force_authn": fed.level > 1,
                },
            },
            "organization": {
                "name": [(organization.name, "it")],
                "display_name": [(organization.name, "it")],
                "url": [(organization.url, "it")],
            },
        }
    )
    return config
