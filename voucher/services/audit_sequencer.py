"""The audit chain's sequencer (PostgreSQL): it links committed events to the chain.

Writers append events unchained, each with its id from a sequence, in their own
transactions, and take no lock that other writers wait for. The sequencer, one process at a
time, takes the chain's head row, reads the committed unchained events (a partial index
holds them) in id order, links each to the one before it in Python, writes their place
(seq), previous hash and hash, and moves the head, all in one transaction per batch. As in
Certificate Transparency's logs and Trillian, the chain's order is the order of
sequencing: an event whose transaction commits late (its id lower than events already
chained) is simply chained in a later batch. A rolled-back event was never visible, so it
leaves no gap in the chain; a gap in ids means nothing.

Exactly once: an event is chained by the UPDATE that finds it still unchained, under the
head row's lock, and the batch commits whole or not at all. The advisory lock only elects
which process does the work; two sequencers would still take turns on the head row, the
second reading what the first committed. A sequencer killed mid-batch leaves its batch
unchained, and the next one chains it.

SQLite (the embedded default) links each event at commit instead (voucher.services.audit):
its writers are serialised anyway.
"""

import logging
import threading
import time

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from ..extensions import db
from ..hooks import every_request
from .audit import BATCH, chain_pending

__all__ = ["BATCH", "Sequencer", "chain_all", "chain_pending", "start_thread"]

log = logging.getLogger(__name__)

# pg_try_advisory_lock's key: "auditseq" in ASCII, the one sequencer of a database.
ADVISORY_KEY = 0x6175646974736571
POLL_SECONDS = 0.2  # an idle sequencer looks for new events this often
ERROR_PAUSE_MAX_SECONDS = 30


def chain_all(engine=None) -> int:
    """Chain every committed unchained event now, batch by batch, each in its own
    transaction (the command `flask audit sequence --once`, tests). Returns how many."""
    engine = engine or db.engine
    total = 0
    while True:
        with engine.begin() as connection:
            done = chain_pending(connection)
        total += done
        if done < BATCH:
            return total


class Sequencer:
    """The loop of one sequencer process: elected by a session advisory lock on its own
    connection, then batch after batch until stopped. Others wait for the lock, so that
    one takes over within a poll when the elected one dies."""

    def __init__(self, app: Flask, poll_seconds: float = POLL_SECONDS, batch: int = BATCH):
        self.app, self.poll_seconds, self.batch = app, poll_seconds, batch
        self.chained = 0

    def run(self, stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                with self.app.app_context():
                    self._lead(stop)
                failures = 0
            except DBAPIError:  # the server restarted, or the connection broke: again
                failures += 1
                if failures == 1 or failures % 20 == 0:
                    log.exception("audit sequencer: database error", extra={"failures": failures})
                stop.wait(min(self.poll_seconds * 2**failures, ERROR_PAUSE_MAX_SECONDS))

    def _lead(self, stop: threading.Event) -> None:
        with db.engine.connect() as connection:
            elected = connection.execute(
                select(func.pg_try_advisory_lock(ADVISORY_KEY))
            ).scalar_one()
            connection.commit()
            if not elected:  # another process chains: wait, ready to take over
                stop.wait(self.poll_seconds * 5)
                return
            log.info("audit sequencer elected")
            try:
                while not stop.is_set():
                    started = time.monotonic()
                    with connection.begin():
                        done = chain_pending(connection, self.batch)
                    self.chained += done
                    if done:
                        log.debug(
                            "audit events chained",
                            extra={"count": done, "seconds": round(time.monotonic() - started, 3)},
                        )
                    if done < self.batch:
                        stop.wait(self.poll_seconds)
            finally:
                if not connection.closed and not connection.invalidated:
                    connection.execute(select(func.pg_advisory_unlock(ADVISORY_KEY)))
                    connection.commit()


def start_thread(app: Flask) -> threading.Event | None:
    """A sequencer in a thread of this process (PostgreSQL only). Returns the event that
    stops it."""
    if db.engine.dialect.name != "postgresql":
        return None
    stop = threading.Event()
    sequencer = Sequencer(app)
    thread = threading.Thread(
        target=sequencer.run, args=(stop,), name="voucher-audit-sequencer", daemon=True
    )
    thread.start()
    app.extensions["voucher.audit_sequencer"] = (stop, thread)
    return stop


def install(app: Flask) -> None:
    """The embedded default (AUDIT_SEQUENCER_THREAD): a sequencer thread in each web
    process, started with the first request it serves (not in commands such as `flask db
    upgrade`); one of them chains, the others stand by."""
    if not app.config.get("AUDIT_SEQUENCER_THREAD"):
        return
    started = threading.Lock()

    @app.before_request
    @every_request
    def _start_audit_sequencer():
        if started.locked() or not started.acquire(blocking=False):
            return
        start_thread(app)
