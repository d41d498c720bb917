"""PostgreSQL plans every statement afresh: no server-side prepared statements, whose
generic plans would outlive the growth of the tables they were made for (the audit chain's
head row most of all, whose dead versions pile up between vacuums)."""

import pytest
import sqlalchemy as sa

from tests.conftest import make_app
from voucher.extensions import db
from voucher.services import SYSTEM, audit

pytestmark = pytest.mark.postgres_only


def test_statements_run_many_times_are_never_prepared(postgres_url, tmp_path):
    app = make_app(postgres_url, tmp_path)
    with app.app_context():
        for n in range(20):  # psycopg would prepare after 5 runs
            audit.record(SYSTEM, "note.added", "note", n)
            db.session.commit()
            db.session.execute(sa.text("SELECT count(*) FROM audit_event")).scalar_one()
        prepared = db.session.execute(sa.text("SELECT count(*) FROM pg_prepared_statements"))
        assert prepared.scalar_one() == 0
        assert audit.verify_chain().ok
        db.session.rollback()
        db.engine.dispose()
