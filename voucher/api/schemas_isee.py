"""Request and response schemas of a beneficiary's ISEE records (personal data: staff only)."""

from marshmallow import Schema, fields, validate

from ..models import ISEE_TYPES
from .fields import Cents, Text, Timestamp


class IseeRecordInSchema(Schema):
    """A new ISEE record; the service checks the protocol's form and the dates."""

    type = fields.String(
        required=True,
        validate=validate.OneOf(
            ISEE_TYPES, error="Tipo di ISEE: ordinario, sociosanitario, minorenni o corrente."
        ),
    )
    value_cents = Cents(required=True)
    dsu_protocol = Text(100, required=True, metadata={"description": "INPS-ISEE-AAAA-NNNNNNNNN-NN"})
    dsu_date = fields.Date(required=True, metadata={"description": "Data di presentazione"})
    valid_until = fields.Date(required=True)


class IseeRecordSchema(Schema):
    id = fields.Integer(required=True)
    type = fields.String(required=True, metadata={"enum": list(ISEE_TYPES)})
    value_cents = fields.Integer(required=True)
    dsu_protocol = fields.String(
        allow_none=True, metadata={"description": "Assente sui record dal campo isee_cents"}
    )
    dsu_date = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    created_at = Timestamp(required=True)
