"""The audit trail: append-only events, hash-chained so that tampering shows. This module
writes it; audit_sequencer links events to the chain on PostgreSQL; audit_verify checks
the chain and audit_log reads events for the log page.

Services call record(); the events are written when the transaction commits. On
PostgreSQL they are written unchained and take no lock: the sequencer links them to the
chain moments later, off the hot path (or, with AUDIT_CHAIN_AT_COMMIT, this transaction
links them itself before it commits, as the tests do). On SQLite each event is linked as
it is written, under the chain's head row, whose writers SQLite serialises anyway. The
busiest path (a redemption, on PostgreSQL) writes its change and its event in one
statement instead (voucher.services.redemption_at_once), and says so (wrote_event).
"""

import hashlib
import json
from datetime import UTC, datetime

from flask import current_app, has_app_context
from sqlalchemy import String, bindparam, cast, event, insert, literal, select, text, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from ..db import SQLITE_SHA256_HEX
from ..extensions import db
from ..models import AuditChain, AuditEvent
from . import Actor

GENESIS = "0" * 64  # the "previous hash" of the first event
_PENDING = "voucher.audit_pending"
_MARKS = "voucher.audit_savepoints"  # open savepoint -> how many events came before it
_WROTE = "voucher.audit_wrote"  # an event was written before the commit (wrote_event)


def record(actor: Actor, action: str, obj_type: str | None = None, obj_id=None, **data) -> None:
    """Queue an audit event in the current transaction. `data` must not hold personal data."""
    pending = db.session.info.setdefault(_PENDING, [])
    pending.append(_event(actor, action, obj_type, obj_id, data))


def _event(actor: Actor, action: str, obj_type: str | None, obj_id, data: dict) -> dict:
    return {
        "at": datetime.now(UTC),
        "actor_type": actor.type,
        "actor_id": actor.id,
        "actor_label": actor.label,
        "action": action,
        "object_type": obj_type,
        "object_id": None if obj_id is None else str(obj_id),
        "data": json.loads(json.dumps(data, default=str)),
    }


def _normalise_time(at: datetime) -> str:
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


def _canonical_head(fields: dict) -> str:
    """The canonical JSON of an event up to its last two keys, "prev" and "seq" (sorted
    keys put them last): what the hash covers besides the link to the chain."""
    body = {
        "at": _normalise_time(fields["at"]),
        "actor_type": fields["actor_type"],
        "actor_id": fields["actor_id"],
        "actor_label": fields["actor_label"],
        "action": fields["action"],
        "object_type": fields["object_type"],
        "object_id": fields["object_id"],
        "data": fields["data"],
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return canonical[:-1] + ","


def _canonical_tail(prev_hash: str, seq: int) -> str:
    return f'"prev":"{prev_hash}","seq":{seq}}}'


def event_hash(prev_hash: str, seq: int, fields: dict) -> str:
    """SHA-256 of the event's canonical JSON (sorted keys, no spaces, UTF-8), which holds
    the previous event's hash and the event's sequence number."""
    canonical = _canonical_head(fields) + _canonical_tail(prev_hash, seq)
    return hashlib.sha256(canonical.encode()).hexdigest()


class sha256_hex(FunctionElement):  # noqa: N801 - an SQL function, named like one
    """Hex SHA-256 of a text's UTF-8 bytes, in SQL."""

    type = String()
    inherit_cache = True


@compiles(sha256_hex, "postgresql")
def _sha256_hex_postgresql(element, compiler, **kw):
    return f"encode(sha256(convert_to({compiler.process(element.clauses, **kw)}, 'UTF8')), 'hex')"


@compiles(sha256_hex, "sqlite")
def _sha256_hex_sqlite(element, compiler, **kw):
    return f"{SQLITE_SHA256_HEX}({compiler.process(element.clauses, **kw)})"


# The columns of an event that Python provides (and its hash covers); the chain's columns
# come from its head.
EVENT_FIELDS = (
    "at",
    "actor_type",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "data",
)


def _advance_statement():
    """SQLite: move the chain's head to the next event: its seq, the previous hash and its
    own hash, computed by the database from the head. Bound parameter: the event's
    canonical head."""
    chain = AuditChain.__table__
    seq = chain.c.seq + 1
    tail = literal('"prev":"') + chain.c.hash + literal('","seq":') + cast(seq, String)
    link = sha256_hex(bindparam("canonical_head", type_=String()) + tail + literal("}"))
    return (
        update(chain)
        .where(chain.c.id == 1)
        .values(seq=seq, prev_hash=chain.c.hash, hash=link)
        .returning(chain.c.seq, chain.c.prev_hash, chain.c.hash)
    )


def event_row(actor: Actor, action: str, obj_type: str | None = None, obj_id=None, **data):
    """An event's columns, as record() would write them, for writing one directly (the
    sequencer's tests write events from several connections)."""
    return _event(actor, action, obj_type, obj_id, data)


def wrote_event() -> None:
    """This transaction wrote an event itself (the one-statement redemption): with
    AUDIT_CHAIN_AT_COMMIT, the commit links it."""
    db.session.info[_WROTE] = True


def can_append_now() -> bool:
    """Whether an event may be written before the commit: only when no event of this
    transaction waits for it, whose place in the chain comes first."""
    return not db.session.info.get(_PENDING)


_ADVANCE = _advance_statement()
_INSERT_EVENT = insert(AuditEvent.__table__)


def _chain_at_commit() -> bool:
    return has_app_context() and bool(current_app.config.get("AUDIT_CHAIN_AT_COMMIT"))


def _append_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # releasing a savepoint: the events wait for the outer commit
    pending = session.info.pop(_PENDING, None)
    wrote = session.info.pop(_WROTE, False)
    if not pending and not wrote:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        if pending:  # unchained, in the order recorded (ids follow the rows' order)
            connection.execute(_INSERT_EVENT, pending)
        if _chain_at_commit():
            chain_pending(connection, limit=None)
        return
    # SQLite: writers are serialised already (BEGIN IMMEDIATE); each event links to the
    # one before it.
    for fields in pending or ():
        row = {**fields, "canonical_head": _canonical_head(fields)}
        appended = connection.execute(_ADVANCE, row).first()
        if appended is None:
            raise RuntimeError("the audit chain has no head row (audit_chain): run the migrations")
        connection.execute(_INSERT_EVENT, {**fields, **appended._mapping})


# The sequencer's batch (PostgreSQL; voucher.services.audit_sequencer runs it).
BATCH = 2000
_HEAD = select(AuditChain.seq, AuditChain.hash).where(AuditChain.id == 1).with_for_update()
_UNCHAINED = (
    select(AuditEvent.id, *(getattr(AuditEvent, name) for name in EVENT_FIELDS))
    .where(AuditEvent.seq.is_(None))
    .order_by(AuditEvent.id)
    .limit(bindparam("limit"))
)
# One statement links the whole batch; `seq IS NULL` makes a second link impossible.
_LINK = text(
    "UPDATE audit_event AS e SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash, "
    "chained_at = clock_timestamp() "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:seqs AS integer[]), "
    "CAST(:prevs AS varchar[]), CAST(:hashes AS varchar[])) AS v(id, seq, prev_hash, hash) "
    "WHERE e.id = v.id AND e.seq IS NULL"
)
_MOVE_HEAD = (
    update(AuditChain)
    .where(AuditChain.id == 1)
    .values(seq=bindparam("seq"), prev_hash=bindparam("prev_hash"), hash=bindparam("hash"))
)


