"""The JSON API under /api/v1: marshmallow schemas, flask-smorest views, OpenAPI 3."""

# One module per resource; each defines `blp`, a flask_smorest.Blueprint.
RESOURCES = (
    "auth",
    "reference",
    "ente",
    "providers",
    "schemes",
    "beneficiaries",
    "isee",
    "vouchers",
    "redemptions",
    "balance",
    "reports",
    "siuss",
)


def register_api(app) -> None:
    """Mount every resource under /api/v1, with the OpenAPI document and bearer sign-in."""
    from importlib import import_module

    from flask import request

    from ..extensions import api, csrf
    from ..hooks import every_request
    from .security import load_actor

    api.init_app(
        app,
        spec_kwargs={
            "servers": [{"url": "/"}],
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
    )
    for name in RESOURCES:
        module = import_module(f"{__name__}.{name}")
        csrf.exempt(module.blp)  # bearer tokens, not cookies: no CSRF exposure
        api.register_blueprint(module.blp, url_prefix="/api/v1")
    # The busiest endpoint: its accepted case answered at once (voucher.api.redeem_at_once).
    from .redeem_at_once import in_front_of

    endpoint = "api_redemptions.create_redemption"
    app.view_functions[endpoint] = in_front_of(app.view_functions[endpoint])

    @app.before_request
    @every_request
    def _api_actor():
        if request.path.startswith("/api/"):
            load_actor()
