"""Schemas of the reports API: query parameters and the JSON of each report."""

from datetime import timedelta

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..periods import MAX_YEAR, MIN_YEAR
from ..reports.fsc import BASES
from .fields import MonthField, Text, Timestamp

FORMATS = ("json", "csv", "xlsx", "pdf")
MAX_SIUSS_DAYS = 366


def _year(**kwargs):
    return fields.Integer(
        required=True,
        validate=validate.Range(
            min=MIN_YEAR, max=MAX_YEAR, error=f"Anno tra {MIN_YEAR} e {MAX_YEAR}."
        ),
        metadata={"description": "Anno (AAAA)"},
        **kwargs,
    )


def _format():
    return fields.String(
        load_default="json",
        validate=validate.OneOf(FORMATS),
        metadata={"description": "json (predefinito), csv, xlsx o pdf"},
    )


class YearQuerySchema(Schema):
    year = _year()
    format = _format()


class FscQuerySchema(YearQuerySchema):
    basis = fields.String(
        load_default="cash",
        validate=validate.OneOf(BASES),
        metadata={
            "description": "cash (predefinito): prestazioni rese nell'anno; competence: buoni "
            "delle misure dell'anno e tutte le loro prestazioni"
        },
    )


class MonthQuerySchema(Schema):
    month = MonthField(required=True, metadata={"description": "Mese (AAAA-MM)"})
    format = _format()


class SiussQuerySchema(Schema):
    date_from = fields.Date(required=True, data_key="from", metadata={"description": "Dal"})
    date_to = fields.Date(required=True, data_key="to", metadata={"description": "Al"})

    @validates_schema
    def _period(self, data, **kwargs):
        start, end = data["date_from"], data["date_to"]
        if end < start:
            raise ValidationError("La data finale precede quella iniziale.", "to")
        if end - start >= timedelta(days=MAX_SIUSS_DAYS):
            raise ValidationError(f"Il periodo non può superare {MAX_SIUSS_DAYS} giorni.", "to")


class ApproveSchema(Schema):
    month = MonthField(required=True)


class PaidSchema(Schema):
    month = MonthField(required=True)
    reference = Text(100, required=True, metadata={"description": "Riferimento del mandato"})
    paid_on = fields.Date(required=True)


class _ReportSchema(Schema):
    ente_name = fields.String()
    ente_fiscal_code = fields.String()
    generated_at = Timestamp()


class FundRowSchema(Schema):
    fund_code = fields.String(required=True)
    fund_name = fields.String()
    scheme_id = fields.Integer(required=True)
    scheme_name = fields.String(required=True)
    cup = fields.String(allow_none=True)
    area = fields.String()
    status = fields.String()
    budget_cents = fields.Integer(required=True)
    vouchers = fields.Integer()
    committed_cents = fields.Integer(required=True)
    redeemed_cents = fields.Integer(required=True)
    expired_unused_cents = fields.Integer(required=True)
    residual_cents = fields.Integer()


class FundTotalsSchema(Schema):
    fund_code = fields.String()
    fund_name = fields.String()
    budget_cents = fields.Integer()
    vouchers = fields.Integer()
    committed_cents = fields.Integer()
    redeemed_cents = fields.Integer()
    expired_unused_cents = fields.Integer()
    residual_cents = fields.Integer()


class FundsReportSchema(_ReportSchema):
    year = fields.Integer(required=True)
    rows = fields.List(fields.Nested(FundRowSchema), required=True)
    funds = fields.List(fields.Nested(FundTotalsSchema))
    totals = fields.Nested(FundTotalsSchema)


class PovertyRowSchema(Schema):
    scheme_id = fields.Integer(required=True)
    scheme_name = fields.String(required=True)
    cup = fields.String(allow_none=True)
    annuality = fields.Integer(required=True)
    budget_cents = fields.Integer()
    vouchers = fields.Integer()
    committed_cents = fields.Integer(required=True, metadata={"description": "Impegnato"})
    redeemed_cents = fields.Integer(metadata={"description": "Rendicontato"})
    approved_cents = fields.Integer(metadata={"description": "Approvato, da liquidare"})
    paid_cents = fields.Integer(required=True, metadata={"description": "Liquidato"})
    residual_cents = fields.Integer()


class PovertyServiceSchema(Schema):
    service_code = fields.String()
    service_name = fields.String()
    redeemed_cents = fields.Integer()
    approved_cents = fields.Integer()
    paid_cents = fields.Integer()


