"""Beneficiaries: registration from the codice fiscale, edits, households, search."""

from datetime import date

from sqlalchemy import func, or_, select

from ..errors import DuplicateBeneficiary, NotFound, ValidationFailed
from ..extensions import db
from ..models import CATEGORIES, REPRESENTATIVE_ROLES, Beneficiary, Household
from . import Actor, audit
from .citizenship import ITALY, country
from .citizenship import normalise as normalise_citizenship
from .ente import residence_comune
from .identifiers import parse_fiscal_code
from .isee import reband_from_shortcut
from .wording import N_

# Residence may be any Italian Comune: whether it must be one of the ente's is a scheme's
# rule (residence_required), checked at issue.
UNKNOWN_COMUNE = N_("Il codice ISTAT non corrisponde ad alcun Comune italiano in vigore.")
UNKNOWN_CITIZENSHIP = (
    "Cittadinanza sconosciuta: indicare il codice ISO 3166-1 di due lettere dello Stato "
    "(ad esempio IT, AL, MA)."
)

SELF_REPRESENTED = N_("La persona non può essere rappresentante di sé stessa.")

EDITABLE = (
    "first_name",
    "last_name",
    "categories",
    "isee_cents",
    "isee_valid_until",
    "household_id",
    "phone",
    "email",
    "address",
    "citizenship",
    "representative_fiscal_code",
    "representative_role",
)


def _check(data: dict) -> None:
    errors: dict[str, list[str]] = {}
    bad = set(data.get("categories") or []) - set(CATEGORIES)
    if bad:
        errors["categories"] = [f"Categorie sconosciute: {', '.join(sorted(bad))}."]
    if "citizenship" in data and country(data["citizenship"]) is None:
        errors["citizenship"] = [UNKNOWN_CITIZENSHIP]
    if data.get("isee_cents") is not None and data["isee_cents"] < 0:
        errors["isee_cents"] = ["L'ISEE non può essere negativo."]
    for field in ("first_name", "last_name"):
        if field in data and not (data[field] or "").strip():
            errors[field] = ["Campo obbligatorio."]
    if (
        data.get("household_id") is not None
        and db.session.get(Household, data["household_id"]) is None
    ):
        errors["household_id"] = ["Nucleo familiare inesistente."]
    errors.update(_representative_errors(data))
    if errors:
        raise ValidationFailed(N_("Dati del beneficiario non validi"), errors=errors)


def _representative_errors(data: dict) -> dict[str, list[str]]:
    """A representative is named by a valid codice fiscale and a role, both or neither; the
    code is normalised in `data`."""
    if "representative_fiscal_code" not in data and "representative_role" not in data:
        return {}
    code = (data.get("representative_fiscal_code") or "").strip()
    role = data.get("representative_role") or None
    if not code and not role:
        data["representative_fiscal_code"] = data["representative_role"] = None
        return {}
    if not code:
        return {
            "representative_fiscal_code": [
                N_("Indicare il codice fiscale di chi rappresenta la persona.")
            ]
        }
    if role not in REPRESENTATIVE_ROLES:
        return {
            "representative_role": [
                N_(
                    "Indicare se chi rappresenta la persona è genitore, tutore, "
                    "amministratore di sostegno o curatore."
                )
            ]
        }
    try:
        data["representative_fiscal_code"] = parse_fiscal_code(code).code
    except ValidationFailed:
        return {
            "representative_fiscal_code": [
                N_("Il codice fiscale di chi rappresenta la persona non è valido.")
            ]
        }
    data["representative_role"] = role
    return {}


