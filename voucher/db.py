"""Database set-up shared by every front door: SQLite pragmas, and the transaction boundary
(`run_in_transaction`) that alone commits, retries and turns lost races into domain errors."""

import hashlib
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from .errors import DomainError, error_for_constraint
from .extensions import db

log = logging.getLogger(__name__)
T = TypeVar("T")

# PostgreSQL: serialization_failure, deadlock_detected, lock_not_available.
_RETRYABLE_PG = {"40001", "40P01", "55P03"}


def configure_sqlite(engine: Engine) -> None:
    """SQLite has no row locks: every transaction takes the write lock at BEGIN
    (BEGIN IMMEDIATE), so check-and-write sequences are serialised."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below rule
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()
        # The audit chain's links are hashed in SQL (PostgreSQL has sha256() built in).
        dbapi_connection.create_function(SQLITE_SHA256_HEX, 1, _sha256_hex, deterministic=True)

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def configure_postgresql(engine: Engine) -> None:
    """No server-side prepared statements. psycopg prepares a statement once it has run a
    few times on a connection, and PostgreSQL may then keep the statement's generic plan
    for the connection's life: a plan made while a table was tiny stays a sequential scan
    after the table has grown. Two cases were measured: the audit chain's head, one row
    whose every update leaves a dead version behind until vacuum (a prepared append read
    more pages each time, under the chain's lock, and redemptions per second halved within
    a minute); and the ledger, empty on a new installation, where the redemption's
    idempotency-key lookup became a sequential scan of the whole ledger. Planned afresh,
    each statement follows the tables as they are; parsing afresh costs little (measured:
    no difference with prepared statements planned for each run)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.prepare_threshold = None


def _plans_that_stay_right(dbapi_connection, connection_record) -> None:
    """The autocommit engine runs one statement, prepared once per connection: its plan
    is made once (planning it afresh cost more than running it) and must stay right as
    the tables grow, whatever their size when it was made. Every lookup it makes has its
    index; with sequential scans off, the plan uses them on a tiny table as on a huge one
    (tests/ops/test_postgresql_plans.py checks it on a ledger of a million rows)."""
    # Prepared only when asked (execute(prepare=True)): None would refuse even that.
    dbapi_connection.prepare_threshold = 2**31 - 1
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET plan_cache_mode = force_generic_plan")
    dbapi_connection.commit()
    connection_record.info["prepare_statements"] = True


def autocommit_engine():
    """An engine of this application's database whose connections are in autocommit: each
    statement its own transaction (the one-statement redemption). Its own pool, so that no
    connection switches mode on every checkout; made on first use, in the process that
    uses it (after gunicorn's fork)."""
    from flask import current_app

    engine = current_app.extensions.get("voucher.autocommit_engine")
    if engine is None:
        base = db.engine
        engine = create_engine(
            base.url,
            isolation_level="AUTOCOMMIT",
            pool_recycle=1800,
            pool_size=2,
            max_overflow=10,
        )
        if engine.dialect.name == "postgresql":
            configure_postgresql(engine)
            event.listen(engine, "connect", _plans_that_stay_right)
        current_app.extensions["voucher.autocommit_engine"] = engine
    return engine


def remove_session_safely(app) -> None:
    """End each request's session without letting a dropped connection turn a finished
    answer into a server error.

    A request that only read leaves its transaction open for the teardown to roll back; if
    the database dropped the connection meanwhile (a restart, a failover), that rollback
    fails, and from a teardown the error would reach the WSGI server, which answers 500 in
    place of the answer already made. Nothing is lost by ignoring it: the server ended
    that transaction when it dropped the connection, and the pool replaces the connection.
    Registered after Flask-SQLAlchemy, so it runs first; Flask-SQLAlchemy's own teardown
    then finds no session left."""

    @app.teardown_appcontext
    def _remove_session(_error):
        try:
            db.session.remove()
        except DBAPIError as error:
            log.warning("session ended on a dropped connection: %s", type(error).__name__)
            db.session.registry.clear()


# SQLite's name for the hex SHA-256 of a text's UTF-8 bytes (PostgreSQL has sha256()).
SQLITE_SHA256_HEX = "voucher_sha256_hex"


def _sha256_hex(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()


def is_retryable(error: DBAPIError) -> bool:
    code = getattr(getattr(error, "orig", None), "sqlstate", None)
    if code in _RETRYABLE_PG:
        return True
    return isinstance(error, OperationalError) and "database is locked" in str(error.orig)


def is_idempotency_race(error: IntegrityError) -> bool:
    return "idempotency_key" in str(error.orig)


def domain_error_for(error: IntegrityError) -> DomainError | None:
    """The domain error a lost race on a unique value stands for (see CONSTRAINT_ERRORS)."""
    diag = getattr(error.orig, "diag", None)
    return error_for_constraint(str(error.orig), getattr(diag, "constraint_name", None))


def abandon_transaction() -> None:
    """End the current transaction without keeping anything: for a view that read around a
    connection the database dropped (the health probe) and must still answer; the boundary
    then has nothing left to commit on the dead connection."""
    try:
        db.session.rollback()
    except DBAPIError as error:
        log.warning("transaction ended on a dropped connection: %s", type(error).__name__)


def run_in_transaction(work: Callable[[], T], *, attempts: int = 5) -> T:
    """Run `work` and commit: the one commit path of every front door.

    A domain error rolls back and goes on to the caller (unless it keeps its work: a failed
    sign-in is committed, then refused). A deadlock, a serialisation failure or a lost race on
    an idempotency key rolls back and runs `work` again, which then sees the winner's row. A
    lost race on another unique value becomes the domain error the service would have raised
    had it seen the winner, so it reads the same on pages, API and command line."""
    for attempt in range(1, attempts + 1):
        try:
            result = work()
            db.session.commit()
            return result
        except DomainError as error:
            if error.keeps_work:
                db.session.commit()
            else:
                db.session.rollback()
            raise
        except IntegrityError as error:
            db.session.rollback()
            if attempt < attempts and is_idempotency_race(error):
                continue
            refusal = domain_error_for(error)
            if refusal is not None:
                raise refusal from None
            raise
        except DBAPIError as error:
            db.session.rollback()
            if attempt == attempts or not is_retryable(error):
                raise
            log.info("retrying transaction after %s", type(error.orig).__name__)
            time.sleep(0.01 * attempt)
        except BaseException:
            db.session.rollback()
            raise
    raise AssertionError("unreachable")
