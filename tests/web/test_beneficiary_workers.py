"""What several workers must agree on, for the self-service pages: a code locked through one
application instance is locked in another on the same database, and the per-address rate
limit on the form counts in the database."""

import os

import pytest

from tests import factories as f
from tests.conftest import make_app
from voucher.extensions import db, limiter
from voucher.services import SYSTEM, issuance, vouchers


def wrong_pin(pin: str) -> str:
    return f"{(int(pin) + 1) % 10**6:06d}"


def sign_in(client, code, pin, **kwargs):
    return client.post("/saldo", data={"code": code, "pin": pin}, **kwargs)


@pytest.fixture
def restore_extensions():
    """Flask-Limiter keeps `enabled` on its one extension object, and make_app points the
    instance folder of the process elsewhere: both are put back afterwards."""
    previous, instance = limiter.enabled, os.environ.get("VOUCHER_INSTANCE_PATH")
    apps = []
    yield apps
    limiter.enabled = previous
    if instance is not None:
        os.environ["VOUCHER_INSTANCE_PATH"] = instance
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def committed_url(request, tmp_path):
    """A database of its own, committed to for real by every application instance."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'workers.sqlite3'}"
    return request.getfixturevalue("postgres_url")


def test_a_lock_set_through_one_worker_refuses_through_another(
    committed_url, tmp_path, restore_extensions
):
    # Two workers of one deployment: the same database and the same instance folder (so the
    # same PIN pepper), each with its own engine and connections.
    first = make_app(committed_url, tmp_path / "instance")
    second = make_app(committed_url, tmp_path / "instance")
    restore_extensions.extend([first, second])
    with first.app_context():
        f.make_ente()
        scheme = f.make_scheme()
        voucher, pin = issuance.issue_voucher(SYSTEM, scheme, f.make_beneficiary())
        db.session.commit()
        code = voucher.code
        db.session.remove()
    one, two = first.test_client(), second.test_client()

    # Wrong PINs count across workers: three here and two there make five.
    for client in (one, one, one, two, two):
        assert "non sono corretti" in sign_in(client, code, wrong_pin(pin)).get_data(as_text=True)
    for client in (one, two):
        locked = sign_in(client, code, pin)
        assert locked.status_code == 429
        assert "bloccato per 15 minuti" in locked.get_data(as_text=True)

    # A reset through one worker lifts the lock for the other.
    with first.app_context():
        new_pin = vouchers.reset_pin(SYSTEM, vouchers.get_voucher(code))
        db.session.commit()
        db.session.remove()
    assert sign_in(two, code, new_pin).status_code == 303
    assert two.get("/saldo/buono").status_code == 200


def test_the_form_is_rate_limited_per_address(tmp_path, restore_extensions):
    app = make_app(
        f"sqlite:///{tmp_path / 'limits.sqlite3'}", tmp_path / "instance", RATELIMIT_ENABLED=True
    )
    restore_extensions.append(app)
    client = app.test_client()
    for _ in range(10):
        assert sign_in(client, "AAAA-BBBB-CCCC-DDDD", "123456").status_code == 200
    limited = sign_in(client, "AAAA-BBBB-CCCC-DDDD", "123456")
    html = limited.get_data(as_text=True)
    assert limited.status_code == 429 and "Troppi tentativi da questo collegamento" in html
    assert limited.headers["Cache-Control"] == "no-store" and "Retry-After" in limited.headers
    assert 'id="balance-form"' in html  # the form is still there, to try again later
    # Reading the page is not limited; another address is counted apart.
    assert client.get("/saldo").status_code == 200
    elsewhere = sign_in(
        client, "AAAA-BBBB-CCCC-DDDD", "123456", environ_base={"REMOTE_ADDR": "10.1.2.3"}
    )
    assert elsewhere.status_code == 200
    # A second worker on the same database sees the same counters.
    other = make_app(
        app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "instance", RATELIMIT_ENABLED=True
    )
    restore_extensions.append(other)
    assert sign_in(other.test_client(), "AAAA-BBBB-CCCC-DDDD", "123456").status_code == 429
