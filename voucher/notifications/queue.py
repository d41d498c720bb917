"""The notification worker on Huey: Huey's consumer runs the deliveries in its pool of
threads; a relay loop beside it turns new audit events into notifications every second and
hands every due notification to Huey.

The database is the source of truth (what is due, when to try again): a task lost with the
queue (a Redis restart, a killed consumer) is handed over again by the next sweep, and a
task handed over twice sends once, because `delivery.deliver` claims its row first.

Where the queue lives (NOTIFY_QUEUE_URL): an SQLite file in the instance folder by default
(the embedded setup needs nothing else); `redis://host:6379/0` for several hosts;
`memory://` for one process. In the embedded default the web process runs the relay loop in
a thread and delivers in it (Huey's immediate mode); `flask --app voucher notify-worker`
runs Huey's consumer and the loop as a separate process (set NOTIFY_WORKER_THREAD=0 on the
web servers then).
"""

import logging
import threading
import time
from pathlib import Path

from flask import Flask
from huey import MemoryHuey, RedisHuey, SqliteHuey
from huey.api import Huey

from .. import jobs
from ..db import run_in_transaction
from ..hooks import every_request
from ..services import audit_sequencer
from . import delivery, relay

log = logging.getLogger(__name__)

# After an error (the database unreachable, say) the loop waits longer each time, up to this.
ERROR_PAUSE_MAX_SECONDS = 30
TICK_SECONDS = 1.0
REQUEUE_AFTER_SECONDS = 30.0  # a due row handed to Huey is not handed again before this
EXPIRY_SCAN_SECONDS = 3600.0
BATCH_STOP_WAIT_SECONDS = 120  # a stopping worker lets the batch's current chunk finish
CHUNK = 20  # notifications per Huey task: one queue round trip and one SMTP connection


def make_huey(app: Flask, immediate: bool = False) -> Huey:
    url = app.config.get("NOTIFY_QUEUE_URL") or ""
    if immediate or url == "memory://":
        return MemoryHuey("voucher-notify", immediate=immediate, results=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("voucher-notify", url=url, results=False)
    path = url.removeprefix("sqlite:///") or str(Path(app.instance_path) / "notify-queue.sqlite3")
    return SqliteHuey("voucher-notify", filename=path, results=False)


class NotifyQueue:
    """Huey, its delivery task bound to the application, and the relay loop."""

    def __init__(self, app: Flask, huey: Huey):
        self.app, self.huey = app, huey
        self.handed: dict[int, float] = {}
        self.last_expiry_scan = 0.0

        @huey.task(name="deliver_notifications")
        def deliver_task(notification_ids: list[int]) -> None:
            with app.app_context():
                try:
                    delivery.deliver_many(notification_ids)
                except Exception:
                    log.exception("notification delivery: unexpected error")

        self.deliver_task = deliver_task

    def tick(self) -> int:
        """One pass of the relay loop: new events become notifications, and every due row
        is handed to Huey. Returns how many rows were handed over."""
        now = time.monotonic()
        with self.app.app_context():
            run_in_transaction(relay.pump)
            if now - self.last_expiry_scan > EXPIRY_SCAN_SECONDS:
                run_in_transaction(relay.expiring)
                self.last_expiry_scan = now
            due = delivery.due_ids()
        self.handed = {k: t for k, t in self.handed.items() if now - t < REQUEUE_AFTER_SECONDS}
        fresh = [i for i in due if i not in self.handed]
        for notification_id in fresh:
            self.handed[notification_id] = now
        for start in range(0, len(fresh), CHUNK):
            self.deliver_task(fresh[start : start + CHUNK])
        if fresh:
            log.info(
                "notifications handed over",
                extra={"count": len(fresh), "seconds": round(time.monotonic() - now, 3)},
            )
        return len(fresh)

    def loop(self, stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                busy = self.tick()
                failures = 0
            except Exception:  # the transaction rolled back; try again, less and less often
                failures += 1
                if failures == 1 or failures % 20 == 0:
                    log.exception(
                        "notification relay: unexpected error", extra={"failures": failures}
                    )
                busy = 0
            if not busy:
                stop.wait(min(TICK_SECONDS * 2 ** min(failures, 10), ERROR_PAUSE_MAX_SECONDS))


def start_thread(app: Flask) -> threading.Event | None:
    """The embedded default: the relay loop in a thread of this process, delivering as it
    goes. Returns the event that stops it."""
    if not app.config.get("NOTIFY_ENABLED") or not app.config.get("NOTIFY_WORKER_THREAD"):
        return None
    stop = threading.Event()
    queue = NotifyQueue(app, make_huey(app, immediate=True))
    threading.Thread(target=queue.loop, args=(stop,), name="voucher-notify", daemon=True).start()
    app.extensions["voucher.notify"] = stop
    return stop


def install(app: Flask) -> None:
    """Start the embedded relay thread with the first request this process serves (not in
    commands such as `flask db upgrade`)."""
    started = threading.Lock()

    @app.before_request
    @every_request
    def _start_notifications():
        if "voucher.notify" in app.extensions or not started.acquire(blocking=False):
            return
        start_thread(app)


def run_worker(app: Flask, workers: int = 4, poll_seconds: float = 5.0) -> None:
    """`flask --app voucher worker`: the one background process. Huey's consumer (signals,
    worker threads) sends the notifications; the relay loop in a thread beside it turns
    events into notifications and hands them over; the bulk batches (voucher.jobs) run in a
    third thread, which a stop lets finish its chunk and give its lease back."""
    queue = NotifyQueue(app, make_huey(app))
    stop = threading.Event()
    relay_thread = threading.Thread(target=queue.loop, args=(stop,), name="voucher-relay")
    relay_thread.daemon = True
    relay_thread.start()

    def batches() -> None:
        with app.app_context():
            jobs.run_forever(stop, poll_seconds)

    batch_thread = threading.Thread(target=batches, name="voucher-batches", daemon=True)
    batch_thread.start()
    with app.app_context():  # the audit chain's sequencer (PostgreSQL), elected among workers
        sequencer_stop = audit_sequencer.start_thread(app)
    # Idle workers look at the queue again within half a second (Huey's default backs off
    # to ten seconds, which would be most of a message's delay).
    consumer = queue.huey.create_consumer(
        workers=workers, worker_type="thread", initial_delay=0.05, backoff=1.1, max_delay=0.5
    )
    try:
        consumer.run()  # until SIGTERM or SIGINT
    finally:
        stop.set()
        if sequencer_stop is not None:
            sequencer_stop.set()
        relay_thread.join(5)
        batch_thread.join(BATCH_STOP_WAIT_SECONDS)