def register_beneficiary(
    actor: Actor,
    *,
    fiscal_code: str,
    first_name: str,
    last_name: str,
    comune_istat: str,
    categories: list[str] | None = None,
    isee_cents: int | None = None,
    isee_valid_until: date | None = None,
    household_id: int | None = None,
    phone: str | None = None,
    email: str | None = None,
    address: str | None = None,
    citizenship: str = ITALY,
    representative_fiscal_code: str | None = None,
    representative_role: str | None = None,
) -> Beneficiary:
    """Register a person; birth date and sex come from the codice fiscale; citizenship is
    an ISO 3166-1 alpha-2 code (Italian unless told otherwise)."""
    cf = parse_fiscal_code(fiscal_code)
    comune = residence_comune(comune_istat or "")
    data = dict(
        first_name=first_name,
        last_name=last_name,
        categories=categories or [],
        isee_cents=isee_cents,
        household_id=household_id,
        citizenship=citizenship,
        representative_fiscal_code=representative_fiscal_code,
        representative_role=representative_role,
    )
    _check(data)
    if comune is None:
        raise ValidationFailed(errors={"comune_istat": [UNKNOWN_COMUNE]})
    if db.session.execute(select(Beneficiary.id).where(Beneficiary.fiscal_code == cf.code)).first():
        raise DuplicateBeneficiary(
            N_("Un beneficiario con questo codice fiscale è già registrato.")
        )
    person = Beneficiary(
        fiscal_code=cf.code,
        birth_date=cf.birth_date,
        sex=cf.sex,
        comune_id=comune.id,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        categories=list(dict.fromkeys(categories or [])),
        isee_cents=isee_cents,
        isee_valid_until=isee_valid_until,
        household_id=household_id,
        phone=phone,
        email=email,
        address=address,
        citizenship=normalise_citizenship(citizenship),
        representative_fiscal_code=data["representative_fiscal_code"],
        representative_role=data["representative_role"],
    )
    if person.representative_fiscal_code == cf.code:
        raise ValidationFailed(errors={"representative_fiscal_code": [SELF_REPRESENTED]})
    db.session.add(person)
    db.session.flush()
    audit.record(actor, "beneficiary.registered", "beneficiary", person.id)
    return person


def update_beneficiary(actor: Actor, person: Beneficiary, **changes) -> Beneficiary:
    """Edit a beneficiary; the audit names the fields changed, never their values."""
    changes = {k: v for k, v in changes.items() if k in EDITABLE or k == "comune_istat"}
    _check(changes)
    if changes.get("representative_fiscal_code") == person.fiscal_code:
        raise ValidationFailed(errors={"representative_fiscal_code": [SELF_REPRESENTED]})
    if "citizenship" in changes:
        changes["citizenship"] = normalise_citizenship(changes["citizenship"])
    if "comune_istat" in changes:
        comune = residence_comune(changes.pop("comune_istat") or "")
        if comune is None:
            raise ValidationFailed(errors={"comune_istat": [UNKNOWN_COMUNE]})
        changes["comune_id"] = comune.id  # set below, and audited if it differs
    changed = []
    for key, value in changes.items():
        if key == "categories":
            value = list(dict.fromkeys(value or []))
        if getattr(person, key) != value:
            setattr(person, key, value)
            changed.append(key)
    db.session.flush()
    if changed:
        audit.record(actor, "beneficiary.updated", "beneficiary", person.id, fields=changed)
    if person.isee_cents is not None and {"isee_cents", "isee_valid_until"} & set(changed):
        reband_from_shortcut(actor, person)  # the shortcut made an ordinario record
    return person


def create_household(actor: Actor, label: str) -> Household:
    """A new household (nucleo familiare) that beneficiaries can then join."""
    household = Household(label=label.strip())
    db.session.add(household)
    db.session.flush()
    audit.record(actor, "household.created", "household", household.id)
    return household


def get_beneficiary(beneficiary_id: int) -> Beneficiary:
    """The beneficiary, or NotFound."""
    person = db.session.get(Beneficiary, beneficiary_id)
    if person is None:
        raise NotFound(N_("Beneficiario non trovato."))
    return person


def find_by_fiscal_code(fiscal_code: str) -> Beneficiary | None:
    """The beneficiary with this codice fiscale (spaces and case ignored), if registered."""
    code = (fiscal_code or "").strip().upper()
    return db.session.execute(
        select(Beneficiary).where(Beneficiary.fiscal_code == code)
    ).scalar_one_or_none()


def search_beneficiaries(text: str, limit: int = 50) -> list[Beneficiary]:
    """By codice fiscale (exact or prefix) or by name."""
    text = (text or "").strip()
    if not text:
        return []
    like = f"%{text.lower()}%"
    full = func.lower(Beneficiary.first_name + " " + Beneficiary.last_name)
    reverse = func.lower(Beneficiary.last_name + " " + Beneficiary.first_name)
    query = (
        select(Beneficiary)
        .where(
            or_(
                Beneficiary.fiscal_code.startswith(text.upper()),
                full.like(like),
                reverse.like(like),
            )
        )
        .order_by(Beneficiary.last_name, Beneficiary.first_name)
        .limit(limit)
    )
    return list(db.session.execute(query).scalars())
