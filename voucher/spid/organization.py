"""Who the service provider is, as SPID's metadata and certificate name it: the ente."""

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Ente


@dataclass(frozen=True)
class Organization:
    """The ente as a SPID/CIE service provider."""

    name: str
    url: str
    ipa_code: str
    email: str
    phone: str
    municipality: str  # the ISTAT code of the ente's Comune (CIE asks for it)
    locality: str


def current_organization(base_url: str) -> Organization:
    """From the settings (SPID_ORGANIZATION_NAME, SPID_IPA_CODE, …), falling back on the
    ente's own record for its name and office e-mail."""
    config = current_app.config
    ente = db.session.execute(select(Ente).order_by(Ente.id).limit(1)).scalar_one_or_none()
    name = config.get("SPID_ORGANIZATION_NAME") or (ente.name if ente else "") or "Ente"
    email = config.get("SPID_CONTACT_EMAIL") or (ente.office_email if ente else "") or ""
    phone = config.get("SPID_CONTACT_PHONE") or (ente.office_phone if ente else "") or ""
    return Organization(
        name=name,
        url=base_url + "/",
        ipa_code=config.get("SPID_IPA_CODE") or "",
        email=email,
        phone="".join(phone.split()),
        municipality=config.get("SPID_MUNICIPALITY") or "",
        locality=(ente.comuni[0].name if ente and ente.comuni else name),
    )
