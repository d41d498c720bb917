"""Voucher schemas, one per audience: staff see the whole voucher, providers only what they
need at the door (no personal data beyond initials); the PIN appears only when it is made."""

import re
from datetime import UTC

from flask import url_for
from marshmallow import Schema, ValidationError, fields, validate

from ..services.vouchers import effective_status

# Ids are 32-bit integers in the database: a larger number can name nothing.
MAX_ID = 2**31 - 1
# Control characters, and lone surrogates (valid in JSON escapes, not in UTF-8 storage).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_SPACED_OFFSET = re.compile(r"([T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?) (\d{2}:?\d{2})$")
_ISO_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)


def Id(*, strict: bool = True, **kwargs):  # noqa: N802 - reads like a field class
    """A database id: a positive 32-bit integer (in a query string, written as text)."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def _no_control_characters(value: str) -> None:
    if _CONTROL.search(value):
        raise ValidationError("Il testo contiene caratteri non ammessi.")


def Text(max_length: int, *, min_length: int = 0, **kwargs):  # noqa: N802
    """Free text a person typed: bounded, without control characters."""
    return fields.String(
        validate=[validate.Length(min=min_length, max=max_length), _no_control_characters],
        **kwargs,
    )


def Reason(**kwargs):  # noqa: N802
    """Why staff did something: required, kept in the audit trail."""
    return fields.String(
        validate=[
            validate.Length(max=500),
            _no_control_characters,
            validate.Regexp(r"\S", error="Indicare il motivo."),
        ],
        **kwargs,
    )


class UtcDateTime(fields.DateTime):
    """A timestamp with its offset, always in UTC; SQLite hands back naive UTC values."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.isoformat()


class SinceField(fields.AwareDateTime):
    """An ISO 8601 timestamp in a query string; a bare '+' in the offset arrives as a
    space when the caller forgot to encode it, so it is put back. Naive means UTC."""

    def __init__(self, **kwargs):
        super().__init__(default_timezone=UTC, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        value = _SPACED_OFFSET.sub(r"\1+\2", value.strip())
        if not _ISO_TIMESTAMP.fullmatch(value):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        try:
            return super()._deserialize(value, attr, data, **kwargs).astimezone(UTC)
        except (OverflowError, ValueError):  # e.g. year 1 with a positive offset
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None


def pdf_url(voucher) -> str:
    return url_for("api_vouchers.voucher_pdf", code=voucher.code)


class IssueVoucherSchema(Schema):
    scheme_id = Id(required=True)
    beneficiary_id = Id(required=True)


class VoucherReasonSchema(Schema):
    reason = Reason(required=True)


class VoucherNoteSchema(Schema):
    """An optional note for the audit trail (suspend, reactivate, reset the PIN)."""

    reason = Text(500, load_default="")


class VoucherSchema(Schema):
    """The whole voucher, for staff (admin, social workers, auditors)."""

    code = fields.String(required=True)
    status = fields.Function(effective_status, required=True)
    value_cents = fields.Integer(required=True)
    balance_cents = fields.Integer(required=True)
    coverage_percent = fields.Integer(required=True)
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True)
    qr_payload = fields.String(required=True)
    pdf_url = fields.Function(pdf_url, required=True)
    scheme_id = fields.Integer(required=True)
    beneficiary_id = fields.Integer(required=True)
    scheme_name = fields.Function(lambda v: v.scheme.name)
    unit = fields.Function(lambda v: v.scheme.unit)
    unit_price_cents = fields.Function(lambda v: v.scheme.unit_price_cents)
    issued_at = UtcDateTime()
    batch_id = fields.Integer(allow_none=True)
    replaces = fields.Function(lambda v: v.replaces.code if v.replaces else None)
    revoked_at = UtcDateTime(allow_none=True)
    revoke_reason = fields.String(allow_none=True)
    pin_locked_until = UtcDateTime(allow_none=True)


class IssuedVoucherSchema(VoucherSchema):
    """A voucher just made (issued or replaced): the only time its PIN is shown."""

    pin = fields.String(required=True)


class ServiceRefSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True, attribute="name_it")


class ProviderVoucherSchema(Schema):
    """What a provider sees when a voucher is presented: no personal data but initials."""

    code = fields.String(required=True)
    status = fields.Function(effective_status, required=True)
    balance_cents = fields.Integer(required=True)
    value_cents = fields.Integer(required=True)
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True)
    scheme_name = fields.Function(lambda v: v.scheme.name, required=True)
    services = fields.Function(
        lambda v: ServiceRefSchema(many=True).dump(v.scheme.services), required=True
    )
    unit = fields.Function(lambda v: v.scheme.unit, required=True)
    unit_price_cents = fields.Function(lambda v: v.scheme.unit_price_cents)
    max_redemption_cents = fields.Function(lambda v: v.scheme.max_redemption_cents)
    coverage_percent = fields.Integer(required=True)
    beneficiary_initials = fields.Function(lambda v: v.beneficiary.initials, required=True)


class VoucherPinSchema(Schema):
    code = fields.String(required=True)
    pin = fields.String(required=True)


class JwkSchema(Schema):
    kty = fields.String(required=True)
    crv = fields.String(required=True)
    kid = fields.String(required=True)
    x = fields.String(required=True)
    use = fields.String()
    alg = fields.String()


class JwksSchema(Schema):
    keys = fields.List(fields.Nested(JwkSchema), required=True)


class RevocationsQuerySchema(Schema):
    since = SinceField()


class RevocationSchema(Schema):
    code = fields.String(required=True)
    revoked_at = UtcDateTime(required=True)


class RevocationsSchema(Schema):
    revoked = fields.List(fields.Nested(RevocationSchema), required=True)


def problem_responses(described: dict[int, str]) -> dict:
    """OpenAPI responses for the errors an operation answers, each with its contract codes."""
    from .fields import ProblemSchema

    return {
        str(status): {
            "description": description,
            "content": {"application/problem+json": {"schema": ProblemSchema}},
        }
        for status, description in described.items()
    }
