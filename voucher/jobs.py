"""Background jobs: the runner that issues confirmed batches of vouchers.

A worker claims a queued batch under a lease (`SELECT … FOR UPDATE SKIP LOCKED` on
PostgreSQL; on SQLite every transaction already holds the write lock), then issues it chunk
by chunk, committing the vouchers, their letters and the progress after each chunk. A
worker that dies stops renewing its lease; once it runs out, another worker claims the batch
and carries on from the first row without a result, so no row is issued twice.

Two ways to run it: a thread started inside the web process when a batch is confirmed (the
default: nothing else to deploy), or `flask --app voucher worker` as a separate process
(set BATCH_WORKER_THREAD=0 on the web servers then). Both run the same loop, and any
number of them may run at once.
"""

import logging
import os
import signal
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import and_, or_, select

from .db import run_in_transaction
from .extensions import db
from .models import IssueBatch
from .services import batch_processing, clock

log = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 200
DEFAULT_LEASE_SECONDS = 300
MAX_ATTEMPTS = 3
_THREAD_IDLE_EXIT_SECONDS = 120
_POLL_SECONDS = 2.0


def new_worker_id() -> str:
    """Names a worker in the lease: host, process and a random part."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _settings() -> tuple[int, timedelta]:
    config = current_app.config
    size = int(config.get("BATCH_CHUNK_SIZE", DEFAULT_CHUNK_SIZE))
    lease = timedelta(seconds=int(config.get("BATCH_LEASE_SECONDS", DEFAULT_LEASE_SECONDS)))
    return max(1, size), lease


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive UTC timestamps."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def claim_batch(worker_id: str) -> int | None:
    """Take the oldest batch that is queued, or running under an expired lease; commit the
    lease and return its id (None when there is nothing to do)."""
    _size, lease = _settings()
    while True:
        claimed = run_in_transaction(lambda: _claim_oldest(worker_id, lease))
        if claimed is None:
            return None
        batch_id, attempts = claimed
        if attempts <= MAX_ATTEMPTS:
            log.info("batch %s claimed (attempt %s)", batch_id, attempts)
            return batch_id


def _claimable(now: datetime):
    return or_(
        IssueBatch.status == "queued",
        and_(
            IssueBatch.status == "running",
            or_(IssueBatch.lease_until.is_(None), IssueBatch.lease_until < now),
        ),
    )


def _claim_oldest(worker_id: str, lease: timedelta) -> tuple[int, int] | None:
    """The oldest claimable batch with its attempts, now leased to this worker; a batch
    past MAX_ATTEMPTS is failed instead (its attempts then exceed MAX_ATTEMPTS)."""
    now = clock.now()
    batch = db.session.execute(
        select(IssueBatch)
        .where(_claimable(now))
        .order_by(IssueBatch.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).scalar_one_or_none()
    if batch is None:
        return None
    if batch.attempts >= MAX_ATTEMPTS:
        # Claimed and lost this many times: something in the batch kills its workers.
        batch_processing.fail_batch(batch, batch.error or "Elaborazione interrotta più volte.")
        return batch.id, MAX_ATTEMPTS + 1
    batch.status = "running"
    batch.lease_owner = worker_id
    batch.lease_until = now + lease
    batch.started_at = batch.started_at or now
    batch.attempts += 1
    return batch.id, batch.attempts


def _still_ours(batch_id: int, worker_id: str) -> IssueBatch | None:
    batch = db.session.execute(
        select(IssueBatch).where(IssueBatch.id == batch_id).with_for_update()
    ).scalar_one_or_none()
    if batch is None or batch.status != "running" or batch.lease_owner != worker_id:
        return None
    return batch


def run_batch(batch_id: int, worker_id: str, stop: threading.Event | None = None) -> str:
    """Process a claimed batch to the end, one committed chunk at a time. Returns "done",
    "lost" (another worker took over), "stopped" (asked to stop: the lease is handed back),
    "failed" or "error" (to be retried)."""
    size, lease = _settings()
    try:
        while True:
            outcome = run_in_transaction(
                lambda: _next_chunk(batch_id, worker_id, stop, size, lease)
            )
            if outcome is not None:
                return outcome
    except Exception as error:
        # The type only: messages may quote the data of the row that failed.
        kind = type(error).__name__
        log.exception("batch %s: chunk failed (%s)", batch_id, kind)
        # Its own transaction: the chunk's work is gone, the error and the freed lease stay.
        return run_in_transaction(lambda: _record_error(batch_id, worker_id, kind))


def _next_chunk(
    batch_id: int, worker_id: str, stop: threading.Event | None, size: int, lease: timedelta
) -> str | None:
    """Issue one chunk and renew the lease; the batch's outcome once there is one."""
    batch = _still_ours(batch_id, worker_id)
    if batch is None:
        return "lost"
    if stop is not None and stop.is_set():
        batch.lease_owner, batch.lease_until = None, clock.now()
        batch.attempts = max(0, batch.attempts - 1)  # a clean stop is no failure
        return "stopped"
    actor = batch_processing.batch_actor(batch)
    handled = batch_processing.process_chunk(actor, batch, size)
    if not handled:
        batch_processing.finish_batch(actor, batch)
        log.info("batch %s done: %s issued, %s refused", batch_id, batch.issued, batch.refused)
        return "done"
    batch.lease_until = clock.now() + lease
    return None


