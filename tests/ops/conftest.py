"""Fixtures of the operations tests."""

import pytest

from tests.conftest import create_postgres_database, drop_postgres_database, make_app
from voucher.extensions import db


@pytest.fixture
def database_url(backend, tmp_path):
    """A migrated database of the backend under test, which another process can open."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
        cleanup = None
    else:
        url = create_postgres_database("voucher_ops")
        cleanup = drop_postgres_database
    app = make_app(url, tmp_path / "migrate")
    with app.app_context():
        db.engine.dispose()
    yield url
    if cleanup:
        cleanup(url)
