"""PostgreSQL plans every statement afresh: no server-side prepared statements, whose
generic plans would outlive the growth of the tables they were made for (the audit chain's
head row, whose dead versions pile up between vacuums; the ledger, empty on a new
installation, where the redemption's idempotency-key lookup became a sequential scan)."""

from datetime import date

import pytest
import sqlalchemy as sa

from tests import factories as f
from tests.conftest import make_app
from tests.services.world import provider_actor
from voucher.extensions import db
from voucher.services import SYSTEM, audit, redemption, vouchers

pytestmark = pytest.mark.postgres_only


def test_statements_run_many_times_are_never_prepared(postgres_url, tmp_path):
    app = make_app(postgres_url, tmp_path)
    with app.app_context():
        f.make_ente()
        scheme = f.make_scheme(unit="EUR", unit_price_cents=None)
        provider = f.make_provider()
        voucher, _pin = vouchers.issue_voucher(SYSTEM, scheme, f.make_beneficiary())
        db.session.commit()
        day = max(date.today(), scheme.valid_from)
        for n in range(10):  # psycopg would prepare a statement from its sixth run
            audit.record(SYSTEM, "note.added", "note", n)
            db.session.commit()
            request = redemption.RedemptionRequest(voucher.code, "A1", day, amount_cents=100)
            redemption.redeem(provider_actor(provider), provider.id, request, f"k-{n}", day=day)
            db.session.commit()
        prepared = db.session.execute(sa.text("SELECT count(*) FROM pg_prepared_statements"))
        assert prepared.scalar_one() == 0
        assert audit.verify_chain().ok
        db.session.rollback()
