"""The audit chain's sequencer (PostgreSQL, real commits from several connections): events
wait unchained, then each committed event is chained exactly once, in the order of
sequencing, whatever order their transactions commit in and whichever roll back; two
sequencers take turns; a stopped sequencer shows in `audit verify`; tampering with the
chained prefix or the head shows too."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import make_app
from tests.services.world import make_world
from voucher.extensions import db
from voucher.models import AuditChain, AuditEvent
from voucher.services import SYSTEM, audit
from voucher.services.audit_sequencer import Sequencer, chain_all, chain_pending
from voucher.services.audit_verify import verify_chain

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def pg_app(postgres_url, tmp_path):
    """As in production: events are chained by the sequencer, not at commit."""
    app = make_app(
        postgres_url,
        tmp_path,
        AUDIT_CHAIN_AT_COMMIT=False,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 12, "max_overflow": 0},
    )
    with app.app_context():
        make_world()
        db.session.commit()
        chain_all()
    return app


def _note(connection, label: str) -> int:
    """An event written on `connection` as a service's commit writes it (unchained)."""
    row = audit.event_row(SYSTEM, "note.added", "note", label)
    return connection.execute(
        sa.insert(AuditEvent).values(**row).returning(AuditEvent.id)
    ).scalar_one()


def _chain() -> list[tuple[int, str | None]]:
    """(seq, note label) of every event, in chain order; unchained last, by id."""
    rows = db.session.execute(
        sa.select(AuditEvent.seq, AuditEvent.object_id).order_by(
            AuditEvent.seq.nulls_last(), AuditEvent.id
        )
    ).all()
    db.session.rollback()
    return [(row.seq, row.object_id) for row in rows]


def test_events_wait_unchained_until_the_sequencer_links_them(pg_app):
    with pg_app.app_context():
        before = verify_chain()
        world_events = before.events
        assert before.ok and before.unchained == 0
        for label in ("uno", "due"):
            audit.record(SYSTEM, "note.added", "note", label)
            db.session.commit()
        waiting = verify_chain()
        assert waiting.ok and waiting.events == world_events and waiting.unchained == 2
        assert waiting.unchained_age is not None and waiting.unchained_age < 10
        db.session.rollback()
        assert chain_all() == 2
        done = verify_chain()
        assert done.ok and done.events == world_events + 2 and done.unchained == 0
        assert _chain()[-2:] == [(world_events + 1, "uno"), (world_events + 2, "due")]
        head = db.session.execute(sa.select(AuditChain.seq, AuditChain.hash)).one()
        assert head == (done.events, done.head)


def test_late_commits_are_chained_later_and_rollbacks_leave_no_gap(pg_app):
    """T1 writes first and commits last; T3 rolls back: the chain has T2's event, then
    T1's, with consecutive places; nothing is skipped, nothing chained twice."""
    with pg_app.app_context():
        start = verify_chain().events
        t1, t2, t3 = (db.engine.connect() for _ in range(3))
        try:
            first = _note(t1, "t1-scrive-per-primo")
            second = _note(t2, "t2")
            third = _note(t3, "t3-annullato")
            assert first < second < third
            t2.commit()
            t3.rollback()
            assert chain_all() == 1  # T1's event is not visible yet: it waits
            t1.commit()
            assert chain_all() == 1
            assert chain_all() == 0
        finally:
            for connection in (t1, t2, t3):
                connection.close()
        tail = [(seq, label) for seq, label in _chain() if seq > start]
        assert tail == [(start + 1, "t2"), (start + 2, "t1-scrive-per-primo")]
        report = verify_chain()
        assert report.ok and report.events == start + 2 and report.unchained == 0


def test_concurrent_writers_and_two_sequencers_chain_each_event_once(pg_app):
    writers, per_writer = 6, 40
    stop = threading.Event()
    errors = []

    def write(n):
        with pg_app.app_context():
            try:
                for i in range(per_writer):
                    db.session.execute(sa.select(1))  # a transaction, as a service's
                    audit.record(SYSTEM, "note.added", "note", f"w{n}-{i}")
                    if i % 7 == 3:  # some transactions roll back
                        db.session.rollback()
                    else:
                        db.session.commit()
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

    def sequence():
        with pg_app.app_context():
            try:
                while not stop.is_set():
                    with db.engine.begin() as connection:
                        chain_pending(connection, limit=17)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

    sequencers = [threading.Thread(target=sequence) for _ in range(2)]
    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in sequencers + threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    stop.set()
    for thread in sequencers:
        thread.join(60)
    assert errors == []
    with pg_app.app_context():
        chain_all()
        chain = _chain()
        notes = [label for _, label in chain if label and label.startswith("w")]
        committed = writers * (per_writer - len([i for i in range(per_writer) if i % 7 == 3]))
        assert len(notes) == len(set(notes)) == committed
        assert [seq for seq, _ in chain] == list(range(1, len(chain) + 1))
        assert verify_chain().ok


