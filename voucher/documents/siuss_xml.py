"""The SIUSS PS flow as XML (namespace http://inps.it/Casellario), valid against INPS's
PS_PSA_SINA201812.xsd: IdentificazioneFlusso/Ente, then one Beneficiario per person with
Anagrafica, Indirizzo and its PrestazioniSociali."""

import xml.etree.ElementTree as ET

NAMESPACE = "http://inps.it/Casellario"


def build_flow(name: str, ente: dict, beneficiaries: list[dict]) -> bytes:
    """The flow document; every value is already a string in the schema's format."""
    # The default namespace is declared on the root and inherited by every element; the
    # attributes stay unqualified, as the schema wants.
    root = ET.Element("Flusso", {"xmlns": NAMESPACE})
    ident = ET.SubElement(root, "IdentificazioneFlusso", {"Nome": name[:50]})
    ET.SubElement(ident, "Ente", ente)
    for person in beneficiaries:
        node = ET.SubElement(root, "Beneficiario", {"CodiceFiscale": person["CodiceFiscale"]})
        ET.SubElement(node, "Anagrafica", person["anagrafica"])
        ET.SubElement(node, "Indirizzo", person["indirizzo"])
        for prestazione in person["prestazioni"]:
            ET.SubElement(node, "PrestazioniSociali", prestazione)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
