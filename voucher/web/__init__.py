"""Server-rendered pages: one blueprint per audience."""

from flask import Flask

# Each module defines `bp`, a flask.Blueprint.
BLUEPRINTS = (
    "main",
    "auth",
    "admin",  # the ente's admin: ente, schemes, providers, users
    "social",  # social workers: beneficiaries, vouchers, bulk issuance
    "provider",  # provider operators: scan, redeem, history
    "beneficiary",  # self-service with code and PIN
    "citizen",  # SPID and CIE sign-in, and the personal area
    "reports",  # finance office and auditors
    "health",  # GET /health for load balancers and monitoring
)


def register_web(app: Flask) -> None:
    from importlib import import_module

    from . import assets, context, security

    assets.init_app(app)
    security.init_app(app)
    context.init_app(app)
    for name in BLUEPRINTS:
        module = import_module(f"{__name__}.{name}")
        app.register_blueprint(module.bp)