def _record_error(batch_id: int, worker_id: str, kind: str) -> str:
    batch = _still_ours(batch_id, worker_id)
    if batch is None:
        return "lost"
    message = f"Errore durante l'elaborazione ({kind})."
    if batch.attempts >= MAX_ATTEMPTS:
        batch_processing.fail_batch(batch, message)
        return "failed"
    batch.error = message
    batch.lease_until = clock.now()  # free to be claimed again at once
    batch.lease_owner = None
    return "error"


def run_pending(worker_id: str | None = None, *, stop: threading.Event | None = None) -> int:
    """Claim and process batches until none is left; returns how many were handled.
    Tests call this to run the job synchronously."""
    worker_id = worker_id or new_worker_id()
    handled = 0
    while not (stop and stop.is_set()):
        batch_id = claim_batch(worker_id)
        if batch_id is None:
            break
        run_batch(batch_id, worker_id, stop)
        handled += 1
    return handled


def run_forever(stop: threading.Event, poll_seconds: float = _POLL_SECONDS) -> None:
    """The loop of `flask --app voucher worker`: process, then wait for more."""
    worker_id = new_worker_id()
    log.info("batch worker %s started", worker_id)
    while not stop.is_set():
        try:
            busy = run_pending(worker_id, stop=stop)
        except Exception:  # run_in_transaction has rolled back; the loop must go on
            log.exception("batch worker: unexpected error")
            busy = 0
        finally:
            db.session.remove()
        if not busy:
            stop.wait(poll_seconds)
    log.info("batch worker %s stopped", worker_id)


def install_signal_handlers(stop: threading.Event) -> None:
    """SIGTERM and SIGINT finish the current chunk, then stop."""

    def _handler(_signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)


# The in-process runner


class _Runner:
    """One background thread per web process, started on demand and gone when idle."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def ensure_running(self, app: Flask) -> None:
        with self.lock:
            self.wake.set()
            if self.thread is not None and self.thread.is_alive():
                return
            self.thread = threading.Thread(
                target=self._main, args=(app,), name="voucher-batches", daemon=True
            )
            self.thread.start()

    def _main(self, app: Flask) -> None:
        worker_id = new_worker_id()
        idle_since = time.monotonic()
        while not self.stopping.is_set():
            self.wake.clear()
            with app.app_context():
                try:
                    busy = run_pending(worker_id, stop=self.stopping)
                except Exception:  # run_in_transaction has rolled back; the thread goes on
                    log.exception("batch thread: unexpected error")
                    busy = 0
            if busy:
                idle_since = time.monotonic()
                continue
            with self.lock:
                if (
                    not self.wake.is_set()
                    and time.monotonic() - idle_since > _THREAD_IDLE_EXIT_SECONDS
                ):
                    self.thread = None
                    return
            self.wake.wait(_POLL_SECONDS)

    def stop(self, timeout: float | None = None) -> None:
        """Finish the chunk in hand, then end the thread."""
        self.stopping.set()
        self.wake.set()
        thread = self.thread
        if thread is not None:
            thread.join(timeout)


def wake(app: Flask | None = None) -> None:
    """Make sure this process works on pending batches: called when a batch is confirmed
    and while its progress is watched (so that a batch whose worker died is resumed)."""
    app = app or current_app._get_current_object()
    if not app.config.get("BATCH_WORKER_THREAD", True):
        return
    runner = app.extensions.setdefault("voucher.jobs", _Runner())
    runner.ensure_running(app)


def stop(app: Flask, timeout: float | None = None) -> None:
    """End this process's batch thread, if it runs (at shutdown, and in tests)."""
    runner = app.extensions.get("voucher.jobs")
    if runner is not None:
        runner.stop(timeout)
