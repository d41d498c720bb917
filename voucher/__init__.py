"""Buoni servizio per i servizi sociali: the Flask application."""

import logging
import os

from flask import Flask

from .boundary import VoucherFlask
from .resources import resource_dir

__version__ = "0.1.0"


def create_app(config_name: str | None = None, **overrides) -> Flask:
    """Build the application: a table of contents of register_* steps."""
    app = VoucherFlask(
        __name__,
        instance_relative_config=True,
        template_folder=resource_dir("templates"),
        static_folder=resource_dir("static"),
    )
    if os.environ.get("VOUCHER_INSTANCE_PATH"):
        app.instance_path = os.environ["VOUCHER_INSTANCE_PATH"]
    os.makedirs(app.instance_path, exist_ok=True)
    register_config(app, config_name, overrides)
    register_logging(app)
    register_extensions(app)
    register_signing_keys(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_cli(app)
    register_notifications(app)
    return app


def register_config(app: Flask, config_name: str | None, overrides: dict) -> None:
    from .config import CONFIGS

    name = config_name or os.environ.get("VOUCHER_ENV", "production")
    app.config.from_object(CONFIGS[name](app.instance_path))
    app.config.update(overrides)
    if app.config["RATELIMIT_STORAGE_URI"].startswith("voucher+db"):
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {"url": app.config["SQLALCHEMY_DATABASE_URI"]}
    if app.config.get("TRUSTED_PROXIES"):
        from .proxies import TrustedProxyFix

        app.wsgi_app = TrustedProxyFix(
            app.wsgi_app, app.config["TRUSTED_PROXIES"], app.config["FORWARDED_ALLOW_IPS"]
        )


def register_logging(app: Flask) -> None:
    from .logs import configure_logging

    configure_logging(app)


def register_extensions(app: Flask) -> None:
    from sqlalchemy.orm import Session

    from .db import configure_postgresql, configure_sqlite, remove_session_safely
    from .extensions import babel, csrf, db, limiter, login_manager, migrate
    from .services import audit
    from .web.i18n import select_locale

    db.init_app(app)
    remove_session_safely(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
        elif db.engine.dialect.driver == "psycopg":
            configure_postgresql(db.engine)
    audit.install(Session)
    migrate.init_app(app, db, directory=resource_dir("migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)


def register_signing_keys(app: Flask) -> None:
    from .documents.signing import KeyRing

    app.extensions["voucher.keyring"] = KeyRing.load(
        app.config["SIGNING_KEYS_DIR"], app.config.get("SIGNING_KEY_PEM")
    )


def register_blueprints(app: Flask) -> None:
    from .api import register_api
    from .web import register_web

    register_web(app)
    register_api(app)


def register_error_handlers(app: Flask) -> None:
    from .boundary import register_error_handlers as register
    from .web.errors import refuse_unstorable_input

    register(app)
    refuse_unstorable_input(app)


def register_notifications(app: Flask) -> None:
    """The background threads of the embedded default: notifications and the audit chain's
    sequencer (each off when its worker runs apart)."""
    from .notifications.queue import install
    from .services import audit_sequencer

    install(app)
    audit_sequencer.install(app)


def register_cli(app: Flask) -> None:
    from .cli import register_commands

    register_commands(app)


logging.getLogger(__name__).addHandler(logging.NullHandler())
