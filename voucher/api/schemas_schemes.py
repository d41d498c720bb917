"""Request and response schemas of the schemes (misure) API."""

from marshmallow import Schema, ValidationError, fields, validate, validates

from ..models import CATEGORIES, ISEE_TYPES, UNITS
from .fields import Cents, Id, Reason, Text, Timestamp

STATUSES = ("draft", "active", "closed")


def _int(low: int, high: int, **kwargs):
    return fields.Integer(strict=True, validate=validate.Range(min=low, max=high), **kwargs)


def _service_codes(**kwargs):
    return fields.List(
        Text(20),
        validate=validate.Length(min=1, max=50),
        metadata={"description": "Servizi del catalogo, tutti della stessa area"},
        **kwargs,
    )


def _provider_ids(**kwargs):
    return fields.List(
        Id(),
        validate=validate.Length(max=500),
        metadata={
            "description": "I soli fornitori che accettano i buoni della misura, tra quelli "
            "accreditati per i suoi servizi; vuota: ogni fornitore accreditato"
        },
        **kwargs,
    )


def _categories(**kwargs):
    return fields.List(
        fields.String(validate=validate.OneOf(CATEGORIES)),
        validate=validate.Length(max=len(CATEGORIES)),
        metadata={"description": "Vuota: ogni categoria"},
        **kwargs,
    )


class CopayBandSchema(Schema):
    isee_max_cents = Cents(required=True)
    coverage_percent = _int(0, 100, required=True)


class SchemeFieldsSchema(Schema):
    """The fields a scheme is made of; every one optional, as in an edit."""

    name = Text(200)
    description = Text(2000, allow_none=True)
    fund_code = Text(32)
    year = _int(2000, 2100)
    cup = Text(100, allow_none=True, metadata={"description": "CUP di 15 caratteri"})
    service_codes = _service_codes()
    unit = fields.String(validate=validate.OneOf(UNITS))
    unit_price_cents = Cents(
        allow_none=True, metadata={"description": "Obbligatorio se unit non è EUR"}
    )
    face_value_cents = Cents()
    valid_from = fields.Date()
    valid_until = fields.Date()
    budget_cents = Cents(big=True)
    eligible_categories = _categories()
    min_age = _int(0, 130, allow_none=True)
    max_age = _int(0, 130, allow_none=True)
    isee_max_cents = Cents(allow_none=True)
    max_active_per_beneficiary = _int(1, 1000, allow_none=True)
    max_redemption_cents = Cents(allow_none=True)
    residence_required = fields.Boolean(
        metadata={"description": "Solo per chi risiede in un Comune dell'ente (predefinito: sì)"}
    )
    isee_type = fields.String(
        validate=validate.OneOf(ISEE_TYPES),
        metadata={"description": "Il tipo di ISEE che la misura legge (predefinito: ordinario)"},
    )
    isee_required = fields.Boolean(
        metadata={
            "description": "Senza ISEE valido il buono è rifiutato; altrimenti si applica "
            "l'ultima fascia (predefinito: no)"
        }
    )
    legal_model = fields.String(
        validate=validate.OneOf(("purchase", "contribution")),
        metadata={
            "description": "purchase: l'ente acquista il servizio e il fornitore gli fattura la "
            "quota pubblica; contribution: la famiglia acquista e l'ente paga il contributo per "
            "suo conto (predefinito: purchase). Solo purchase richiede la fattura"
        },
    )
    presa_in_carico = fields.Boolean(
        metadata={
            "description": "SIUSS: il servizio segue una presa in carico del servizio sociale "
            "(PresaCarico 1, altrimenti 2; predefinito: no)"
        }
    )
    copay_bands = fields.List(
        fields.Nested(CopayBandSchema),
        allow_none=True,
        validate=validate.Length(max=20),
        metadata={"description": "Fasce ISEE per soglia crescente: la prima che copre l'ISEE"},
    )

    @validates("copay_bands")
    def _bands_ordered(self, bands, **_kwargs) -> None:
        # The first band whose ceiling covers the ISEE applies: out of order, the list
        # would say something else than the ente meant.
        ceilings = [band.get("isee_max_cents") for band in bands or []]
        if None in ceilings:  # a band already refused on its own field
            return
        if any(later <= earlier for earlier, later in zip(ceilings, ceilings[1:], strict=False)):
            raise ValidationError("Le fasce vanno elencate per soglia ISEE strettamente crescente.")


