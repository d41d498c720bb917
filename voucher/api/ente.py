"""The ente and the Comuni it serves: the admin manages them, staff and auditors read."""

from flask_smorest import Blueprint
from marshmallow import Schema, fields, pre_dump, validate

from ..errors import NotFound
from ..services import ente as ente_service
from ..services import privacy
from .fields import ProblemSchema, Text
from .security import BEARER_SECURITY, current_actor, requires

blp = Blueprint("api_ente", __name__, description="Ente e Comuni serviti")


class ComuneInSchema(Schema):
    istat_code = Text(100, required=True, metadata={"description": "6 cifre, es. 048017"})
    belfiore_code = Text(100, required=True, metadata={"description": "4 caratteri, es. D612"})
    name = Text(120, metadata={"description": "Se omesso, il nome dell'elenco ISTAT"})


class EnteInSchema(Schema):
    name = Text(200, required=True)
    fiscal_code = Text(100, required=True, metadata={"description": "11 cifre"})
    belfiore_code = Text(
        100,
        allow_none=True,
        load_default=None,  # optional: an Ambito has no Belfiore code of its own
        metadata={
            "description": "Codice Belfiore del Comune sede legale: per un Comune il proprio, "
            "per un Ambito quello del Comune capofila (il flusso SIUSS lo richiede)"
        },
    )
    address = Text(300, allow_none=True)
    siuss_code = Text(
        100,
        allow_none=True,
        metadata={
            "description": "Codice ente assegnato dall'INPS per il SIUSS (fino a 16 caratteri); "
            "se omesso resta com'è. Senza, i flussi SIUSS non si generano"
        },
    )
    comuni = fields.List(
        fields.Nested(ComuneInSchema), required=True, validate=validate.Length(min=1, max=1000)
    )
    office_phone = Text(
        40,
        allow_none=True,
        metadata={
            "description": "Telefono dei servizi sociali che le famiglie chiamano (stampato "
            "sulla lettera e nei messaggi del saldo), es. 055 1234567. Se omesso resta "
            "com'è; null lo cancella. Così anche gli altri contatti dell'ufficio"
        },
    )
    office_email = Text(254, allow_none=True, metadata={"description": "E-mail dell'ufficio"})
    office_address = Text(
        300, allow_none=True, metadata={"description": "Indirizzo dell'ufficio, su una riga"}
    )
    office_hours = Text(
        300,
        allow_none=True,
        metadata={"description": "Orari di apertura, es. lunedì-venerdì 9-12, giovedì 15-17"},
    )


class EntePatchSchema(EnteInSchema):
    """A partial change: only the fields given change."""

    name = Text(200)
    fiscal_code = Text(100, metadata={"description": "11 cifre"})
    belfiore_code = Text(100, allow_none=True)
    comuni = fields.List(fields.Nested(ComuneInSchema), validate=validate.Length(min=1, max=1000))


class ComuneSchema(Schema):
    istat_code = fields.String(required=True)
    belfiore_code = fields.String(required=True)
    name = fields.String(required=True)
    province = fields.Method("_province", metadata={"description": "Sigla della provincia"})

    def _province(self, comune) -> str | None:
        official = ente_service.official_comune(comune.istat_code)
        return official.province if official else None


class PrivacySchema(Schema):
    """The privacy notice's contacts and the retention periods in force."""

    pec = fields.String(allow_none=True, metadata={"description": "PEC dell'ente (titolare)"})
    dpo_name = fields.String(
        allow_none=True, metadata={"description": "Responsabile della protezione dei dati"}
    )
    dpo_email = fields.String(allow_none=True)
    dpo_pec = fields.String(allow_none=True)
    retention_personal_years = fields.Integer(
        required=True,
        metadata={
            "description": "Anni dalla fine dell'ultimo buono dopo i quali i dati personali "
            "sono pseudonimizzati"
        },
    )
    retention_accounting_years = fields.Integer(
        required=True,
        metadata={"description": "Anni di conservazione delle scritture contabili (almeno 10)"},
    )
    retention_personal_years_default = fields.Integer(
        required=True, metadata={"description": "Il periodo della configurazione"}
    )
    retention_accounting_years_default = fields.Integer(required=True)
    letters_keep_days = fields.Integer(
        required=True,
        metadata={"description": "Giorni dopo i quali le lettere con i PIN sono cancellate"},
    )


