"""Fixtures of the operations tests."""

import pytest

from tests.conftest import (
    create_postgres_database,
    dispose_app,
    drop_postgres_database,
    make_app,
)


@pytest.fixture
def database_url(backend, tmp_path):
    """A migrated database of the backend under test, which another process can open."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
        cleanup = None
    else:
        url = create_postgres_database("voucher_ops")
        cleanup = drop_postgres_database
    dispose_app(make_app(url, tmp_path / "migrate"))
    yield url
    if cleanup:
        cleanup(url)
