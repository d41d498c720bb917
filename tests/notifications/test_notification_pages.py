"""Staff see what was sent to the families and what failed, within their reach."""

from datetime import timedelta

from sqlalchemy import select

from tests import factories as f
from tests.reports.world import issue
from voucher.extensions import db
from voucher.models import Comune, Notification
from voucher.notifications import delivery, relay
from voucher.services import SYSTEM, clock, reach

TODAY = clock.today()


def test_the_notifications_page_shows_sent_and_failed_within_reach(app, client, smtp):
    f.make_ente()
    scheme = f.make_scheme(
        valid_from=TODAY - timedelta(days=5), valid_until=TODAY + timedelta(days=100)
    )
    ours = f.make_beneficiary(email="nostra@example.it", last_name="Nostrani")
    theirs = f.make_beneficiary(email="loro@example.it", last_name="Lorenzini", comune=f.FIESOLE)
    smtp.refuse.add("loro@example.it")
    ours_voucher = issue(scheme, ours, day=TODAY)
    issue(scheme, theirs, day=TODAY)
    for notification_id in relay.pump():
        delivery.deliver(notification_id)
    db.session.commit()

    f.login(client, f.make_user("admin"))
    page = client.get("/servizi/notifiche").get_data(as_text=True)
    assert ours_voucher.code in page and "Inviata" in page and "Non inviata" in page
    assert "550" in page  # why it failed
    failed = client.get("/servizi/notifiche?stato=skipped").get_data(as_text=True)
    assert theirs.last_name in failed and ours.last_name not in failed

    worker = f.make_user("social_worker")
    firenze = db.session.execute(
        select(Comune).where(Comune.istat_code == f.FIRENZE["istat_code"])
    ).scalar_one()
    reach.set_team(SYSTEM, worker, [firenze.id])
    db.session.commit()
    client.post("/esci")
    f.login(client, worker)
    mine = client.get("/servizi/notifiche").get_data(as_text=True)
    assert ours.last_name in mine and theirs.last_name not in mine
    assert db.session.execute(select(Notification)).scalars().all()