def chain_pending(connection, limit: int | None = BATCH) -> int:
    """In the connection's transaction: lock the head row and link up to `limit` unchained
    events (all of them with None), oldest id first. Returns how many; the caller commits.
    Raises when the head row is missing or an event was chained meanwhile by someone
    who bypassed the head row's lock (the batch must then roll back whole)."""
    head = connection.execute(_HEAD).first()
    if head is None:
        raise RuntimeError("the audit chain has no head row (audit_chain): run the migrations")
    rows = connection.execute(_UNCHAINED, {"limit": limit}).all()
    if not rows:
        return 0
    seq, prev = head.seq, head.hash
    ids, seqs, prevs, hashes = [], [], [], []
    for row in rows:
        seq += 1
        link = event_hash(prev, seq, {name: getattr(row, name) for name in EVENT_FIELDS})
        ids.append(row.id)
        seqs.append(seq)
        prevs.append(prev)
        hashes.append(link)
        prev = link
    linked = connection.execute(
        _LINK, {"ids": ids, "seqs": seqs, "prevs": prevs, "hashes": hashes}
    ).rowcount
    if linked != len(rows):
        raise RuntimeError(f"{len(rows) - linked} audit events were chained by someone else")
    connection.execute(_MOVE_HEAD, {"seq": seq, "prev_hash": prevs[-1], "hash": prev})
    return len(rows)


def _mark_savepoint(session: Session, transaction) -> None:
    if transaction.nested:
        marks = session.info.setdefault(_MARKS, {})
        marks[transaction] = len(session.info.get(_PENDING, ()))


def _rolled_back(session: Session, transaction) -> None:
    """A savepoint rolled back drops the events recorded inside it, and only those: the
    changes made before it stay, and so must their events."""
    mark = session.info.get(_MARKS, {}).pop(transaction, None)
    if transaction.nested and mark is not None:
        del session.info.get(_PENDING, [])[mark:]
    elif transaction.parent is None:
        session.info.pop(_PENDING, None)


def _ended(session: Session, transaction) -> None:
    # The whole transaction is over (committed with its events written, rolled back or
    # closed): nothing pending may leak into the next one. A savepoint's mark stays until
    # then, because its end is reported before its rollback.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_MARKS, None)
        session.info.pop(_WROTE, None)


def install(session_class) -> None:
    """Hook the chain into every session of the application."""
    event.listen(session_class, "before_commit", _append_pending)
    event.listen(session_class, "after_transaction_create", _mark_savepoint)
    event.listen(session_class, "after_soft_rollback", _rolled_back)
    event.listen(session_class, "after_transaction_end", _ended)
