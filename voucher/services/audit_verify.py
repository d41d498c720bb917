"""Checking the audit trail (`flask audit verify`, the audit page): every hash recomputed
in order, and the chain's head matching the newest event."""

from dataclasses import dataclass

from sqlalchemy import select

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

    @property
    def ok(self) -> bool:
        """Whether the whole chain verifies."""
        return self.broken_at is None


def verify_chain(batch: int = 5000) -> ChainReport:
    """Recompute every hash in order; name the first broken link."""
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
