"""`flask --app voucher worker` is the one background process: started for real on an
SQLite file with a local SMTP server, it issues a confirmed bulk batch and e-mails the
families their new vouchers; SIGTERM stops it cleanly."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from tests import factories as f
from tests.conftest import make_app
from tests.notifications.conftest import Mailbox, _free_port
from voucher.extensions import db
from voucher.models import IssueBatch, Notification
from voucher.services import batches, users

ROOT = Path(__file__).resolve().parents[2]


def _world(app) -> int:
    with app.app_context():
        f.make_ente()
        scheme = f.make_scheme()
        people = [f.make_beneficiary(email=f"famiglia{i}@example.it") for i in range(3)]
        worker = users.actor_for(f.make_user("social_worker"))
        text = "codice_fiscale;note\n" + "".join(f"{p.fiscal_code};\n" for p in people)
        batch = batches.create_batch(worker, scheme, text.encode())
        batches.confirm_batch(worker, batch)
        db.session.commit()
        batch_id = batch.id
        db.session.remove()
        return batch_id


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    mailbox.port = controller.port
    try:
        yield mailbox
    finally:
        controller.stop()


def test_one_worker_issues_the_batch_and_mails_the_families(tmp_path, smtp):
    database = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    app = make_app(database, tmp_path)
    batch_id = _world(app)
    env = dict(
        os.environ,
        DATABASE_URL=database,
        VOUCHER_INSTANCE_PATH=str(tmp_path),
        VOUCHER_ENV="development",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp.port),
        BATCH_WORKER_THREAD="0",
        NOTIFY_WORKER_THREAD="0",
    )
    flask = Path(sys.executable).parent / "flask"
    worker = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
        [str(flask), "--app", "voucher", "worker", "--poll", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(smtp.messages) < 3:
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGTERM)
        _out, errors = worker.communicate(timeout=60)
    assert worker.returncode == 0, errors.decode()[-2000:]
    with app.app_context():
        batch = db.session.get(IssueBatch, batch_id)
        assert (batch.status, batch.issued) == ("done", 3)
        sent = db.session.execute(
            select(Notification.status).where(Notification.kind == "issued")
        ).scalars()
        assert sorted(sent) == ["sent"] * 3
        db.session.remove()
    assert sorted(m["To"] for m in smtp.messages) == [f"famiglia{i}@example.it" for i in range(3)]
