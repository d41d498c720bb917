"""A person's history on one page: registration, ISEE records, the vouchers issued, the
services recorded on them and their reversals, and what happened to each voucher
(suspension, reactivation, revocation, transfer to another Comune, expiry, a new coverage
from an ISEE), newest first.

A handful of queries whatever the number of vouchers: the person's vouchers, their ledger
entries, their audit events and the person's ISEE records, each read once. Only the
vouchers the actor sees count (a voucher charged to a Comune outside a social worker's is
left out, with everything that happened to it).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import AuditEvent, Beneficiary, Comune, IseeRecord, LedgerEntry, Provider, Voucher
from . import Actor, reach

MAX_ENTRIES = 300  # a long home-care voucher records a service a day: the newest are enough
# The voucher's audit events that tell its story (issue and services come from their tables).
VOUCHER_EVENTS = {
    "voucher.revoked": "revoked",
    "voucher.suspended": "suspended",
    "voucher.reactivated": "reactivated",
    "voucher.transferred": "transferred",
    "voucher.expired": "expired",
    "voucher.coverage_changed": "coverage_changed",
}


@dataclass(frozen=True)
class Entry:
    """One thing that happened. `kind` names it (registered, isee, issued, replaced,
    redemption, reversal, revoked, suspended, reactivated, transferred, expired,
    coverage_changed); the voucher it concerns, if any, gives the link."""

    at: datetime
    kind: str
    voucher_id: int | None = None
    voucher_code: str | None = None
    scheme: str | None = None
    amount_cents: int | None = None
    service_date: date | None = None
    provider: str | None = None
    comune: str | None = None
    isee_type: str | None = None
    valid_until: date | None = None
    percent: int | None = None


@dataclass(frozen=True)
class Timeline:
    entries: list[Entry]
    truncated: bool  # older entries beyond MAX_ENTRIES are left out


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive UTC times; PostgreSQL aware ones: compare them alike."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _vouchers(actor: Actor, person: Beneficiary) -> list[Voucher]:
    found = db.session.execute(
        select(Voucher)
        .where(Voucher.beneficiary_id == person.id)
        .options(joinedload(Voucher.scheme))
        .order_by(Voucher.id)
    ).scalars()
    return reach.keep_vouchers(actor, list(found))


def _issues(vouchers: list[Voucher]) -> list[Entry]:
    return [
        Entry(
            _aware(v.issued_at),
            "replaced" if v.replaces_id else "issued",
            v.id,
            v.code,
            scheme=v.scheme.name,
            amount_cents=v.value_cents,
            valid_until=v.valid_until,
        )
        for v in vouchers
    ]


def _ledger(by_id: dict[int, Voucher]) -> list[Entry]:
    rows = db.session.execute(
        select(LedgerEntry, Provider.name)
        .join(Provider, Provider.id == LedgerEntry.provider_id)
        .where(LedgerEntry.voucher_id.in_(sorted(by_id)))
        .order_by(LedgerEntry.id.desc())
        .limit(MAX_ENTRIES + 1)
    )
    return [
        Entry(
            _aware(entry.created_at),
            entry.kind,
            entry.voucher_id,
            by_id[entry.voucher_id].code,
            amount_cents=entry.public_cents,
            service_date=entry.service_date,
            provider=provider,
        )
        for entry, provider in rows
    ]


def _events(by_code: dict[str, Voucher]) -> list[Entry]:
    events = list(
        db.session.execute(
            select(AuditEvent)
            .where(
                AuditEvent.object_type == "voucher",
                AuditEvent.object_id.in_(sorted(by_code)),
                AuditEvent.action.in_(sorted(VOUCHER_EVENTS)),
            )
            .order_by(AuditEvent.seq.desc())
            .limit(MAX_ENTRIES + 1)
        ).scalars()
    )
    codes = {e.data.get("to_comune") for e in events if e.action == "voucher.transferred"}
    names = dict(
        db.session.execute(
            select(Comune.istat_code, Comune.name).where(Comune.istat_code.in_(codes - {None}))
        ).all()
        if codes
        else []
    )
    entries = []
    for event in events:
        voucher = by_code[event.object_id]
        data = event.data or {}
        from_date = data.get("from_date")
        entries.append(
            Entry(
                _aware(event.at),
                VOUCHER_EVENTS[event.action],
                voucher.id,
                voucher.code,
                comune=names.get(data.get("to_comune"), data.get("to_comune")),
                service_date=date.fromisoformat(from_date) if from_date else None,
                percent=data.get("to_percent"),
            )
        )
    return entries


def _isee(person: Beneficiary) -> list[Entry]:
    records = db.session.execute(
        select(IseeRecord).where(IseeRecord.beneficiary_id == person.id)
    ).scalars()
    return [
        Entry(_aware(r.created_at), "isee", isee_type=r.type, valid_until=r.valid_until)
        for r in records
    ]


def timeline(actor: Actor, person: Beneficiary) -> Timeline:
    """Everything that happened to the person and to their vouchers in the actor's reach,
    newest first (the newest MAX_ENTRIES)."""
    vouchers = _vouchers(actor, person)
    entries = [Entry(_aware(person.created_at), "registered"), *_isee(person)]
    if vouchers:
        entries += _issues(vouchers)
        entries += _ledger({v.id: v for v in vouchers})
        entries += _events({v.code: v for v in vouchers})
    entries.sort(key=lambda e: e.at, reverse=True)
    return Timeline(entries[:MAX_ENTRIES], len(entries) > MAX_ENTRIES)
