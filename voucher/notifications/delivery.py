"""Delivering one notification: claim it under a lease, send it, record the outcome. Each
step is its own short transaction, and the sending happens outside any (a slow SMTP or IO
server holds no lock)."""

import logging
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, text, update

from ..db import run_in_transaction
from ..extensions import db
from ..models import Beneficiary, Notification
from ..services import clock
from . import channels

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 30  # 30 s, 1 min, 2 min, 4 min … up to six hours
BACKOFF_MAX_SECONDS = 6 * 3600


def backoff(attempts: int) -> float:
    return min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))


def _due_clause(now):
    return or_(
        (Notification.status == "pending") & (Notification.next_attempt_at <= now),
        (Notification.status == "sending") & (Notification.lease_until < now),
    )


def _claim(notification_id: int):
    """Take the row if it is due (or its last worker's lease ran out); None otherwise."""
    now = clock.now()
    claimed = db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id, _due_clause(now))
        .values(status="sending", lease_until=now + LEASE, attempts=Notification.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return None
    row = db.session.get(Notification, notification_id, populate_existing=True)
    return _fields(row, row.beneficiary)


def _fields(row: Notification, person: Beneficiary) -> dict:
    """What sending a claimed row needs, read inside the claim's transaction."""
    return {
        "id": row.id,
        "channel": row.channel,
        "attempts": row.attempts,
        "subject": row.subject,
        "body": row.body,
        "language": row.language,
        "email": person.email if person.notify_email else None,
        "fiscal_code": person.fiscal_code,
        "allowed": person.pseudonymised_at is None
        and (person.notify_email if row.channel == "email" else person.notify_io),
    }


def _record(notification_id: int, attempts: int, **values) -> None:
    """The outcome of a send. On PostgreSQL its commit does not wait for the disk
    (synchronous_commit off, for this transaction only): a server crash in that instant
    can lose the record, and the message is then sent again with the same Message-ID,
    which at-least-once delivery allows; nothing else rides on this transaction."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL synchronous_commit = off"))
    db.session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.status == "sending",
            # Only the claim that sent it records: a worker whose lease ran out and whose
            # row another worker took since cannot overwrite that worker's outcome.
            Notification.attempts == attempts,
        )
        .values(lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )


class _Claimed:
    """The claimed row's fields, as the channels read them."""

    def __init__(self, fields: dict):
        self.__dict__.update(fields)


def deliver(notification_id: int, mailer: channels.Mailer | None = None) -> str | None:
    """Send one notification if it is due. Returns its new status, or None when another
    worker has it or it is not due. Raises channels.Retry after recording a retry, so that a
    task queue may schedule the next attempt (its `after` is the delay). A `mailer` keeps
    one SMTP connection across several deliveries."""
    claimed = run_in_transaction(lambda: _claim(notification_id))
    if claimed is None:
        return None
    return _send(_Claimed(claimed), mailer)


def _send(row: "_Claimed", mailer: channels.Mailer | None) -> str:
    """Send a claimed row and record the outcome in a transaction of its own."""
    try:
        if not row.allowed:
            raise channels.Skip("La persona ha disattivato questo canale")
        if row.channel == "email":
            if mailer is None:
                channels.send_email(row, row.email)
            else:
                mailer.send(row, row.email)
            external = None
        else:
            external = channels.send_io(row, row.fiscal_code)
    except channels.Skip as skip:
        why = str(skip)[:500]
        run_in_transaction(lambda: _record(row.id, row.attempts, status="skipped", last_error=why))
        return "skipped"
    except channels.Retry as retry:
        why = str(retry)[:500]
        if row.attempts >= MAX_ATTEMPTS:
            run_in_transaction(
                lambda: _record(row.id, row.attempts, status="failed", last_error=why)
            )
            log.warning("notification failed", extra={"notification": row.id})
            return "failed"
        delay = retry.after if retry.after is not None else backoff(row.attempts)
        later = clock.now() + timedelta(seconds=delay)
        run_in_transaction(
            lambda: _record(
                row.id, row.attempts, status="pending", next_attempt_at=later, last_error=why
            )
        )
        retry.after = delay
        raise
    now = clock.now()
    run_in_transaction(
        lambda: _record(
            row.id, row.attempts, status="sent", sent_at=now, external_id=external, last_error=None
        )
    )
    return "sent"


def _claim_many(notification_ids: list[int]) -> list[dict]:
    """Take every row of the chunk that is due, in one statement, and read what sending
    needs in one more (the claim of deliver(), for a chunk)."""
    now = clock.now()
    taken = db.session.execute(
        update(Notification)
        .where(Notification.id.in_(notification_ids), _due_clause(now))
        .values(status="sending", lease_until=now + LEASE, attempts=Notification.attempts + 1)
        .returning(Notification.id)
        .execution_options(synchronize_session=False)
    ).scalars()
    ids = sorted(taken)
    if not ids:
        return []
    rows = db.session.execute(
        select(Notification, Beneficiary)
        .join(Beneficiary, Beneficiary.id == Notification.beneficiary_id)
        .where(Notification.id.in_(ids))
        .order_by(Notification.id)
        .execution_options(populate_existing=True)
    )
    return [_fields(row, person) for row, person in rows]


def deliver_many(notification_ids: list[int]) -> dict[str, int]:
    """Deliver a chunk: claimed together, e-mails over one SMTP connection, each outcome
    recorded as soon as it is known (a crash repeats at most the message in flight)."""
    outcomes: dict[str, int] = {}
    claimed = run_in_transaction(lambda: _claim_many(notification_ids))
    outcomes["not_due"] = len(notification_ids) - len(claimed)
    claimed_at = time.monotonic()
    with channels.Mailer() as mailer:
        for index, fields in enumerate(claimed):
            if time.monotonic() - claimed_at > LEASE.total_seconds() / 2:
                # A slow server: give the rest back before the lease could run out and
                # another worker take rows this one still means to send.
                rest = [_Claimed(f) for f in claimed[index:]]
                run_in_transaction(lambda rest=rest: _release(rest))
                outcomes["released"] = len(rest)
                break
            try:
                outcome = _send(_Claimed(fields), mailer)
            except channels.Retry:
                outcome = "retry"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return {k: v for k, v in outcomes.items() if v}


def _release(rows: list) -> None:
    """Unclaim rows not sent: due again at once, the attempt not counted."""
    for row in rows:
        _record(row.id, row.attempts, status="pending", attempts=row.attempts - 1)


def due_ids(limit: int = 500) -> list[int]:
    """Rows due now: pending and ripe, or abandoned by a worker whose lease ran out."""
    return list(
        db.session.execute(
            select(Notification.id)
            .where(_due_clause(clock.now()))
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(limit)
        ).scalars()
    )


def enabled() -> bool:
    return bool(current_app.config.get("NOTIFY_ENABLED", True))