def test_a_stopped_sequencer_fails_verify_once_the_tail_is_older_than_the_bound(pg_app, tmp_path):
    with pg_app.app_context():
        old = audit.event_row(SYSTEM, "note.added", "note", "vecchio")
        old["at"] = datetime.now(UTC) - timedelta(seconds=30)
        db.session.execute(sa.insert(AuditEvent).values(**old))
        db.session.commit()
        report = verify_chain()
        assert report.broken_at is None and report.unchained == 1
        assert report.stale and not report.ok and report.unchained_age >= 30
        assert verify_chain(tail_bound=60).ok
        db.session.rollback()
    runner = pg_app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "1 eventi" in result.output and "sequenziatore" in result.output
    result = runner.invoke(args=["audit", "sequence", "--once"])
    assert result.exit_code == 0 and "Eventi concatenati: 1" in result.output
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "nessun evento" in result.output


def test_a_batch_rolled_back_midway_is_chained_whole_by_the_next_pass(pg_app):
    """A sequencer killed inside its transaction: nothing of its batch stays."""
    with pg_app.app_context():
        start = verify_chain().events
        for label in ("a", "b", "c"):
            audit.record(SYSTEM, "note.added", "note", label)
            db.session.commit()
        with db.engine.connect() as connection:
            assert chain_pending(connection) == 3
            connection.rollback()  # as a SIGKILL before the commit would
        assert verify_chain().unchained == 3
        db.session.rollback()
        assert chain_all() == 3
        assert [label for seq, label in _chain() if seq > start] == ["a", "b", "c"]
        assert verify_chain().ok


def test_the_database_lets_an_event_be_chained_once_and_then_never_changed(pg_app):
    with pg_app.app_context():
        audit.record(SYSTEM, "note.added", "note", "x")
        db.session.commit()
        event_id = db.session.execute(sa.select(sa.func.max(AuditEvent.id))).scalar_one()
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):  # content, unchained
            db.session.execute(
                sa.update(AuditEvent).where(AuditEvent.id == event_id).values(actor_label="y")
            )
        db.session.rollback()
        chain_all()
        for change in ({"seq": 10**6}, {"hash": "f" * 64}, {"actor_label": "y"}):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                db.session.execute(
                    sa.update(AuditEvent).where(AuditEvent.id == event_id).values(**change)
                )
            db.session.rollback()
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.execute(sa.delete(AuditEvent).where(AuditEvent.id == event_id))
        db.session.rollback()


def _tamper(statement) -> None:
    """As someone with the database's owner rights: triggers off for this transaction."""
    db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    db.session.execute(statement)


def test_reordered_events_and_a_rewound_head_are_caught(pg_app):
    with pg_app.app_context():
        for label in ("p", "q", "r"):
            audit.record(SYSTEM, "note.added", "note", label)
            db.session.commit()
        chain_all()
        events = verify_chain().events
        rows = db.session.execute(
            sa.select(AuditEvent.id, AuditEvent.seq).where(AuditEvent.seq >= events - 1)
        ).all()
        (a_id, a_seq), (b_id, b_seq) = sorted(rows, key=lambda r: r.seq)
        # reordered: the two newest events swap places (their links stay as they were)
        _tamper(sa.update(AuditEvent).where(AuditEvent.id == a_id).values(seq=-1))
        db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == b_id).values(seq=a_seq))
        db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == a_id).values(seq=b_seq))
        report = verify_chain()
        assert not report.ok and report.broken_at == a_seq
        db.session.rollback()
        # the head rewound by one event: the newest chained event lies beyond it
        previous = db.session.execute(
            sa.select(AuditEvent.prev_hash, AuditEvent.hash).where(AuditEvent.seq == events - 1)
        ).one()
        _tamper(
            sa.update(AuditChain).values(
                seq=events - 1, prev_hash=previous.prev_hash, hash=previous.hash
            )
        )
        report = verify_chain()
        assert not report.ok and report.reason == "the chain's head does not match"
        db.session.rollback()
        assert verify_chain().ok


def test_one_sequencer_is_elected_and_another_takes_over_when_it_stops(pg_app):
    first, second = Sequencer(pg_app, poll_seconds=0.05), Sequencer(pg_app, poll_seconds=0.05)
    stop_first, stop_second = threading.Event(), threading.Event()
    threads = [
        threading.Thread(target=first.run, args=(stop_first,)),
        threading.Thread(target=second.run, args=(stop_second,)),
    ]
    try:
        threads[0].start()
        time.sleep(0.3)
        threads[1].start()
        with pg_app.app_context():
            for n in range(5):
                audit.record(SYSTEM, "note.added", "note", f"prima-{n}")
                db.session.commit()
            _wait_until_chained()
            assert (first.chained, second.chained) == (5, 0)
            stop_first.set()
            threads[0].join(10)
            for n in range(5):
                audit.record(SYSTEM, "note.added", "note", f"dopo-{n}")
                db.session.commit()
            _wait_until_chained()
            assert second.chained == 5
            assert verify_chain().ok
    finally:
        stop_first.set()
        stop_second.set()
        for thread in threads:
            thread.join(10)


def _wait_until_chained(seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        waiting = db.session.execute(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.seq.is_(None))
        ).scalar_one()
        db.session.rollback()
        if waiting == 0:
            return
        time.sleep(0.05)
    raise AssertionError("the sequencer did not chain the events")
