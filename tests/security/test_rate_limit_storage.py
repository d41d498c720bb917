"""The database-backed rate-limit storage: counters shared by every worker."""

import time

import pytest
import sqlalchemy as sa
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from tests.conftest import BACKENDS, create_postgres_database, drop_postgres_database
from voucher.extensions import db
from voucher.models import RateLimitCounter


@pytest.fixture(params=BACKENDS)
def storage_url(request, tmp_path):
    """A database of its own with the counters table (committed for real)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'limits.sqlite3'}"
    else:
        url = create_postgres_database("voucher_limits")
    engine = sa.create_engine(url)
    RateLimitCounter.__table__.create(engine)
    engine.dispose()
    yield url
    if request.param == "postgresql":
        drop_postgres_database(url)


@pytest.fixture
def storage(storage_url):
    store = storage_from_string("voucher+db://", url=storage_url)
    yield store
    store.engine.dispose()


def test_two_storages_on_one_database_share_counters(storage_url, storage):
    """Two workers (two storage objects, two connection pools) see one count."""
    other = storage_from_string("voucher+db://", url=storage_url)
    limit = RateLimitItemPerMinute(3)
    first, second = FixedWindowRateLimiter(storage), FixedWindowRateLimiter(other)
    assert first.hit(limit, "balance", "10.0.0.1")
    assert second.hit(limit, "balance", "10.0.0.1")
    assert first.hit(limit, "balance", "10.0.0.1")
    assert not second.hit(limit, "balance", "10.0.0.1")
    assert first.hit(limit, "balance", "10.0.0.2")  # another address has its own window
    other.engine.dispose()


def test_window_restarts_after_expiry(storage):
    assert storage.incr("k", expiry=1) == 1
    assert storage.incr("k", expiry=1) == 2
    assert storage.get("k") == 2
    time.sleep(1.05)
    assert storage.get("k") == 0
    assert storage.incr("k", expiry=60) == 1
    assert storage.get_expiry("k") > time.time() + 50


def test_clear_and_purge(storage):
    storage.incr("a", expiry=60)
    storage.incr("b", expiry=0)
    storage.clear("a")
    assert storage.get("a") == 0
    assert storage.purge_expired() >= 1
    assert storage.check()


def test_app_uses_the_database_storage_by_default(app):
    assert app.config["RATELIMIT_STORAGE_URI"] == "voucher+db://"
    assert app.config["RATELIMIT_STORAGE_OPTIONS"]["url"] == str(
        db.engine.url.render_as_string(hide_password=False)
    )
