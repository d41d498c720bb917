"""Reference data for any signed-in role: the service catalogue and the funds."""

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..services import catalogue
from .security import BEARER_SECURITY, requires

blp = Blueprint("api_reference", __name__, description="Catalogo dei servizi e fondi")


class ServiceSchema(Schema):
    code = fields.String(required=True)
    area = fields.String(required=True)
    name = fields.String(required=True, attribute="name_it")
    name_en = fields.String()
    unit = fields.String(required=True, attribute="default_unit")
    siuss_code = fields.String(allow_none=True)
    voucherable = fields.Boolean(
        required=True,
        metadata={"description": "Si acquista con un buono (P1 e P6 no: li rende l'ente)"},
    )


class FundSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True, attribute="name_it")
    name_en = fields.String()
    cup_required = fields.Boolean()


@blp.route("/services")
@requires("reference.read")
@blp.response(200, ServiceSchema(many=True))
@blp.doc(security=BEARER_SECURITY)
def list_services():
    """The catalogue: Table 4 services (areas A, B, C) and Fondo Povertà services (P)."""
    return catalogue.list_services()


@blp.route("/funds")
@requires("reference.read")
@blp.response(200, FundSchema(many=True))
@blp.doc(security=BEARER_SECURITY)
def list_funds():
    """The public funds that pay for schemes."""
    return catalogue.list_funds()
