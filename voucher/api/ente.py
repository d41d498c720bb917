"""The ente and the Comuni it serves: the admin manages them, staff and auditors read."""

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..errors import NotFound
from ..services import ente as ente_service
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
