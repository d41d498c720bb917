"""Migrations: from an empty database to the models and back, on both backends, and no
difference left between the models and the migrations (a model changed without its
migration fails here)."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from tests.conftest import create_postgres_database, drop_postgres_database
from voucher import create_app
from voucher.extensions import db
from voucher.services.catalogue import read_reference

APPEND_ONLY = ("ledger_entry", "audit_event")


@pytest.fixture
def empty_app(backend, tmp_path, monkeypatch):
    """An application on a brand-new, empty database of the backend under test."""
    if backend == "sqlite":
        url, cleanup = f"sqlite:///{tmp_path / 'fresh.sqlite3'}", None
    else:
        url = cleanup = create_postgres_database("voucher_migrations")
    monkeypatch.setenv("VOUCHER_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    try:
        with app.app_context():
            yield app
            db.session.remove()  # its connection back to the pool, then closed
            db.engine.dispose()
    finally:
        if cleanup:
            drop_postgres_database(cleanup)


def _tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


def _count(table: str) -> int:
    with db.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608


def _triggers() -> set[str]:
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            query = "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'"
        else:
            query = "SELECT tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal"
        return set(conn.execute(sa.text(query)).scalars())


def _differences(metadata) -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": False}
        )
        return compare_metadata(context, metadata)


def _assert_reference_data_loaded():
    assert _count("service") == 17
    assert _count("fund") == 9
    assert _count("siuss_prestazione") == len(read_reference("siuss_prestazioni.csv")) > 0


def test_upgrade_from_empty_matches_the_models_and_loads_reference_data(empty_app):
    assert _tables() == set()
    upgrade()
    assert _tables() == set(db.metadata.tables)
    _assert_reference_data_loaded()
    assert set(APPEND_ONLY) <= _triggers()
    assert _count("audit_event") == 0
    # autogenerate finds nothing to do: every model change has its migration
    assert _differences(db.metadata) == []
    # and it would notice a model changed without one
    changed = sa.MetaData(naming_convention=db.metadata.naming_convention)
    for table in db.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["voucher"].append_column(sa.Column("nickname", sa.String(40)))
    differences = _differences(changed)
    assert [d[0] for d in differences] == ["add_column"]
    assert differences[0][3].name == "nickname"


def test_downgrade_to_base_and_upgrade_again(empty_app):
    upgrade()
    downgrade(revision="base")
    assert _tables() == set()
    assert not set(APPEND_ONLY) & _triggers()
    upgrade()
    assert _tables() == set(db.metadata.tables)
    _assert_reference_data_loaded()
    assert set(APPEND_ONLY) <= _triggers()
    assert _differences(db.metadata) == []


def test_the_chain_head_is_built_from_an_existing_trail(empty_app):
    """A trail recorded before the head row existed: the migration that adds it starts it
    at the newest event, and the next event links to that one."""
    from voucher.models import AuditChain, AuditEvent
    from voucher.services import SYSTEM, audit, audit_verify

    upgrade()
    for n in range(3):
        audit.record(SYSTEM, "note.added", "note", n)
        db.session.commit()
    newest = db.session.execute(
        sa.select(AuditEvent.seq, AuditEvent.prev_hash, AuditEvent.hash)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).one()
    db.session.rollback()  # SQLite: no transaction of this session in the migrations' way
    downgrade(revision="0005")
    assert "audit_chain" not in _tables()
    upgrade()
    head = db.session.execute(sa.select(AuditChain.seq, AuditChain.prev_hash, AuditChain.hash))
    assert head.one() == tuple(newest) and newest.seq == 3
    db.session.rollback()
    audit.record(SYSTEM, "note.added", "note", 3)
    db.session.commit()
    report = audit_verify.verify_chain()
    assert report.ok and report.events == 4
