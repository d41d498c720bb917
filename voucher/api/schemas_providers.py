"""Request and response schemas of the providers API."""

from marshmallow import Schema, fields, validate

from .fields import Text, Timestamp


class AccreditationInSchema(Schema):
    service_code = Text(20, required=True, metadata={"description": "Codice del catalogo"})
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(allow_none=True)


class ProviderInSchema(Schema):
    name = Text(200, required=True)
    vat_number = Text(100, required=True, metadata={"description": "Partita IVA, 11 cifre"})
    email = Text(254, allow_none=True, validate=validate.Email())
    phone = Text(40, allow_none=True)
    address = Text(300, allow_none=True)
    accreditations = fields.List(
        fields.Nested(AccreditationInSchema),
        required=True,
        validate=validate.Length(max=200),
    )


class ProviderUpdateSchema(Schema):
    name = Text(200)
    email = Text(254, allow_none=True, validate=validate.Email())
    phone = Text(40, allow_none=True)
    address = Text(300, allow_none=True)
    fiscal_code = Text(
        20, allow_none=True, metadata={"description": "Codice fiscale: 11 cifre o 16 caratteri"}
    )
    iban = Text(
        40,
        allow_none=True,
        metadata={"description": "IBAN italiano, cifre di controllo verificate"},
    )
    durc_valid_until = fields.Date(
        allow_none=True, metadata={"description": "Scadenza del DURC in corso di validità"}
    )
    dedicated_account_declared = fields.Boolean(
        metadata={"description": "Dichiarazione del conto dedicato (L. 136/2010, tracciabilità)"}
    )


class SuspendSchema(Schema):
    reason = Text(500, allow_none=True)


class AccreditationEndSchema(Schema):
    valid_until = fields.Date(required=True)


class ApiKeyInSchema(Schema):
    label = Text(100, allow_none=True)


class AccreditationSchema(Schema):
    id = fields.Integer(required=True)
    service_code = fields.String(required=True)
    service_name = fields.String(attribute="service.name_it")
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(allow_none=True)


class ProviderSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    vat_number = fields.String(required=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={"enum": ["active", "suspended"]})
    created_at = Timestamp(required=True)
    accreditations = fields.List(fields.Nested(AccreditationSchema), required=True)
    # Payment data: the admin, the ragioneria and the provider itself (see voucher.api.providers).
    fiscal_code = fields.String(allow_none=True)
    iban = fields.String(allow_none=True)
    durc_valid_until = fields.Date(allow_none=True)
    dedicated_account_declared = fields.Boolean()


class DurcNoticeSchema(Schema):
    provider_id = fields.Integer(required=True)
    provider_name = fields.String(required=True)
    vat_number = fields.String(required=True)
    durc_valid_until = fields.Date(allow_none=True)
    days_left = fields.Integer(allow_none=True)
    state = fields.String(required=True, metadata={"enum": ["expired", "expiring", "missing"]})


class NewApiKeySchema(Schema):
    api_key = fields.String(
        required=True, metadata={"description": "Mostrata solo ora: se ne conserva l'impronta"}
    )
    id = fields.Integer(required=True)
    prefix = fields.String(required=True)
    label = fields.String(allow_none=True)


class ApiKeySchema(Schema):
    id = fields.Integer(required=True)
    prefix = fields.String(required=True)
    label = fields.String(allow_none=True)
    created_at = Timestamp(required=True)
    revoked_at = Timestamp(allow_none=True)
