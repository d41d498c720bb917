"""POST /api/v1/auth/token: a bearer token for a user's username and password."""

from flask import current_app, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..extensions import limiter
from ..services import users

blp = Blueprint("api_auth", __name__, description="Autenticazione")


class TokenRequestSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class TokenSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True)


@blp.route("/auth/token", methods=["POST"])
@limiter.limit("30 per minute")
@blp.arguments(TokenRequestSchema)
@blp.response(200, TokenSchema)
def create_token(credentials):
    """A session token (expires after API_TOKEN_TTL, never renewed: a new one needs the
    password again); wrong credentials are 401, and too many from one address for one
    username 429 `locked`, known or not (the refusal keeps the failure count)."""
    user = users.authenticate(
        credentials["username"], credentials["password"], address=request.remote_addr
    )
    token, seconds = users.issue_token(user, current_app.config["API_TOKEN_TTL"])
    return {"access_token": token, "token_type": "Bearer", "expires_in": seconds}