class SchemeInSchema(SchemeFieldsSchema):
    """A new scheme: active at once unless `status` is `draft`."""

    name = Text(200, required=True)
    fund_code = Text(32, required=True)
    year = _int(2000, 2100, required=True)
    service_codes = _service_codes(required=True)
    unit = fields.String(required=True, validate=validate.OneOf(UNITS))
    face_value_cents = Cents(required=True)
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True)
    budget_cents = Cents(big=True, required=True)
    eligible_categories = _categories(required=True)
    status = fields.String(validate=validate.OneOf(("draft", "active")), load_default="active")
    provider_ids = _provider_ids(load_default=list)


class SchemeUpdateSchema(SchemeFieldsSchema):
    """An edit of a draft scheme: only the fields given change."""


class SchemeSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    description = fields.String(allow_none=True)
    fund_code = fields.String(required=True)
    year = fields.Integer(required=True)
    cup = fields.String(allow_none=True)
    area = fields.String(required=True)
    service_codes = fields.List(fields.String(), required=True)
    unit = fields.String(required=True)
    unit_price_cents = fields.Integer(allow_none=True)
    face_value_cents = fields.Integer(required=True)
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True)
    budget_cents = fields.Integer(required=True)
    eligible_categories = fields.List(fields.String(), required=True)
    min_age = fields.Integer(allow_none=True)
    max_age = fields.Integer(allow_none=True)
    isee_max_cents = fields.Integer(allow_none=True)
    max_active_per_beneficiary = fields.Integer(allow_none=True)
    max_redemption_cents = fields.Integer(allow_none=True)
    residence_required = fields.Boolean(required=True)
    isee_type = fields.String(required=True, metadata={"enum": list(ISEE_TYPES)})
    isee_required = fields.Boolean(required=True)
    presa_in_carico = fields.Boolean(required=True)
    legal_model = fields.String(required=True, metadata={"enum": ["purchase", "contribution"]})
    copay_bands = fields.List(fields.Nested(CopayBandSchema), required=True)
    provider_ids = _provider_ids(required=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    created_at = Timestamp(required=True)
    committed_cents = fields.Integer(
        required=True,
        metadata={"description": "Valore dei buoni speso o ancora spendibile"},
    )
    redeemed_cents = fields.Integer(
        required=True, metadata={"description": "Quote pubbliche riscattate, al netto degli storni"}
    )
    available_cents = fields.Integer(
        required=True, metadata={"description": "Budget meno impegnato"}
    )


class SchemeQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    # A query string is text: "2026" is read as a number here, unlike in a JSON body.
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))


class BudgetChangeSchema(Schema):
    """A new budget for an active scheme: any increase, a decrease down to the committed."""

    budget_cents = Cents(big=True, required=True)
    reason = Reason(
        required=True, metadata={"description": "Ad esempio gli estremi della determina"}
    )


class ValidityExtensionSchema(Schema):
    """A later end of validity for an active scheme."""

    valid_until = fields.Date(required=True)
    reason = Reason(
        required=True, metadata={"description": "Ad esempio gli estremi della determina"}
    )
    extend_vouchers = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Proroga anche i buoni ancora validi che scadono con la misura; il "
            "loro qr_payload è firmato di nuovo: le lettere già stampate vanno ristampate"
        },
    )


class SchemeProvidersSchema(Schema):
    """The providers an existing scheme is limited to; an empty list opens it to all."""

    provider_ids = _provider_ids(required=True)
