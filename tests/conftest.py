"""Fixtures shared by every test: each test runs on SQLite and on PostgreSQL, inside one
transaction that is rolled back at the end (the application's commits become savepoints).

TEST_DATABASES chooses the backends (default "sqlite,postgresql"); TEST_POSTGRES_URL names
the server (default postgresql+psycopg://postgres@127.0.0.1:5432/test). A fresh database
is created on that server for the run and dropped afterwards.
"""

import os
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.orm import scoped_session, sessionmaker

from voucher import create_app
from voucher.extensions import db, limiter

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = [
    b.strip() for b in os.environ.get("TEST_DATABASES", "sqlite,postgresql").split(",") if b.strip()
]


def _postgres_admin_engine():
    return sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)


def create_postgres_database(prefix: str = "voucher_test") -> str:
    """A new empty database on the test server; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = _postgres_admin_engine()
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    name = sa.make_url(url).database
    engine = _postgres_admin_engine()
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


# Applications a test built for itself, whose pools are closed when the test ends.
_built_apps: list = []


def make_app(url: str, instance_path, **overrides):
    """A testing application on `url`, migrated to the latest schema. Its connection pools
    are closed when the test ends, so no connection outlives it."""
    app = _build_app(url, instance_path, **overrides)
    _built_apps.append(app)
    return app


def _build_app(url: str, instance_path, **overrides):
    os.environ["VOUCHER_INSTANCE_PATH"] = str(instance_path)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, **overrides)
    with app.app_context():
        upgrade()
    return app


def dispose_app(app) -> None:
    """Close every pooled connection of `app`: its database's and its rate limiter's."""
    with app.app_context():
        db.session.remove()
        autocommit = app.extensions.get("voucher.autocommit_engine")
        if autocommit is not None:
            autocommit.dispose()
        for engine in db.engines.values():
            engine.dispose()
    # The limiter is one object for every application: its storage is the last enabled one's.
    storage = getattr(limiter, "_storage", None)
    if getattr(storage, "engine", None) is not None:
        storage.engine.dispose()


@pytest.fixture(autouse=True)
def _close_built_apps():
    """A pooled connection left to the garbage collector is closed by it during some later
    test, which then fails on the ResourceWarning."""
    yield
    while _built_apps:
        dispose_app(_built_apps.pop())


@pytest.fixture(scope="session")
def _apps(tmp_path_factory):
    apps, cleanups = {}, []
    for backend in BACKENDS:
        instance = tmp_path_factory.mktemp(f"instance-{backend}")
        if backend == "sqlite":
            url = f"sqlite:///{instance / 'test.sqlite3'}"
        elif backend == "postgresql":
            url = create_postgres_database()
            cleanups.append(url)
        else:
            raise pytest.UsageError(f"unknown backend {backend}")
        apps[backend] = _build_app(url, instance)
    yield apps
    for app in apps.values():
        dispose_app(app)
    for url in cleanups:
        drop_postgres_database(url)


class _TestSession(scoped_session):
    """The test's one session: requests made by the test client share it (and its
    transaction) instead of closing it at the end of each request."""

    def remove(self):
        pass


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def app(_apps, backend):
    """The application, with an app context pushed and a transaction rolled back after."""
    app = _apps[backend]
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = _TestSession(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        )
        try:
            yield app
        finally:
            db.session.close()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def postgres_url():
    """A fresh PostgreSQL database (migrated) for tests that commit for real from several
    connections: row locks and concurrency."""
    if "postgresql" not in BACKENDS:
        pytest.fail("this test needs PostgreSQL: add it to TEST_DATABASES")
    url = create_postgres_database("voucher_conc")
    yield url
    drop_postgres_database(url)
