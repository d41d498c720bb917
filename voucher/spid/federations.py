"""SPID and CIE as two federations of one service provider: each has its own entity ID, its
paths (/spid/… and /cie/…), the identity providers it trusts and the level it asks for.

Everything comes from the application's settings (voucher.config), read at each request, so
that PUBLIC_URL decides the entity ID: `PUBLIC_URL + /spid/metadata` is what the ente gives
AgID, and `PUBLIC_URL + /cie/metadata` what it gives the Ministero dell'Interno.
"""

from dataclasses import dataclass
from pathlib import Path

from flask import current_app, has_request_context, request

# The SPID levels of assurance (Regole tecniche SPID, "Livelli di sicurezza"); CIE uses
# the same URIs.
LEVELS = {
    1: "https://www.spid.gov.it/SpidL1",
    2: "https://www.spid.gov.it/SpidL2",
    3: "https://www.spid.gov.it/SpidL3",
}
# The attributes the personal area needs: who the person is, and how to write to them.
REQUESTED_ATTRIBUTES = ("fiscalNumber", "name", "familyName", "dateOfBirth", "email")
NAMES = ("spid", "cie")


@dataclass(frozen=True)
class Federation:
    """One federation as this application takes part in it."""

    name: str  # "spid" or "cie"
    base_url: str  # the application's public address, without a trailing slash
    level: int
    metadata_dir: str
    metadata_url: str
    key_file: str
    cert_file: str
    clock_skew: int  # seconds

    @property
    def label(self) -> str:
        return "SPID" if self.name == "spid" else "CIE"

    @property
    def entity_id(self) -> str:
        return f"{self.base_url}/{self.name}/metadata"

    @property
    def acs_url(self) -> str:
        return f"{self.base_url}/{self.name}/acs"

    @property
    def slo_url(self) -> str:
        return f"{self.base_url}/{self.name}/slo"

    @property
    def authn_context(self) -> str:
        return LEVELS[self.level]

    def metadata_files(self) -> list[str]:
        """The identity providers' metadata files of the configured folder."""
        folder = Path(self.metadata_dir)
        if not folder.is_dir():
            return []
        return sorted(str(p) for p in folder.glob("*.xml") if p.is_file())


def _level(value) -> int:
    try:
        level = int(value)
    except (TypeError, ValueError):
        return 2
    return level if level in LEVELS else 2


def federation(name: str) -> Federation:
    """The federation `name` ("spid" or "cie") from the current application's settings."""
    if name not in NAMES:
        raise ValueError(f"unknown federation {name!r}")
    config = current_app.config
    prefix = name.upper()
    fallback = request.host_url if has_request_context() else "http://localhost"
    base = (config.get("PUBLIC_URL") or fallback).rstrip("/")
    return Federation(
        name=name,
        base_url=base,
        level=_level(config.get(f"{prefix}_LEVEL", 2)),
        metadata_dir=config[f"{prefix}_IDP_METADATA_DIR"],
        metadata_url=config.get(f"{prefix}_IDP_METADATA_URL") or "",
        key_file=config["SPID_KEY_FILE"],
        cert_file=config["SPID_CERT_FILE"],
        clock_skew=int(config.get("SPID_CLOCK_SKEW_SECONDS", 120)),
    )
