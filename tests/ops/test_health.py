"""GET /health: the probe for load balancers and monitoring."""

from sqlalchemy import text

from voucher import __version__, create_app
from voucher.extensions import db, limiter


def test_healthy_database_and_current_schema(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "ok",
        "migrations": "current",
        "version": __version__,
    }
    assert response.headers["Cache-Control"] == "no-store"


def test_no_authentication_and_no_cookie(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_schema_behind_the_code_is_degraded(client):
    db.session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    response = client.get("/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["database"] == "ok"
    assert body["migrations"] == "behind"


def test_database_never_migrated_is_degraded(client):
    db.session.execute(text("DROP TABLE alembic_version"))
    response = client.get("/health")
    assert response.status_code == 503
    assert response.get_json()["migrations"] == "behind"


def test_unreachable_database(tmp_path, monkeypatch):
    monkeypatch.setenv("VOUCHER_INSTANCE_PATH", str(tmp_path))
    # Nothing listens on port 1: the connection is refused at once.
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://postgres@127.0.0.1:1/voucher",
        RATELIMIT_STORAGE_URI="memory://",
    )
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "degraded",
        "database": "error",
        "migrations": "behind",
        "version": __version__,
    }


def test_not_rate_limited(tmp_path, monkeypatch):
    """Probes come every few seconds: the limiter never counts them."""
    monkeypatch.setenv("VOUCHER_INSTANCE_PATH", str(tmp_path))
    # Flask-Limiter keeps `enabled` on its one extension object: put it back afterwards.
    monkeypatch.setattr(limiter, "enabled", limiter.enabled)
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'h.sqlite3'}",
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_ENABLED=True,
        RATELIMIT_DEFAULT="2 per minute",
    )
    client = app.test_client()
    assert [client.get("/accessibilita").status_code for _ in range(3)] == [200, 200, 429]
    statuses = {client.get("/health").status_code for _ in range(5)}
    assert 429 not in statuses