class PrivacyPatchSchema(Schema):
    """A partial change: only the fields given change; null clears a contact, or brings a
    period back to the configuration's."""

    pec = Text(254, allow_none=True)
    dpo_name = Text(200, allow_none=True)
    dpo_email = Text(254, allow_none=True)
    dpo_pec = Text(254, allow_none=True)
    retention_personal_years = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(privacy.MIN_PERSONAL_YEARS, privacy.MAX_PERSONAL_YEARS),
    )
    retention_accounting_years = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(privacy.MIN_ACCOUNTING_YEARS, privacy.MAX_ACCOUNTING_YEARS),
    )


class EnteSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    fiscal_code = fields.String(required=True)
    belfiore_code = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    siuss_code = fields.String(
        allow_none=True, metadata={"description": "Codice ente SIUSS assegnato dall'INPS"}
    )
    comuni = fields.List(fields.Nested(ComuneSchema), required=True)
    office_phone = fields.String(
        allow_none=True,
        metadata={"description": "Contatti dei servizi sociali per le famiglie (lettera, saldo)"},
    )
    office_email = fields.String(allow_none=True)
    office_address = fields.String(allow_none=True)
    office_hours = fields.String(allow_none=True)
    privacy = fields.Nested(PrivacySchema, required=True)

    @pre_dump
    def _with_privacy(self, ente, **_kwargs):
        """The ente's own fields, and its privacy settings in force."""
        data = {name: getattr(ente, name) for name in self.fields if name != "privacy"}
        return {**data, "privacy": privacy.privacy_settings(ente)}


@blp.route("/ente")
@requires("ente.read")
@blp.response(200, EnteSchema)
@blp.alt_response(404, schema=ProblemSchema, description="Ente non ancora configurato")
@blp.doc(security=BEARER_SECURITY)
def get_ente():
    """The ente and the Comuni it serves."""
    ente = ente_service.get_ente()
    if ente is None:
        raise NotFound("L'ente non è ancora stato configurato.")
    return ente


@blp.route("/ente", methods=["PUT"])
@requires("ente.manage")
@blp.arguments(EnteInSchema)
@blp.response(200, EnteSchema)
@blp.doc(security=BEARER_SECURITY)
def put_ente(data):
    """Set the ente and its Comuni, checked against the official ISTAT list."""
    return ente_service.update_ente(current_actor(), **data)


@blp.route("/ente", methods=["PATCH"])
@requires("ente.manage")
@blp.arguments(EntePatchSchema)
@blp.response(200, EnteSchema)
@blp.alt_response(404, schema=ProblemSchema, description="Ente non ancora configurato")
@blp.doc(security=BEARER_SECURITY)
def patch_ente(data):
    """Change some of the ente's data (the SIUSS code, say); the rest stays as it is."""
    return ente_service.patch_ente(current_actor(), **data)


@blp.route("/ente/privacy")
@requires("ente.read")
@blp.response(200, PrivacySchema)
@blp.doc(security=BEARER_SECURITY)
def get_privacy():
    """The contacts of the privacy notice and the retention periods in force."""
    return privacy.privacy_settings()


@blp.route("/ente/privacy", methods=["PATCH"])
@requires("ente.manage")
@blp.arguments(PrivacyPatchSchema)
@blp.response(200, PrivacySchema)
@blp.alt_response(404, schema=ProblemSchema, description="Ente non ancora configurato")
@blp.doc(security=BEARER_SECURITY)
def patch_privacy(data):
    """Change the privacy settings; what is not given stays as it is."""
    return privacy.privacy_settings(privacy.update_privacy_settings(current_actor(), **data))
