"""A database server that drops every connection (a restart, a failover): the request that
meets a dead pooled connection is told to retry (503 and Retry-After), and the next one
works on fresh connections, with nothing written twice."""

import sqlalchemy as sa

from tests import factories as f
from tests.conftest import make_app
from voucher.extensions import db
from voucher.models import LedgerEntry
from voucher.services import SYSTEM, clock, issuance
from voucher.services.providers import create_api_key


def _drop_every_connection(url: str) -> int:
    """What a server restart does to the application's pool, without the restart."""
    name = sa.make_url(url).database
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        dropped = conn.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        ).scalar_one()
    engine.dispose()
    return dropped


def test_dropped_connections_cost_one_retry_and_no_double_spending(postgres_url, tmp_path):
    app = make_app(postgres_url, tmp_path)
    with app.app_context():
        f.make_ente()
        scheme = f.make_scheme(unit="EUR", unit_price_cents=None)
        provider = f.make_provider()
        voucher, _pin = issuance.issue_voucher(SYSTEM, scheme, f.make_beneficiary())
        key = create_api_key(SYSTEM, provider)
        db.session.commit()
        code, value = voucher.code, voucher.value_cents
        db.session.remove()

    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "visita-1"}
    body = {
        "voucher": code,
        "service_code": "A1",
        "service_date": clock.today().isoformat(),
        "amount_cents": 1_000,
    }
    assert client.get("/api/v1/redemptions", headers=headers).status_code == 200  # pooled

    assert _drop_every_connection(postgres_url) >= 1
    refused = client.post("/api/v1/redemptions", json=body, headers=headers)
    assert refused.status_code == 503
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert int(refused.headers["Retry-After"]) > 0

    retried = client.post("/api/v1/redemptions", json=body, headers=headers)
    assert retried.status_code == 201
    assert retried.headers["Idempotent-Replayed"] == "false"
    again = client.post("/api/v1/redemptions", json=body, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["balance_cents"] == value - 1_000
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count(LedgerEntry.id))).scalar_one() == 1
        db.session.remove()
        db.engine.dispose()


def test_a_connection_dropped_before_the_teardown_does_not_turn_the_answer_into_an_error(
    database_url, tmp_path, monkeypatch
):
    """A read-only request leaves its transaction for the teardown to roll back; when the
    database has dropped the connection by then, the answer already made still goes out,
    and the next request works on a fresh connection."""
    app = make_app(database_url, tmp_path / "app")
    client = app.test_client()
    with app.app_context():
        dialect = db.engine.dialect

    def dropped(_connection):
        raise dialect.loaded_dbapi.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(dialect, "do_rollback", dropped)
    monkeypatch.setattr(dialect, "is_disconnect", lambda *args, **kwargs: True)
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"
    monkeypatch.undo()
    assert client.get("/health").status_code == 200


def test_a_pooled_connection_the_database_dropped_gives_the_probe_its_503_then_recovers(
    postgres_url, tmp_path
):
    """A restart drops the pooled connections; the probe's first read fails on one. It must
    answer its own 503 (not an error page), and the next probe works on a fresh connection.
    A page drawn around the same loss is answered 503 too, never 500."""
    app = make_app(postgres_url, tmp_path / "app")
    client = app.test_client()
    assert client.get("/health").status_code == 200  # the pool now holds a connection
    assert _drop_every_connection(postgres_url) >= 1
    response = client.get("/health")
    assert response.status_code == 503
    assert response.get_json()["database"] == "error"
    assert client.get("/health").status_code == 200

    assert client.get("/").status_code == 200
    assert _drop_every_connection(postgres_url) >= 1
    page = client.get("/")
    assert page.status_code == 503
    assert "Servizio momentaneamente non disponibile" in page.get_data(as_text=True)
    assert client.get("/").status_code == 200
