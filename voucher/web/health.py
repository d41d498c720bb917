"""GET /health: a cheap probe for load balancers and monitoring, without authentication.

It answers with the state of the database and of its schema, and nothing else: no
personal data, no configuration, no secrets.
"""

import logging

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .. import __version__
from ..db import abandon_transaction
from ..extensions import csrf, db, limiter

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)
# Probes come every few seconds from the same addresses and carry no session.
csrf.exempt(bp)
limiter.exempt(bp)

_HEADS = "voucher.migration_heads"


def migration_heads() -> frozenset[str]:
    """The head revisions of the migrations shipped with the code (read once per process)."""
    heads = current_app.extensions.get(_HEADS)
    if heads is None:
        config = AlembicConfig()
        config.set_main_option("script_location", current_app.extensions["migrate"].directory)
        heads = frozenset(ScriptDirectory.from_config(config).get_heads())
        current_app.extensions[_HEADS] = heads
    return heads


def _database_revisions() -> frozenset[str] | None:
    """The revisions recorded in the database, or None when it cannot be reached."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log.warning("health check: database unavailable (%s)", type(error).__name__)
        abandon_transaction()  # a dropped connection: the answer must not wait on it
        return None
    try:
        # A savepoint: a database never migrated has no alembic_version table, and on
        # PostgreSQL that error would otherwise abort the whole transaction.
        with db.session.begin_nested():
            rows = db.session.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:
        return frozenset()
    return frozenset(row[0] for row in rows)


@bp.route("/health")
def health():
    """200 when the database answers and its schema is current, 503 otherwise."""
    revisions = _database_revisions()
    database_ok = revisions is not None
    current = database_ok and revisions == migration_heads()
    body = {
        "status": "ok" if current else "degraded",
        "database": "ok" if database_ok else "error",
        "migrations": "current" if current else "behind",
        "version": __version__,
    }
    response = jsonify(body)
    response.status_code = 200 if current else 503
    response.headers["Cache-Control"] = "no-store"
    return response
