"""Checking the audit trail (`flask audit verify`, the audit page): every hash of the
chained prefix recomputed in order, the chain's head matching its newest event, and the
unchained tail (events the sequencer has not linked yet, PostgreSQL) no older than a bound:
a stopped sequencer shows within that bound."""

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app, has_app_context
from sqlalchemy import func, select

from ..extensions import db
from ..models import AuditChain, AuditEvent
from .audit import EVENT_FIELDS, GENESIS, event_hash


@dataclass
class ChainReport:
    """What verify_chain() found: how many events verify, and the first that does not."""

    events: int
    broken_at: int | None  # seq of the first event that does not verify
    reason: str | None = None
    # The newest event's hash: kept outside the database, it also reveals removed newest events.
    head: str = GENESIS
    unchained: int = 0  # events written but not chained yet
    unchained_age: float | None = None  # seconds since the oldest of them was recorded
    tail_bound: float | None = None  # the age beyond which the tail fails the check

    @property
    def stale(self) -> bool:
        """Whether an unchained event waits longer than the bound (a stopped sequencer)."""
        return (
            self.unchained_age is not None
            and self.tail_bound is not None
            and self.unchained_age > self.tail_bound
        )

    @property
    def ok(self) -> bool:
        """Whether the chained prefix verifies and the unchained tail is recent."""
        return self.broken_at is None and not self.stale


def verify_chain(batch: int = 5000, tail_bound: float | None = None) -> ChainReport:
    """Recompute every hash of the chained prefix in order; name the first broken link;
    measure the unchained tail against `tail_bound` seconds (AUDIT_TAIL_MAX_SECONDS)."""
    report = _verify_prefix(batch)
    if tail_bound is None and has_app_context():
        tail_bound = current_app.config.get("AUDIT_TAIL_MAX_SECONDS", 10.0)
    tail = db.session.execute(
        select(func.count(AuditEvent.id), func.min(AuditEvent.at)).where(AuditEvent.seq.is_(None))
    ).one()
    report.unchained, report.tail_bound = tail[0], tail_bound
    if tail[1] is not None:
        oldest = tail[1] if tail[1].tzinfo else tail[1].replace(tzinfo=UTC)
        report.unchained_age = max((datetime.now(UTC) - oldest).total_seconds(), 0.0)
    return report


def _verify_prefix(batch: int) -> ChainReport:
    columns = [AuditEvent.seq, AuditEvent.prev_hash, AuditEvent.hash] + [
        getattr(AuditEvent, f) for f in EVENT_FIELDS
    ]
    prev, expected_seq, count = GENESIS, 1, 0
    while True:
        rows = db.session.execute(
            select(*columns)
            .where(AuditEvent.seq >= expected_seq)
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            return _check_head(count, expected_seq, prev)
        for row in rows:
            if row.seq != expected_seq:
                return ChainReport(count, expected_seq, "missing event")
            if row.prev_hash != prev:
                return ChainReport(count, row.seq, "previous hash does not match")
            fields = {f: getattr(row, f) for f in EVENT_FIELDS}
            if event_hash(prev, row.seq, fields) != row.hash:
                return ChainReport(count, row.seq, "content altered")
            prev, expected_seq = row.hash, row.seq + 1
            count += 1


def _check_head(count: int, next_seq: int, newest_hash: str) -> ChainReport:
    """The head row must name the newest event: otherwise events were removed from the
    end of the trail, or the next append would not link to it."""
    head = db.session.execute(select(AuditChain.seq, AuditChain.hash)).first()
    if head is None or (head.seq, head.hash) != (next_seq - 1, newest_hash):
        return ChainReport(count, next_seq, "the chain's head does not match", head=newest_hash)
    return ChainReport(events=count, broken_at=None, head=newest_hash)
