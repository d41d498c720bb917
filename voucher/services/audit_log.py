"""Reading the audit trail for the audit-log page: events by filter, newest first, and the
values its filters offer."""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from ..extensions import db
from ..models import AuditEvent


@dataclass(frozen=True)
class EventFilters:
    """What the audit viewer filters on; None means any. `since`/`until` are a half-open
    range of aware timestamps; an actor is (type, id), with id None for system actors;
    `actions`, when given, keeps only events of those actions (a family, such as reads)."""

    action: str | None = None
    actions: tuple[str, ...] = ()
    object_type: str | None = None
    object_id: str | None = None
    actor_type: str | None = None
    actor_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_events(
    filters: EventFilters, offset: int = 0, limit: int = 50
) -> tuple[list[AuditEvent], int]:
    """The events matching `filters`, newest first, one page of them, and how many match."""
    criteria = []
    if filters.action:
        criteria.append(AuditEvent.action == filters.action)
    if filters.actions:
        criteria.append(AuditEvent.action.in_(filters.actions))
    if filters.object_type:
        criteria.append(AuditEvent.object_type == filters.object_type)
    if filters.object_id:
        criteria.append(AuditEvent.object_id == filters.object_id)
    if filters.actor_type:
        criteria.append(AuditEvent.actor_type == filters.actor_type)
        if filters.actor_id is not None:
            criteria.append(AuditEvent.actor_id == filters.actor_id)
    # Timestamps are compared in UTC: SQLite stores them as naive UTC text.
    if filters.since is not None:
        criteria.append(AuditEvent.at >= filters.since.astimezone(UTC))
    if filters.until is not None:
        criteria.append(AuditEvent.at < filters.until.astimezone(UTC))
    count = db.session.execute(select(func.count(AuditEvent.id)).where(*criteria)).scalar_one()
    events = db.session.execute(
        select(AuditEvent)
        .where(*criteria)
        .order_by(AuditEvent.seq.desc())
        .offset(offset)
        .limit(limit)
    ).scalars()
    return list(events), count


def event_facets() -> dict[str, list[str]]:
    """The actions and object types that occur in the trail, for the viewer's filters."""
    actions = db.session.execute(select(AuditEvent.action).distinct().order_by(AuditEvent.action))
    types = db.session.execute(
        select(AuditEvent.object_type)
        .where(AuditEvent.object_type.is_not(None))
        .distinct()
        .order_by(AuditEvent.object_type)
    )
    return {"actions": list(actions.scalars()), "object_types": list(types.scalars())}