class PovertyTotalsSchema(Schema):
    budget_cents = fields.Integer()
    vouchers = fields.Integer()
    committed_cents = fields.Integer()
    redeemed_cents = fields.Integer()
    approved_cents = fields.Integer()
    paid_cents = fields.Integer()
    residual_cents = fields.Integer()


class FondoPovertaReportSchema(_ReportSchema):
    year = fields.Integer(required=True)
    annuality = fields.Integer()
    rows = fields.List(fields.Nested(PovertyRowSchema), required=True)
    services = fields.List(fields.Nested(PovertyServiceSchema))
    totals = fields.Nested(PovertyTotalsSchema)


class FscRowSchema(Schema):
    comune_istat = fields.String(required=True)
    comune_name = fields.String()
    area = fields.String(required=True)
    beneficiaries = fields.Integer(required=True)
    vouchers = fields.Integer(required=True)
    committed_cents = fields.Integer(required=True)
    redeemed_cents = fields.Integer(required=True)
    copay_cents = fields.Integer()
    amount_cents = fields.Integer()
    hours = fields.Float(required=True)
    prior_year_beneficiaries = fields.Integer(required=True)
    prior_year_hours = fields.Float(required=True)
    user_groups = fields.Dict(keys=fields.String(), values=fields.Integer())


class FscTotalsSchema(Schema):
    beneficiaries = fields.Integer()
    vouchers = fields.Integer()
    committed_cents = fields.Integer()
    redeemed_cents = fields.Integer()
    copay_cents = fields.Integer()
    amount_cents = fields.Integer()
    hours = fields.Float()
    prior_year_beneficiaries = fields.Integer()
    prior_year_hours = fields.Float()
    user_groups = fields.Dict(keys=fields.String(), values=fields.Integer())


class FscReportSchema(_ReportSchema):
    year = fields.Integer(required=True)
    basis = fields.String(required=True, metadata={"description": "cash o competence"})
    rows = fields.List(fields.Nested(FscRowSchema), required=True)
    totals = fields.Nested(FscTotalsSchema)
    user_group_labels = fields.Dict(keys=fields.String(), values=fields.String())


class StatementSubtotalSchema(Schema):
    fund_code = fields.String(required=True)
    cup = fields.String(allow_none=True)
    comune_istat = fields.String(required=True)
    public_cents = fields.Integer(required=True)
    copay_cents = fields.Integer(required=True)
    purchase_cents = fields.Integer(
        metadata={
            "description": "Quota pubblica da fatturare: righe delle misure con legal_model "
            "purchase"
        }
    )


class InvoiceSchema(Schema):
    id = fields.Integer()
    number = fields.String(required=True)
    date = fields.Date(required=True)
    sdi_id = fields.String(allow_none=True)
    cup = fields.String(allow_none=True)
    document_type = fields.String()
    taxable_cents = fields.Integer()
    vat_cents = fields.Integer()
    total_cents = fields.Integer(required=True)
    vat_treatment = fields.String(metadata={"description": "Come la fattura tratta l'IVA"})
    uploaded_at = Timestamp()
    matches = fields.Boolean(
        metadata={"description": "Se corrisponde ancora al rendiconto com'è oggi"}
    )


class MatchedSubtotalSchema(Schema):
    fund_code = fields.String(allow_none=True)
    cup = fields.String(allow_none=True)
    comune_istat = fields.String(allow_none=True)
    public_cents = fields.Integer()
    copay_cents = fields.Integer()
    invoice_cents = fields.Integer(metadata={"description": "L'importo a cui è abbinata"})


class InvoiceRecordedSchema(InvoiceSchema):
    subtotal = fields.Nested(MatchedSubtotalSchema, required=True)


class InvoiceQuerySchema(Schema):
    month = MonthField(required=True)
    sdi_id = Text(20, metadata={"description": "Identificativo SdI, se noto"})


class ToInvoiceSchema(Schema):
    cup = fields.String(allow_none=True)
    cents = fields.Integer(required=True)
    invoiced = fields.Boolean(required=True)


