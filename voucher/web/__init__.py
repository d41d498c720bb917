"""Server-rendered pages: one blueprint per audience."""

from flask import Flask

# Each module defines `bp`, a flask.Blueprint.
BLUEPRINTS = (
    "main",
    "auth",
)


def register_web(app: Flask) -> None:
    from importlib import import_module

    from . import errors, security

    security.init_app(app)
    errors.init_app(app)
    for name in BLUEPRINTS:
        app.register_blueprint(import_module(f"{__name__}.{name}").bp)
