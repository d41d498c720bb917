"""SIUSS flows for INPS (API WAAS-SIUSS-Alimentazione 2.0.1, mounted under /api/v1/siuss):
INPS collects the flows with `GET /flussi?since=&limit=` and reports how it processed them
with `POST /esiti`. The ente generates a month's flows and follows their outcomes."""

from flask import jsonify
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from ..models.statement import ESITO_CODES
from ..periods import Month
from ..services import siuss
from .fields import ProblemSchema, Text, Timestamp
from .problems import PROBLEM_TYPE
from .schemas_reports import ApproveSchema
from .security import BEARER_SECURITY, current_actor, requires

blp = Blueprint("api_siuss", __name__, description="SIUSS: flussi per INPS (WaaS) ed esiti")

MAX_SINCE = 2**63 - 1
PROBLEM = "application/problem+json"


@blp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


class FlussiQuerySchema(Schema):
    since = fields.Integer(
        required=True,
        validate=validate.Range(min=0, max=MAX_SINCE),
        metadata={"description": "Timestamp in millisecondi dell'ultimo flusso acquisito (0)"},
    )
    limit = fields.Integer(load_default=10, validate=validate.Range(min=0, max=100))


class FlussoSchema(Schema):
    codice_ente = fields.String(required=True)
    denominazione_ente = fields.String()
    id_flusso = fields.String(required=True)
    ts_flusso = fields.String(required=True, metadata={"format": "date-time"})
    tipo = fields.String(required=True, metadata={"enum": ["PS_PSA_SINA", "SINBA"]})
    flusso = fields.String(required=True, metadata={"format": "byte"})


class EntriesSchema(Schema):
    elenco_flussi = fields.List(fields.Nested(FlussoSchema), required=True)


class EsitoSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # the specification leaves EsitoFlusso open to more properties

    id_flusso = Text(64, required=True)
    tipo = fields.String(required=True, validate=validate.OneOf(["PS_PSA_SINA", "SINBA"]))
    ts_flusso = fields.AwareDateTime(required=True)
    ts_acquisizione = fields.AwareDateTime(required=True)
    codice_esito = fields.String(required=True, validate=validate.OneOf(ESITO_CODES))
    descrizione_esito = fields.String(allow_none=True, validate=validate.Length(max=2000))
    id_acquisizione_siuss = fields.String(allow_none=True, validate=validate.Length(max=64))


class ElencoEsitiSchema(Schema):
    elenco_esiti = fields.List(
        fields.Nested(EsitoSchema), required=True, validate=validate.Length(max=100)
    )


class GenerationSchema(Schema):
    period = fields.String(required=True)
    inserted = fields.Integer(required=True)
    cancelled = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    withheld_pseudonymised = fields.Integer(required=True)


class PeriodSchema(Schema):
    period = fields.String(required=True)
    flows = fields.Integer(required=True)
    inserted = fields.Integer()
    cancelled = fields.Integer()
    pending = fields.Integer(metadata={"description": "Flussi senza esito"})
    outcomes = fields.Dict(keys=fields.String(), values=fields.Integer())
    last_generated_at = Timestamp()


class OutcomeSchema(Schema):
    codice_esito = fields.String()
    descrizione_esito = fields.String(allow_none=True)
    id_acquisizione_siuss = fields.String(allow_none=True)
    ts_acquisizione = Timestamp()
    received_at = Timestamp()


class FlowSchema(Schema):
    id_flusso = fields.String()
    period = fields.String()
    operation = fields.String(metadata={"description": "I (inserimento) o C (cancellazione)"})
    voucher_code = fields.Function(lambda flow: flow.voucher.code)
    ts_flusso = fields.Function(lambda flow: siuss.ts_text(flow.ts_ms))
    amount_cents = fields.Integer()
    public_cents = fields.Integer()
    copay_cents = fields.Integer()
    outcome = fields.Function(
        lambda flow: OutcomeSchema().dump(siuss.latest_outcome(flow)) if flow.outcomes else None
    )


@blp.route("/siuss/flussi")
@requires("siuss.exchange")
@blp.arguments(FlussiQuerySchema, location="query")
@blp.response(200, EntriesSchema)
@blp.alt_response(409, schema=ProblemSchema, content_type=PROBLEM)
@blp.doc(security=BEARER_SECURITY, operationId="Flussi")
def flussi(args):
    """The flows updated after `since` (milliseconds), oldest first, at most `limit`; each
    carries its PS_PSA_SINA XML in base64. An empty list means nothing new."""
    return {"elenco_flussi": siuss.flows_since(args["since"], args["limit"])}


@blp.route("/siuss/esiti", methods=["POST"])
@requires("siuss.exchange")
@blp.arguments(ElencoEsitiSchema)
@blp.response(204)
@blp.doc(security=BEARER_SECURITY, operationId="NotificaEsiti")
def esiti(data):
    """INPS's outcomes for flows it collected; 204 once recorded (a repeated notification is
    recorded once). An unknown id_flusso makes the whole notification a 422."""
    siuss.record_outcomes(current_actor(), data["elenco_esiti"])


@blp.route("/siuss/status")
@blp.doc(
    operationId="healthCheck",
    responses={"200": {"description": "Il servizio funziona correttamente"}},
)
def status():
    """The health check of the specification, as problem+json."""
    response = jsonify({"status": 200, "title": "OK", "detail": "Servizio SIUSS disponibile."})
    response.mimetype = PROBLEM_TYPE
    return response


@blp.route("/siuss/periods", methods=["POST"])
@requires("siuss.manage")
@blp.arguments(ApproveSchema)
@blp.response(201, GenerationSchema)
@blp.alt_response(409, schema=ProblemSchema, content_type=PROBLEM)
@blp.doc(security=BEARER_SECURITY)
def generate(data):
    """Generate (or bring up to date) the flows of a concluded month: one flow per voucher
    with activity; a voucher whose figures changed since gets a cancelling flow and a new one."""
    summary = siuss.generate_flows(current_actor(), data["month"])
    return summary


@blp.route("/siuss/periods")
@requires("report.read")
@blp.response(200, PeriodSchema(many=True))
@blp.doc(security=BEARER_SECURITY)
def periods():
    """The generated months, with how many flows INPS has acknowledged and how."""
    return siuss.list_periods()


@blp.route("/siuss/periods/<string:month>/flows")
@requires("report.read")
@blp.response(200, FlowSchema(many=True))
@blp.doc(security=BEARER_SECURITY)
def period_flows(month: str):
    """A month's flows with their latest outcome (no personal data)."""
    return siuss.period_flows(Month.parse(month))
