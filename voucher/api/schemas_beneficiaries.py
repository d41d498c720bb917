"""Request and response schemas of the beneficiaries API (special-category data: staff only)."""

from marshmallow import Schema, fields, validate

from ..models import CATEGORIES
from ..services.fiscal_match import person_mismatches
from .fields import MAX_INT, Cents, Text, Timestamp


def _categories(**kwargs):
    return fields.List(
        fields.String(validate=validate.OneOf(CATEGORIES)),
        validate=validate.Length(max=len(CATEGORIES)),
        **kwargs,
    )


class BeneficiaryUpdateSchema(Schema):
    """An edit: only the fields given change. The codice fiscale never changes."""

    first_name = Text(100)
    last_name = Text(100)
    comune_istat = Text(
        100, metadata={"description": "Comune di residenza (codice ISTAT), ovunque in Italia"}
    )
    categories = _categories()
    isee_cents = Cents(allow_none=True)
    isee_valid_until = fields.Date(allow_none=True)
    household_id = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1, max=MAX_INT)
    )
    phone = Text(40, allow_none=True)
    email = Text(254, allow_none=True, validate=validate.Email())
    address = Text(300, allow_none=True)
    citizenship = Text(
        100,
        metadata={
            "description": "Cittadinanza: codice ISO 3166-1 alpha-2 dello Stato (predefinito IT)",
            "example": "IT",
        },
    )


class BeneficiaryInSchema(BeneficiaryUpdateSchema):
    fiscal_code = Text(100, required=True, metadata={"description": "Codice fiscale personale"})
    first_name = Text(100, required=True)
    last_name = Text(100, required=True)
    comune_istat = Text(
        100,
        required=True,
        metadata={"description": "Comune di residenza (codice ISTAT), ovunque in Italia"},
    )
    categories = _categories(required=True)


class BeneficiarySchema(Schema):
    id = fields.Integer(required=True)
    fiscal_code = fields.String(required=True)
    first_name = fields.String(required=True)
    last_name = fields.String(required=True)
    birth_date = fields.Date(required=True, metadata={"description": "Dal codice fiscale"})
    sex = fields.String(
        required=True, metadata={"enum": ["M", "F"], "description": "Dal codice fiscale"}
    )
    comune_istat = fields.String(required=True, attribute="comune.istat_code")
    comune_name = fields.String(required=True, attribute="comune.name")
    categories = fields.List(fields.String(), required=True)
    isee_cents = fields.Integer(allow_none=True)
    isee_valid_until = fields.Date(allow_none=True)
    household_id = fields.Integer(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    citizenship = fields.String(
        required=True, metadata={"description": "Codice ISO 3166-1 alpha-2 (IT: italiana)"}
    )
    created_at = Timestamp(required=True)
    # Added in December 2026: read from the record each time, so it clears once the names
    # are corrected.
    warnings = fields.Function(
        person_mismatches,
        required=True,
        metadata={
            "type": "array",
            "items": {"type": "string"},
            "description": "Avvisi in italiano: il codice fiscale non corrisponde a cognome, "
            "nome o sesso (lettere del DM 23/12/1976). Vuoto quando tutto corrisponde. Non "
            "impedisce la registrazione: verificare i dati e correggerli con PATCH.",
        },
    )


class BeneficiarySearchSchema(Schema):
    """A look-up by codice fiscale, in the body of a POST (spaces and case ignored)."""

    fiscal_code = Text(100, required=True, metadata={"description": "Codice fiscale personale"})


class BeneficiaryQuerySchema(BeneficiarySearchSchema):
    """The same look-up in the query string: deprecated, a URL is logged everywhere."""
