"""The identity providers: their metadata, kept as files in a folder per federation
(SPID_IDP_METADATA_DIR, CIE_IDP_METADATA_DIR) and refreshed from a URL by
`flask --app voucher spid refresh-metadata`.

The URL may give one metadata document (an EntityDescriptor, as CIE's IdP does), an
aggregate (EntitiesDescriptor), or AgID's registry of SPID identity providers in JSON: a
list of entries each naming its `metadata_url`, each then fetched. Every document is parsed
before it replaces the previous file, so a failed download never leaves a provider out.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.request import urlopen

from defusedxml import ElementTree

from .federations import Federation

MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
TIMEOUT_SECONDS = 30
_MAX_BYTES = 20 * 1024 * 1024


class MetadataError(Exception):
    """The identity providers' metadata could not be fetched or read."""


@dataclass(frozen=True)
class IdentityProvider:
    """An identity provider as the sign-in page lists it."""

    entity_id: str
    name: str


def identity_providers(sp_client) -> list[IdentityProvider]:
    """The identity providers of a pysaml2 client's metadata, by name."""
    found = []
    for entity_id in sp_client.metadata.identity_providers():
        name = sp_client.metadata.name(entity_id, langpref="it") or entity_id
        found.append(IdentityProvider(entity_id=entity_id, name=name))
    return sorted(found, key=lambda idp: idp.name.casefold())


def _fetch(url: str) -> bytes:
    if not url.startswith(("https://", "http://", "file://")):
        raise MetadataError(f"not a URL: {url}")
    try:
        with urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - scheme checked
            return response.read(_MAX_BYTES)
    except OSError as error:
        raise MetadataError(f"{url}: {error}") from error


def _entities(document: bytes) -> list[tuple[str, bytes]]:
    """(entity ID, XML) of each identity provider in a metadata document."""
    try:
        root = ElementTree.fromstring(document)
    except ElementTree.ParseError as error:
        raise MetadataError(f"not XML: {error}") from error
    if root.tag == f"{MD}EntityDescriptor":
        descriptors = [root]
    elif root.tag == f"{MD}EntitiesDescriptor":
        descriptors = list(root.iter(f"{MD}EntityDescriptor"))
    else:
        raise MetadataError(f"not SAML metadata: {root.tag}")
    found = []
    for descriptor in descriptors:
        if descriptor.find(f"{MD}IDPSSODescriptor") is None:
            continue
        entity_id = descriptor.get("entityID") or ""
        if entity_id:
            found.append((entity_id, ElementTree.tostring(descriptor)))
    return found


def _documents(url: str) -> list[bytes]:
    body = _fetch(url)
    if body.lstrip()[:1] in (b"[", b"{"):
        try:
            registry = json.loads(body)
        except ValueError as error:
            raise MetadataError(f"not JSON: {error}") from error
        entries = registry if isinstance(registry, list) else registry.get("data", [])
        urls = [e.get("metadata_url") for e in entries if isinstance(e, dict)]
        return [_fetch(u) for u in urls if u]
    return [body]


def refresh(fed: Federation) -> int:
    """Fetch the metadata of `fed`'s identity providers into its folder; how many."""
    if not fed.metadata_url:
        raise MetadataError(f"no metadata URL is configured for {fed.label}")
    entities = [entity for doc in _documents(fed.metadata_url) for entity in _entities(doc)]
    if not entities:
        raise MetadataError(f"{fed.metadata_url} names no identity provider")
    folder = Path(fed.metadata_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for entity_id, xml in entities:
        name = hashlib.sha256(entity_id.encode()).hexdigest()[:16] + ".xml"
        temporary = folder / (name + ".new")
        temporary.write_bytes(xml)
        temporary.replace(folder / name)
    return len(entities)
