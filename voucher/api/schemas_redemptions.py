"""Redemption and ledger schemas."""

from marshmallow import Schema, ValidationError, fields, post_dump, validate, validates_schema

from .fields import MAX_INT, Cents, Id, Quantity, Reason, Text, Timestamp


class RedemptionRequestSchema(Schema):
    voucher = Text(
        2000,
        min_length=1,
        trim=False,
        required=True,
        metadata={"description": "Il codice del buono oppure l'intero `qr_payload` firmato."},
    )
    service_code = Text(8, min_length=1, trim=False, required=True)
    service_date = fields.Date(required=True)
    amount_cents = Cents(
        allow_none=True,
        validate=validate.Range(min=1, max=MAX_INT),
        metadata={"description": "Il costo della prestazione, in centesimi."},
    )
    quantity = Quantity(
        allow_none=True,
        metadata={"description": "Per le misure a unità: quante unità (es. 1.5 ore)."},
    )
    hours = Quantity(
        allow_none=True,
        metadata={
            "description": "Per le misure in euro, facoltativo: le ore di assistenza rese "
            "(contano nel rendiconto FSC)."
        },
    )

    @validates_schema
    def _amount_or_quantity(self, data, **kwargs):
        if (data.get("amount_cents") is None) == (data.get("quantity") is None):
            raise ValidationError(
                "Indicare l'importo (amount_cents) oppure la quantità (quantity), non entrambi.",
                "amount_cents",
            )


class RedemptionSchema(Schema):
    """A redemption just recorded (or replayed): the balance right after it."""

    id = fields.Integer(required=True)
    voucher_code = fields.String(required=True)
    service_code = fields.String(required=True)
    service_date = fields.Date(required=True)
    quantity = Quantity(allow_none=True)
    hours = Quantity(allow_none=True)
    amount_cents = fields.Integer(required=True)
    public_cents = fields.Integer(required=True)
    copay_cents = fields.Integer(required=True)
    balance_cents = fields.Integer(required=True, attribute="balance_after_cents")
    provider_id = fields.Integer()
    created_at = Timestamp()


class LedgerQuerySchema(Schema):
    voucher = fields.String(validate=validate.Length(min=1, max=100))
    provider_id = Id(strict=False)
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    after_id = fields.Integer(
        validate=validate.Range(min=0, max=MAX_INT),
        metadata={"description": "Solo le voci con id maggiore (pagina successiva)."},
    )
    limit = fields.Integer(validate=validate.Range(min=1, max=10_000), load_default=1000)


class LedgerEntrySchema(Schema):
    """One line of the ledger; a reversal carries negated amounts and the id it `reverses`."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    voucher_code = fields.Function(lambda e: e.voucher.code, required=True)
    provider_id = fields.Integer(required=True)
    service_code = fields.String(required=True)
    service_date = fields.Date(required=True)
    # Output only, and negated on a reversal: not the request's positive Quantity.
    quantity = fields.Float(allow_none=True)
    hours = fields.Float(allow_none=True)
    amount_cents = fields.Integer(required=True)
    public_cents = fields.Integer(required=True)
    copay_cents = fields.Integer(required=True)
    balance_after_cents = fields.Integer()
    # The Comune of competence on the service date: whose quota pays for the entry.
    comune_istat = fields.Function(lambda e: e.comune.istat_code, required=True)
    created_at = Timestamp(required=True)
    reverses = fields.Integer(attribute="reverses_id")
    reason = fields.String()

    @post_dump
    def _drop_empty(self, data, **kwargs):
        # `reverses` and `reason` belong to reversals only; `hours` to euro entries with hours.
        for key in ("reverses", "reason", "hours"):
            if data.get(key) is None:
                data.pop(key, None)
        return data


class ReversalRequestSchema(Schema):
    reason = Reason(required=True)
