"""Notifications end to end: the events of a voucher's life become messages to the family,
delivered to a real SMTP server and to the local App IO stand-in, exactly once, in the
person's language, with no health detail in the subject."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests import factories as f
from tests.reports.world import Ledger, issue, make_provider
from voucher.extensions import db
from voucher.models import Ente, Notification
from voucher.notifications import channels, delivery, relay
from voucher.services import SYSTEM, clock, vouchers

TODAY = clock.today()


@pytest.fixture
def family(app):
    f.make_ente()
    ente = db.session.execute(select(Ente)).scalar_one()
    ente.office_phone, ente.office_hours = "055 1234567", "lun-ven 9-13"
    scheme = f.make_scheme(
        service_codes=["A1"],
        unit="HOUR",
        unit_price_cents=2_000,
        face_value_cents=10_000,
        valid_from=TODAY - timedelta(days=30),
        valid_until=TODAY + timedelta(days=200),
    )
    person = f.make_beneficiary(email="famiglia@example.it")
    provider = make_provider(TODAY.year - 1, services=("A1",))
    db.session.commit()
    return {"scheme": scheme, "person": person, "provider": provider}


def aware(moment: datetime) -> datetime:
    """SQLite gives back naive UTC times."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def relay_all() -> list[int]:
    made = relay.pump()
    db.session.commit()
    return made


def rows(**where) -> list[Notification]:
    query = select(Notification).order_by(Notification.id)
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
    return list(db.session.execute(query).scalars())


def test_each_event_reaches_the_family_once_by_email(app, family, smtp):
    voucher = issue(family["scheme"], family["person"], day=TODAY)
    ledger = Ledger()
    first = ledger.redeem(family["provider"], voucher, "A1", TODAY, quantity="1")
    ledger.reverse(first)
    made = relay_all()
    assert [r.kind for r in rows()] == ["issued", "redeemed", "reversed"]
    assert all(r.channel == "email" for r in rows())
    assert relay_all() == []  # the cursor moved: nothing twice

    for notification_id in made:
        assert delivery.deliver(notification_id) == "sent"
        assert delivery.deliver(notification_id) is None  # sent: never again
    assert len(smtp.messages) == 3
    issued, redeemed, reversed_ = smtp.messages
    assert issued["To"] == "famiglia@example.it"
    assert voucher.code in issued.get_content()
    # The redemption names date, provider and amount; the subject says nothing of the service.
    text = redeemed.get_content()
    assert TODAY.strftime("%d/%m/%Y") in text and family["provider"].name in text
    assert "20,00" in text and "055 1234567" in text
    assert redeemed["Subject"].startswith("Una prestazione registrata sul tuo buono")
    service = db.session.get(type(family["scheme"].services[0]), "A1")
    assert service.name_it not in redeemed["Subject"]
    assert "annullata" in reversed_.get_content()
    assert all(r.status == "sent" and r.sent_at is not None for r in rows())
    # One Message-ID per notification: a repeated attempt would be the same message.
    ids = {m["Message-ID"] for m in smtp.messages}
    assert len(ids) == 3


def test_english_when_the_person_chose_it_and_nothing_without_a_channel(app, family, smtp):
    family["person"].notify_language = "en"
    silent = f.make_beneficiary(email=None)
    db.session.commit()
    issue(family["scheme"], family["person"], day=TODAY)
    issue(family["scheme"], silent, day=TODAY)
    for notification_id in relay_all():
        delivery.deliver(notification_id)
    (message,) = smtp.messages
    assert message["Subject"].startswith("Your new service voucher")
    assert "valid until" in message.get_content()
    assert rows(beneficiary_id=silent.id) == []


def test_low_balance_expiry_and_revocation(app, family, smtp):
    voucher = issue(family["scheme"], family["person"], day=TODAY)
    Ledger().redeem(family["provider"], voucher, "A1", TODAY, quantity="4.5")  # 90 of 100 €
    relay_all()
    assert [r.kind for r in rows()] == ["issued", "redeemed", "low_balance"]
    vouchers.revoke_voucher(SYSTEM, voucher, "Trasferimento in altra regione")
    db.session.commit()
    relay_all()
    assert rows()[-1].kind == "revoked"

    other = issue(family["scheme"], f.make_beneficiary(email="altra@example.it"), day=TODAY)
    later = other.valid_until - timedelta(days=10)
    made = relay.expiring(today=later)
    assert len(made) == 1 and relay.expiring(today=later) == []  # once per voucher
    db.session.commit()
    (notice,) = rows(kind="expiring")
    assert notice.voucher_id == other.id and "scade" in notice.body


def test_an_smtp_failure_is_retried_with_backoff_then_sent(app, family, smtp):
    issue(family["scheme"], family["person"], day=TODAY)
    (notification_id,) = relay_all()
    port = app.config["SMTP_PORT"]
    app.config["SMTP_PORT"] = 1  # nothing listens there
    with pytest.raises(channels.Retry):
        delivery.deliver(notification_id)
    app.config["SMTP_PORT"] = port
    (row,) = rows()
    db.session.refresh(row)
    assert row.status == "pending" and row.attempts == 1 and row.last_error
    assert aware(row.next_attempt_at) > clock.now() + timedelta(seconds=20)
    assert delivery.deliver(notification_id) is None  # not due yet
    row.next_attempt_at = clock.now() - timedelta(seconds=1)
    db.session.commit()
    assert notification_id in delivery.due_ids()
    assert delivery.deliver(notification_id) == "sent"
    assert len(smtp.messages) == 1


