"""Voucher schemas, one per audience: staff see the whole voucher, providers only what they
need at the door (no personal data beyond initials); the PIN appears only when it is made."""

from flask import url_for
from marshmallow import Schema, fields

from ..services import clock, units
from ..services.coverage import coverage_on
from ..services.vouchers import effective_status
from .fields import ComputedQuantity, Id, Reason, SinceField, Text, Timestamp


def coverage_today(voucher) -> int:
    """The coverage in force today: an ISEE renewal may have changed it since issue."""
    return coverage_on(voucher, clock.today())


def pdf_url(voucher) -> str:
    """Where the API serves the voucher's printable letter."""
    return url_for("api_vouchers.voucher_pdf", code=voucher.code)


def _units_field(compute, what: str) -> ComputedQuantity:
    return ComputedQuantity(
        compute,
        metadata={
            "description": f"Per le misure a unità: le unità (es. ore) che {what} paga alla "
            "copertura di oggi, arrotondate per difetto; null per le misure in euro."
        },
    )


class IssueVoucherSchema(Schema):
    scheme_id = Id(required=True)
    beneficiary_id = Id(required=True)
    comune_istat = Text(
        6,
        load_default=None,
        metadata={
            "description": "Comune di competenza (uno dei Comuni dell'ente); per chi risiede "
            "nei Comuni dell'ente, la residenza se omesso"
        },
    )


class TransferVoucherSchema(Schema):
    """Move a voucher to another of the ente's Comuni from a date."""

    comune_istat = Text(6, required=True)
    from_date = fields.Date(required=True)
    reason = Text(500, trim=False, load_default=None)


class VoucherReasonSchema(Schema):
    reason = Reason(required=True)


class VoucherNoteSchema(Schema):
    """An optional note for the audit trail (suspend, reactivate, reset the PIN)."""

    reason = Text(500, trim=False, load_default="")


class VoucherSchema(Schema):
    """The whole voucher, for staff (admin, social workers, auditors)."""

    code = fields.String(required=True)
    status = fields.Function(effective_status, required=True)
    value_cents = fields.Integer(required=True)
    balance_cents = fields.Integer(required=True)
    value_units = _units_field(units.value_units, "il valore iniziale")
    balance_units = _units_field(units.voucher_units, "il saldo")
    coverage_percent = fields.Function(
        coverage_today,
        required=True,
        metadata={"type": "integer", "description": "La copertura in vigore oggi, in %"},
    )
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True)
    qr_payload = fields.String(required=True)
    pdf_url = fields.Function(pdf_url, required=True)
    scheme_id = fields.Integer(required=True)
    beneficiary_id = fields.Integer(required=True)
    comune_istat = fields.Function(lambda v: v.comune.istat_code, required=True)
    scheme_name = fields.Function(lambda v: v.scheme.name)
    unit = fields.Function(lambda v: v.scheme.unit)
    unit_price_cents = fields.Function(lambda v: v.scheme.unit_price_cents)
    issued_at = Timestamp()
    batch_id = fields.Integer(allow_none=True)
    replaces = fields.Function(lambda v: v.replaces.code if v.replaces else None)
    revoked_at = Timestamp(allow_none=True)
    revoke_reason = fields.String(allow_none=True)
    pin_locked_until = Timestamp(allow_none=True)


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
    balance_units = _units_field(units.voucher_units, "il saldo")
    value_units = _units_field(units.value_units, "il valore iniziale")
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True)
    scheme_name = fields.Function(lambda v: v.scheme.name, required=True)
    services = fields.Function(
        lambda v: ServiceRefSchema(many=True).dump(v.scheme.services), required=True
    )
    unit = fields.Function(lambda v: v.scheme.unit, required=True)
    unit_price_cents = fields.Function(lambda v: v.scheme.unit_price_cents)
    max_redemption_cents = fields.Function(lambda v: v.scheme.max_redemption_cents)
    coverage_percent = fields.Function(
        coverage_today,
        required=True,
        metadata={"type": "integer", "description": "La copertura in vigore oggi, in %"},
    )
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
    revoked_at = Timestamp(required=True)


class RevocationsSchema(Schema):
    revoked = fields.List(fields.Nested(RevocationSchema), required=True)
