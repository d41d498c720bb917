"""The ente's social-services office that families are told to call: the letter, the
balance pages and the balance API print its phone, e-mail, address and hours wherever they
say "call the social services". Every contact is optional; without them the family is sent
to "i servizi sociali del tuo Comune", and nothing is made up."""

import re
from dataclasses import dataclass

import phonenumbers

from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..models import Ente
from . import Actor, audit

# Field name on Ente → longest text the column holds.
OFFICE_FIELDS = {
    "office_phone": 40,
    "office_email": 254,
    "office_address": 300,
    "office_hours": 300,
}
# A value left out of an update stays as it is.
KEEP = object()

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class OfficeContacts:
    """Who a family calls, as plain text; every part may be missing."""

    ente_name: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""
    hours: str = ""

    @property
    def reachable(self) -> bool:
        """Whether the family is told at least one way to reach the office (the hours alone
        reach nobody)."""
        return bool(self.phone or self.email or self.address)

    @property
    def missing(self) -> list[str]:
        """The fields the ente has not filled in, by name (for the admin's reminder)."""
        return [name for name in OFFICE_FIELDS if not getattr(self, name.removeprefix("office_"))]

    @property
    def phone_uri(self) -> str:
        """The phone as a tel: link (+39… in E.164), or "" when there is none to dial."""
        if not self.phone:
            return ""
        try:
            number = phonenumbers.parse(self.phone, "IT")
        except phonenumbers.NumberParseException:
            return ""
        return "tel:" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def lines(self) -> list[tuple[str, str]]:
        """(Italian label, value) for each contact given, in the order a caller needs them."""
        labels = (
            ("Telefono", self.phone),
            ("E-mail", self.email),
            ("Indirizzo", self.address),
            ("Orari", self.hours),
        )
        return [(label, value) for label, value in labels if value]

    def sentence(self) -> str:
        """The contacts on one line, for a message of plain text (an API problem's detail)."""
        return "; ".join(f"{label.lower()} {value}" for label, value in self.lines())


def office_contacts(ente: Ente | None) -> OfficeContacts:
    """The ente's office contacts (all empty when the ente or its contacts are not set)."""
    if ente is None:
        return OfficeContacts()
    return OfficeContacts(
        ente_name=ente.name or "",
        phone=ente.office_phone or "",
        email=ente.office_email or "",
        address=ente.office_address or "",
        hours=ente.office_hours or "",
    )


def _clean(value) -> str | None:
    """One line of text, spaces collapsed; empty is None (the contact is cleared)."""
    if value is None:
        return None
    return " ".join(str(value).split()) or None


def plausible_phone(text: str) -> bool:
    """Whether the text can be a phone number in Italy or, with its +prefix, abroad: the
    office's switchboard, a toll-free 800 number or a mobile."""
    try:
        number = phonenumbers.parse(text, "IT")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_possible_number(number)


def office_errors(values: dict) -> dict[str, list[str]]:
    """Per-field messages for the cleaned office values given (missing keys are not checked)."""
    errors: dict[str, list[str]] = {}
    for name, limit in OFFICE_FIELDS.items():
        value = values.get(name)
        if value is not None and len(value) > limit:
            errors[name] = [f"Al massimo {limit} caratteri."]
    phone = values.get("office_phone")
    if phone and "office_phone" not in errors and not plausible_phone(phone):
        errors["office_phone"] = [
            "Numero di telefono non valido: scrivere il numero con il prefisso, "
            "es. 055 1234567 o +39 055 1234567."
        ]
    email = values.get("office_email")
    if email and "office_email" not in errors and not _EMAIL.match(email):
        errors["office_email"] = [
            "Indirizzo di posta elettronica non valido (es. servizi.sociali@comune.it)."
        ]
    return errors


def office_values(given: dict) -> dict:
    """The office values given (KEEP ones left out), cleaned but not checked; a name that
    is not an office field is a programming error."""
    unknown = set(given) - set(OFFICE_FIELDS)
    if unknown:
        raise TypeError(f"not office contacts: {sorted(unknown)}")
    return {name: _clean(value) for name, value in given.items() if value is not KEEP}


def clean_office_values(given: dict) -> dict:
    """The office values given (KEEP ones left out), cleaned; raises ValidationFailed."""
    values = office_values(given)
    errors = office_errors(values)
    if errors:
        raise ValidationFailed("Contatti dell'ufficio non validi", errors=errors)
    return values


def apply_office_values(ente: Ente, values: dict) -> list[str]:
    """Set the cleaned values on the ente; the names of those that changed, sorted."""
    changed = sorted(name for name, value in values.items() if getattr(ente, name) != value)
    for name in changed:
        setattr(ente, name, values[name])
    return changed


def update_office_contacts(actor: Actor, ente: Ente | None, **given) -> Ente:
    """Set some of the office contacts; what is left out stays as it is, None or empty
    clears it. The change is audited by field name (the contacts are public anyway)."""
    if ente is None:
        raise NotFound("L'ente non è ancora stato configurato.")
    changed = apply_office_values(ente, clean_office_values(given))
    db.session.flush()
    if changed:
        audit.record(actor, "ente.office_updated", "ente", ente.id, fields=changed)
    return ente