def test_a_refused_address_is_skipped_not_retried(app, family, smtp):
    smtp.refuse.add("famiglia@example.it")
    issue(family["scheme"], family["person"], day=TODAY)
    (notification_id,) = relay_all()
    assert delivery.deliver(notification_id) == "skipped"
    assert "550" in rows()[0].last_error and delivery.due_ids() == []


def test_a_notification_abandoned_by_a_dead_worker_is_sent_after_its_lease(app, family, smtp):
    issue(family["scheme"], family["person"], day=TODAY)
    (notification_id,) = relay_all()
    row = rows()[0]
    row.status, row.lease_until = "sending", clock.now() + timedelta(minutes=1)
    db.session.commit()
    assert delivery.deliver(notification_id) is None  # another worker holds it
    row.lease_until = clock.now() - timedelta(seconds=1)
    db.session.commit()
    assert delivery.deliver(notification_id) == "sent"
    assert len(smtp.messages) == 1


# --- App IO ------------------------------------------------------------------------------


def test_io_messages_follow_the_published_rules(app, family, io):
    person = family["person"]
    person.email = None
    io.profiles[person.fiscal_code] = True
    db.session.commit()
    issue(family["scheme"], person, day=TODAY)
    (notification_id,) = relay_all()
    assert rows()[0].channel == "io"

    io.throttle, io.retry_after = 1, 7
    with pytest.raises(channels.Retry) as throttled:
        delivery.deliver(notification_id)
    assert throttled.value.after == 7  # IO's Retry-After, not our own backoff
    row = rows()[0]
    db.session.refresh(row)
    assert row.status == "pending" and "429" in row.last_error
    row.next_attempt_at = clock.now()
    db.session.commit()
    assert delivery.deliver(notification_id) == "sent"
    (message,) = io.messages
    assert message["fiscal_code"] == person.fiscal_code
    assert 10 <= len(message["subject"]) <= 120 and 80 <= len(message["markdown"]) <= 10_000
    db.session.refresh(row)
    assert row.external_id == message["id"]
    # The fiscal code travels in bodies only, never in a URL.
    assert all(person.fiscal_code not in path for _method, path in io.requests)


@pytest.mark.parametrize(
    ("profile", "expected"), [(None, "Nessun profilo IO"), (False, "non accetta messaggi")]
)
def test_io_skips_an_unknown_profile_and_a_service_the_person_disabled(
    app, family, io, profile, expected
):
    person = family["person"]
    person.email = None
    if profile is not None:
        io.profiles[person.fiscal_code] = profile
    db.session.commit()
    issue(family["scheme"], person, day=TODAY)
    (notification_id,) = relay_all()
    assert delivery.deliver(notification_id) == "skipped"
    assert expected in rows()[0].last_error and io.messages == []


def test_the_io_stand_in_enforces_the_key_and_the_message_limits(app, io):
    client = channels.IoClient(app.config["IO_API_URL"], "wrong-key")
    io.profiles["RSSMRA80A01H501U"] = True
    with pytest.raises(channels.Retry, match="401"):
        client.sender_allowed("RSSMRA80A01H501U")
    good = channels.IoClient(app.config["IO_API_URL"], io.key)
    assert good.sender_allowed("RSSMRA80A01H501U") is True
    with pytest.raises(channels.Skip, match="400"):
        good.submit("RSSMRA80A01H501U", "Breve", "x" * 100)  # subject under 10 characters
    with pytest.raises(channels.Skip, match="400"):
        good.submit("RSSMRA80A01H501U", "Un oggetto valido", "troppo corto")
    assert good.submit("RSSMRA80A01H501U", "Un oggetto valido", "x" * 80)


def test_every_message_fits_io_limits_in_both_languages(app, family):
    from voucher.notifications.compose import Facts, compose

    for kind in {*relay.KINDS.values(), "low_balance", "expiring"}:
        facts = Facts(
            kind=kind,
            voucher_code="BS-2026-ABCD-EFGH",
            balance_cents=1,
            valid_until=date(2026, 12, 31),
            ente_name="Ente",
            office="055 1",
            service_date=date(2026, 1, 2),
            provider_name="Coop",
            public_cents=100,
        )
        for language in ("it", "en"):
            message = compose(facts, language)
            assert 10 <= len(message.subject) <= 120, (kind, language)
            assert 80 <= len(message.body) <= 10_000, (kind, language)


def test_the_worker_relays_and_delivers_through_huey(app, family, smtp, runner):
    from voucher.notifications.queue import NotifyQueue, make_huey

    voucher = issue(family["scheme"], family["person"], day=TODAY)
    queue = NotifyQueue(app, make_huey(app, immediate=True))
    assert queue.tick() == 1  # the issue's e-mail, handed to Huey and sent at once
    assert len(smtp.messages) == 1 and rows()[0].status == "sent"
    assert queue.tick() == 0

    Ledger().redeem(family["provider"], voucher, "A1", TODAY, quantity="1")
    result = runner.invoke(args=["notify", "once"])
    assert result.exit_code == 0, result.output
    assert "inviate: 1" in result.output and len(smtp.messages) == 2
    status = runner.invoke(args=["notify", "status"])
    assert "email  sent     2" in status.output
