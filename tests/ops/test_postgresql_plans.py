"""PostgreSQL plans every statement afresh: no server-side prepared statements, whose
generic plans would outlive the growth of the tables they were made for (the audit chain's
head row, whose dead versions pile up between vacuums; the ledger, empty on a new
installation, where the redemption's idempotency-key lookup became a sequential scan)."""

import pytest
import sqlalchemy as sa

from tests.conftest import make_app
from tests.services.world import make_world
from voucher.extensions import db
from voucher.services import SYSTEM, audit, audit_verify

pytestmark = pytest.mark.postgres_only


def test_statements_run_many_times_are_never_prepared(postgres_url, tmp_path):
    app = make_app(postgres_url, tmp_path)
    with app.app_context():
        world = make_world()
        db.session.commit()
        for n in range(10):  # psycopg would prepare a statement from its sixth run
            audit.record(SYSTEM, "note.added", "note", n)
            db.session.commit()
            world.redeem(100, key=f"k-{n}")
        prepared = db.session.execute(sa.text("SELECT count(*) FROM pg_prepared_statements"))
        assert prepared.scalar_one() == 0
        assert audit_verify.verify_chain().ok
        db.session.rollback()


def _redemption_plan(connection, params: dict) -> str:
    """The plan the one-statement redemption runs with on the connections made for it,
    as a prepared statement (EXPLAIN EXECUTE shows the generic plan it keeps)."""
    from voucher.services.redemption_at_once import _ONE_STATEMENT

    names = list(params)
    sql = _ONE_STATEMENT.text
    for name in sorted(names, key=len, reverse=True):
        sql = sql.replace(f":{name}", f"${names.index(name) + 1}")
    connection.exec_driver_sql("DEALLOCATE ALL")
    connection.exec_driver_sql(f"PREPARE redeem AS {sql}")
    values = ", ".join("NULL" if value is None else f"'{value}'" for value in params.values())
    rows = connection.exec_driver_sql(f"EXPLAIN EXECUTE redeem({values})").scalars().all()
    return "\n".join(rows)


def test_the_one_statement_redemption_keeps_index_plans_from_an_empty_ledger_to_a_million_rows(
    postgres_url, tmp_path
):
    """Prepared while the ledger is empty and analysed, its kept plan is still right once
    the ledger holds a million rows: it never reads the ledger (the idempotency key is
    the unique index's own check, ON CONFLICT), and every other row it reads, it reads
    by an index."""
    from datetime import UTC, datetime

    from voucher.db import autocommit_engine
    from voucher.models import LedgerEntry

    app = make_app(postgres_url, tmp_path)
    with app.app_context():
        world = make_world()
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        params = {
            "voucher_code": world.voucher.code, "service": "A1", "service_date": "2026-06-15",
            "provider": world.provider.id, "api_key": None, "key": "k", "amount": 100,
            "quantity": None, "hours": None, "today": "2026-06-20",
            "created_at": datetime.now(UTC).isoformat(), "request_hash": "h",
            "user_id": None, "at": datetime.now(UTC).isoformat(), "actor_type": "api_key",
            "actor_id": None, "actor_label": "x",
        }  # fmt: skip
        with autocommit_engine().connect() as connection:
            empty = _redemption_plan(connection, params)
            db.session.execute(sa.text("SET session_replication_role = replica"))
            db.session.execute(
                sa.text(
                    "INSERT INTO ledger_entry (kind, voucher_id, provider_id, service_code, "
                    "service_date, amount_cents, public_cents, copay_cents, "
                    "balance_after_cents, idempotency_key, created_at, comune_id) "
                    "SELECT 'redemption', :voucher, :provider, 'A1', DATE '2026-06-15', 1, 1, "
                    "0, 1, 'bulk-' || n, now(), :comune FROM generate_series(1, 1000000) n"
                ),
                {
                    "voucher": world.voucher.id,
                    "provider": world.provider.id,
                    "comune": world.voucher.comune_id,
                },
            )
            db.session.commit()
            count = db.session.execute(sa.select(sa.func.count(LedgerEntry.id))).scalar_one()
            assert count >= 1_000_000
            grown = (
                connection.exec_driver_sql(
                    "EXPLAIN EXECUTE redeem("
                    + ", ".join("NULL" if v is None else f"'{v}'" for v in params.values())
                    + ")"
                )
                .scalars()
                .all()
            )
            grown = "\n".join(grown)
    for plan in (empty, grown):
        assert "Seq Scan" not in plan, plan
        assert "Conflict Arbiter Indexes: uq_ledger_entry_provider_id_idempotency_key" in plan
        scans = [line for line in plan.splitlines() if "Scan" in line and "ledger_entry" in line]
        assert scans == [], plan


def test_the_one_statement_is_prepared_afresh_every_period(monkeypatch):
    """A plan made on a brand-new database is replaced within PLAN_SECONDS."""
    from voucher.services import redemption_at_once

    monkeypatch.setattr(redemption_at_once.time, "monotonic", lambda: 10.0)
    first = redemption_at_once.planned_sql()
    monkeypatch.setattr(
        redemption_at_once.time, "monotonic", lambda: 10.0 + redemption_at_once.PLAN_SECONDS
    )
    second = redemption_at_once.planned_sql()
    assert first != second
    assert first.startswith(redemption_at_once._DRIVER_SQL)
    assert second.startswith(redemption_at_once._DRIVER_SQL)
