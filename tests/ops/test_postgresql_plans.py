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
