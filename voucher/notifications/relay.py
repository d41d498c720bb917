"""The relay: audit events that concern a family become notifications, one per channel,
exactly once (see the package's docstring)."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    AuditEvent,
    Beneficiary,
    LedgerEntry,
    Notification,
    NotificationCursor,
    Provider,
    Voucher,
)
from ..services import clock
from ..services.ente import get_ente
from .compose import Facts, compose

# The audit actions that concern the family, and the notification each becomes.
KINDS = {
    "voucher.issued": "issued",
    "voucher.redeemed": "redeemed",
    "voucher.redemption_reversed": "reversed",
    "voucher.revoked": "revoked",
}
EXPIRY_NOTICE_DAYS = 30
BATCH = 500


def _cursor() -> NotificationCursor:
    """The cursor's row, locked until commit: one relay at a time moves it."""
    query = select(NotificationCursor).where(NotificationCursor.id == 1).with_for_update()
    cursor = db.session.execute(query).scalar_one_or_none()
    if cursor is None:  # a database created from the models rather than the migrations
        cursor = NotificationCursor(id=1, last_seq=0)
        db.session.add(cursor)
        db.session.flush()
    return cursor


def channels_for(person: Beneficiary) -> list[str]:
    """The channels that may reach the person: e-mail when they gave an address and did
    not opt out; App IO when the ente has an IO service and the person did not opt out
    (IO itself says at delivery whether they accept messages from it)."""
    found = []
    if person.notify_email and person.email:
        found.append("email")
    if person.notify_io and current_app.config.get("IO_API_KEY"):
        found.append("io")
    return found


def office_text(ente) -> str:
    """How to reach the office, as a message says it."""
    parts = [p for p in (ente.office_phone, ente.office_hours) if p] if ente else []
    if ente and ente.office_email:
        parts.append(ente.office_email)
    return ", ".join(parts) if parts else (ente.name if ente else "")


def _balance_url() -> str | None:
    base = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    return f"{base}/saldo" if base else None


class _Batch:
    """The rows one pass adds: the dedupe keys already taken are read once for the pass,
    and the rows are flushed together at its end."""

    def __init__(self, keys: list[str]):
        taken = set()
        for start in range(0, len(keys), 900):  # under SQLite's bound-parameter limit
            chunk = keys[start : start + 900]
            taken.update(
                db.session.execute(
                    select(Notification.dedupe_key).where(Notification.dedupe_key.in_(chunk))
                ).scalars()
            )
        self.taken = taken
        self.rows: list[Notification] = []

    def ids(self) -> list[int]:
        db.session.flush()
        return [row.id for row in self.rows]


def _add(
    key: str, kind: str, voucher: Voucher, facts: Facts, seq: int | None, batch: _Batch
) -> None:
    person = voucher.beneficiary
    message = compose(facts, person.notify_language)
    for channel in channels_for(person):
        dedupe = f"{key}:{channel}"
        if dedupe in batch.taken:
            continue
        batch.taken.add(dedupe)
        row = Notification(
            dedupe_key=dedupe,
            event_seq=seq,
            kind=kind,
            channel=channel,
            voucher_id=voucher.id,
            beneficiary_id=person.id,
            language=person.notify_language,
            subject=message.subject,
            body=message.body,
            status="pending",
            next_attempt_at=clock.now(),
        )
        db.session.add(row)
        batch.rows.append(row)


def _facts(kind: str, voucher: Voucher, ente, balance_cents: int | None = None, **more) -> Facts:
    return Facts(
        kind=kind,
        voucher_code=voucher.code,
        balance_cents=voucher.balance_cents if balance_cents is None else balance_cents,
        valid_until=voucher.valid_until,
        ente_name=ente.name if ente else "",
        office=office_text(ente),
        balance_url=_balance_url(),
        **more,
    )


def _low_balance_threshold(voucher: Voucher) -> int:
    percent = current_app.config.get("NOTIFY_LOW_BALANCE_PERCENT", 20)
    return voucher.value_cents * percent // 100


def _from_event(event: AuditEvent, ente, vouchers: dict, batch: _Batch) -> None:
    kind = KINDS[event.action]
    voucher = vouchers.get(event.object_id)
    if voucher is None or voucher.beneficiary.pseudonymised_at is not None:
        return
    data = event.data or {}
    more: dict = {}
    if kind in ("redeemed", "reversed"):
        entry = db.session.get(LedgerEntry, data.get("entry_id"))
        if entry is None:
            return
        provider = db.session.get(Provider, entry.provider_id)
        more = {
            "service_date": entry.service_date,
            "provider_name": provider.name if provider else "",
            "public_cents": abs(entry.public_cents),
            "balance_cents": data.get("balance_cents", entry.balance_after_cents),
        }
    _add(f"event:{event.seq}", kind, voucher, _facts(kind, voucher, ente, **more), event.seq, batch)
    if kind == "redeemed":
        after = more["balance_cents"]
        before = after + more["public_cents"]
        threshold = _low_balance_threshold(voucher)
        if after < threshold <= before:
            facts = _facts("low_balance", voucher, ente, balance_cents=after)
            _add(f"low:{event.seq}", "low_balance", voucher, facts, event.seq, batch)


def pump(limit: int = BATCH) -> list[int]:
    """Turn the audit events after the cursor into notifications; returns the new rows'
    ids. Call it in a transaction: the rows and the cursor's move commit together."""
    cursor = _cursor()
    events = list(
        db.session.execute(
            select(AuditEvent)
            .where(AuditEvent.seq > cursor.last_seq)
            .order_by(AuditEvent.seq)
            .limit(limit)
        ).scalars()
    )
    if not events:
        return []
    ente = get_ente()
    relevant = [e for e in events if e.action in KINDS]
    codes = sorted({e.object_id for e in relevant if e.object_id})
    vouchers = {}
    for start in range(0, len(codes), 900):
        vouchers.update(
            (v.code, v)
            for v in db.session.execute(
                select(Voucher)
                .where(Voucher.code.in_(codes[start : start + 900]))
                .options(joinedload(Voucher.beneficiary))
            ).scalars()
        )
    keys = [
        f"{prefix}:{e.seq}:{channel}"
        for e in relevant
        for prefix in ("event", "low")
        for channel in ("email", "io")
    ]
    batch = _Batch(keys)
    for event in relevant:
        _from_event(event, ente, vouchers, batch)
    cursor.last_seq = events[-1].seq
    return batch.ids()


def expiring(today=None) -> list[int]:
    """Notices for active vouchers that end within EXPIRY_NOTICE_DAYS days, one per voucher
    and channel (run daily; a second run adds nothing)."""
    today = today or clock.today()
    _cursor()  # the relays' lock: one at a time, so two never add the same notice
    ente = get_ente()
    vouchers = db.session.execute(
        select(Voucher).where(
            Voucher.status == "active",
            Voucher.valid_until > today,
            Voucher.valid_until <= today + timedelta(days=EXPIRY_NOTICE_DAYS),
            Voucher.balance_cents > 0,
            ~exists().where(Notification.voucher_id == Voucher.id, Notification.kind == "expiring"),
        )
    ).scalars()
    vouchers = list(vouchers)
    batch = _Batch([f"expiring:{v.id}:{c}" for v in vouchers for c in ("email", "io")])
    for voucher in vouchers:
        if voucher.beneficiary.pseudonymised_at is None:
            facts = _facts("expiring", voucher, ente)
            _add(f"expiring:{voucher.id}", "expiring", voucher, facts, None, batch)
    return batch.ids()