class StatementLineSchema(Schema):
    entry_id = fields.Integer(required=True)
    date = fields.Date(required=True)
    kind = fields.String(required=True)
    voucher_code = fields.String(required=True)
    service_code = fields.String(required=True)
    service_name = fields.String()
    quantity = fields.Float(allow_none=True)
    amount_cents = fields.Integer(required=True)
    public_cents = fields.Integer(required=True)
    copay_cents = fields.Integer(required=True)
    reverses_id = fields.Integer(allow_none=True)
    fund_code = fields.String(required=True)
    cup = fields.String(allow_none=True)
    legal_model = fields.String(metadata={"enum": ["purchase", "contribution"]})
    comune_istat = fields.String(
        required=True, metadata={"description": "Comune di competenza alla data del servizio"}
    )
    carried_over = fields.Boolean(
        metadata={"description": "Voce di un mese già approvato, riportata in questo"}
    )
    cancelled_by_provider = fields.Boolean(
        metadata={"description": "Storno fatto dal fornitore il giorno stesso (annullamento)"}
    )
    created_at = Timestamp()


class StatementSchema(_ReportSchema):
    provider_id = fields.Integer(required=True)
    provider_name = fields.String()
    month = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "open, approved o paid"})
    lines = fields.List(fields.Nested(StatementLineSchema), required=True)
    subtotals = fields.List(
        fields.Nested(StatementSubtotalSchema),
        required=True,
        metadata={"description": "Per fondo, CUP e Comune di competenza; sommano ai totali"},
    )
    line_count = fields.Integer()
    total_amount_cents = fields.Integer()
    total_public_cents = fields.Integer(required=True)
    total_copay_cents = fields.Integer(required=True)
    approved_at = Timestamp(allow_none=True)
    paid_on = fields.Date(allow_none=True)
    payment_reference = fields.String(allow_none=True)
    legal_models = fields.List(fields.String())
    invoices = fields.List(fields.Nested(InvoiceSchema))
    to_invoice = fields.List(
        fields.Nested(ToInvoiceSchema),
        metadata={"description": "Importi da fatturare per CUP, e se una fattura corrisponde"},
    )
    blocked_reasons = fields.List(
        fields.String(),
        metadata={"description": "Cosa blocca oggi il pagamento (vuoto se si può pagare)"},
    )


# --- The liquidation proposal --------------------------------------------------------------


class LiquidationQuerySchema(MonthQuerySchema):
    fund_code = fields.String(
        validate=validate.Regexp(r"^[A-Z0-9_]{1,32}$", error="Codice non valido.")
    )
    cup = fields.String(validate=validate.Regexp(r"^[A-Z0-9]{15}$", error="CUP di 15 caratteri."))


class LiquidationComuneSchema(Schema):
    comune_istat = fields.String(required=True)
    comune_name = fields.String()
    public_cents = fields.Integer(required=True)
    copay_cents = fields.Integer(required=True)
    purchase_cents = fields.Integer(required=True)


class LiquidationRowSchema(Schema):
    fund_code = fields.String(required=True)
    cup = fields.String(allow_none=True)
    provider_id = fields.Integer(required=True)
    provider_name = fields.String(required=True)
    vat_number = fields.String(required=True)
    fiscal_code = fields.String(allow_none=True)
    iban = fields.String(allow_none=True)
    public_cents = fields.Integer(required=True, metadata={"description": "Da liquidare"})
    copay_cents = fields.Integer(required=True)
    purchase_cents = fields.Integer(required=True, metadata={"description": "Da fatturare"})
    comuni = fields.List(fields.Nested(LiquidationComuneSchema))
    invoices = fields.List(fields.Nested(InvoiceSchema), required=True)
    invoice_missing = fields.Boolean(required=True)
    state = fields.String(required=True, metadata={"enum": ["paid", "ready", "blocked"]})
    reasons = fields.List(fields.String(), required=True)
    payment_reference = fields.String(allow_none=True)
    paid_on = fields.Date(allow_none=True)


class LiquidationTotalsSchema(Schema):
    providers = fields.Integer(required=True)
    public_cents = fields.Integer(required=True)
    copay_cents = fields.Integer(required=True)
    purchase_cents = fields.Integer(required=True)
    paid_cents = fields.Integer(required=True)
    ready_cents = fields.Integer(required=True)
    blocked_cents = fields.Integer(required=True)


class LiquidationGroupSchema(Schema):
    fund_code = fields.String(required=True)
    fund_name = fields.String()
    cup = fields.String(allow_none=True)
    rows = fields.List(fields.Nested(LiquidationRowSchema), required=True)
    totals = fields.Nested(LiquidationTotalsSchema, required=True)


class LiquidationReportSchema(_ReportSchema):
    month = fields.String(required=True)
    fund_code = fields.String(allow_none=True)
    cup = fields.String(allow_none=True)
    payment_date = fields.Date()
    groups = fields.List(fields.Nested(LiquidationGroupSchema), required=True)
    totals = fields.Nested(LiquidationTotalsSchema, required=True)
