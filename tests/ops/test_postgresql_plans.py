"""PostgreSQL runs the statements a connection repeats as server-side prepared statements,
except those that move the audit chain's head: a prepared statement keeps its generic plan
for the connection's life, and the head is one row whose dead versions pile up between
vacuums, so a plan made while its table was one page would read ever more pages, under
the chain's lock."""

from datetime import date

import pytest
import sqlalchemy as sa

from tests import factories as f
from tests.conftest import make_app
from tests.services.world import provider_actor
from voucher.extensions import db
from voucher.services import SYSTEM, audit, redemption, vouchers

pytestmark = pytest.mark.postgres_only


def test_repeated_statements_are_prepared_but_never_those_moving_the_chain(postgres_url, tmp_path):
    app = make_app(postgres_url, tmp_path)
    with app.app_context():
        f.make_ente()
        scheme = f.make_scheme(unit="EUR", unit_price_cents=None)
        provider = f.make_provider()
        voucher, _pin = vouchers.issue_voucher(SYSTEM, scheme, f.make_beneficiary())
        db.session.commit()
        day = max(date.today(), scheme.valid_from)
        for n in range(10):  # psycopg prepares a statement from its sixth run
            audit.record(SYSTEM, "note.added", "note", n)
            db.session.commit()
            request = redemption.RedemptionRequest(voucher.code, "A1", day, amount_cents=100)
            redemption.redeem(provider_actor(provider), provider.id, request, f"k-{n}", day=day)
            db.session.commit()
        prepared = list(
            db.session.execute(sa.text("SELECT statement FROM pg_prepared_statements")).scalars()
        )
        assert any("FOR UPDATE OF voucher" in statement for statement in prepared), prepared
        assert not [s for s in prepared if "audit_chain" in s]
        assert audit.verify_chain().ok
        db.session.rollback()
