"""The service provider's signed metadata, as SPID and CIE want it.

pysaml2 builds the EntityDescriptor from the configuration; the SPID rules then ask for a
few things of their own: the AssertionConsumerService and the AttributeConsumingService
numbered from 0 (the indexes the AuthnRequest names), RequestedAttribute without a
NameFormat, and the ContactPerson extensions of the Avviso SPID n.29 v3 (a public
administration: `spid:IPACode` and an empty `spid:Public`). CIE asks for the same in its own
namespace, with the ente's Municipality (ISTAT code). The whole document is signed with the
service provider's key (RSA-SHA256).
"""

import saml2
from saml2.metadata import entity_descriptor, sign_entity_descriptor
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from .federations import REQUESTED_ATTRIBUTES, Federation
from .organization import Organization
from .saml import client

NAMESPACES = {
    "spid": "https://spid.gov.it/saml-extensions",
    "cie": "https://www.cartaidentita.interno.gov.it/saml-extensions",
}
MD_NAMESPACE = "urn:oasis:names:tc:SAML:2.0:metadata"


def signed_metadata(fed: Federation, organization: Organization) -> str:
    """The metadata document of `fed`, signed."""
    sp = client(fed, organization)
    descriptor = entity_descriptor(sp.config)
    _number_services(descriptor, organization)
    descriptor.extensions = None
    descriptor.register_prefix(NAMESPACES)
    if fed.name == "cie":
        descriptor.contact_person = _cie_contacts(organization)
    else:
        descriptor.contact_person = [_spid_contact(organization)]
    _eid, xml = sign_entity_descriptor(
        descriptor,
        None,
        sp.sec,
        sign_alg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
    )
    return xml if isinstance(xml, str) else xml.decode()


def _number_services(descriptor, organization: Organization) -> None:
    sp = descriptor.spsso_descriptor
    for index, service in enumerate(sp.assertion_consumer_service):
        service.index = str(index)
        service.is_default = "true" if index == 0 else None
    for index, service in enumerate(sp.attribute_consuming_service):
        service.index = str(index)
        service.service_name[0].lang = "it"
        service.service_name[0].text = organization.name
        # The SPID names as they are, without pysaml2's mapping to other vocabularies.
        service.requested_attribute = [
            saml2.md.RequestedAttribute(name=name) for name in REQUESTED_ATTRIBUTES
        ]


def _element(name: str, namespace: str, text: str | None = None):
    return saml2.ExtensionElement(name, namespace=namespace, text=text)


def _contact(contact_type: str, organization: Organization, extensions: list):
    contact = saml2.md.ContactPerson()
    contact.contact_type = contact_type
    wrapper = _element("Extensions", MD_NAMESPACE)
    wrapper.children.extend(extensions)
    contact.extensions = wrapper
    if organization.email:
        contact.email_address = [saml2.md.EmailAddress(text=organization.email)]
    if organization.phone:
        contact.telephone_number = [saml2.md.TelephoneNumber(text=organization.phone)]
    return contact


def _spid_contact(organization: Organization):
    ns = NAMESPACES["spid"]
    return _contact(
        "other",
        organization,
        [_element("IPACode", ns, organization.ipa_code), _element("Public", ns)],
    )


def _cie_contacts(organization: Organization) -> list:
    ns = NAMESPACES["cie"]
    administrative = [
        _element("Public", ns),
        _element("IPACode", ns, organization.ipa_code),
        _element("Municipality", ns, organization.municipality),
    ]
    technical = [_element("Public", ns), _element("Municipality", ns, organization.municipality)]
    return [
        _contact("administrative", organization, administrative),
        _contact("technical", organization, technical),
    ]
