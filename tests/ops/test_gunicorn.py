"""The production server configuration (gunicorn.conf.py) as deployed: the application is
preloaded in the master and every worker forked from it answers, with rate limits on or
off; a worker killed is replaced by one that answers too."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import make_app
from voucher.extensions import db

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _health(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def _wait_for_health(port: int, server: subprocess.Popen, seconds: float = 60) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.returncode}")
        status = _health(port)
        if status is not None:
            return status
        time.sleep(0.2)
    pytest.fail("gunicorn did not answer")


def _workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


@pytest.fixture
def database_url(backend, tmp_path):
    """A migrated database of the backend under test, which another process can open."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
        cleanup = None
    else:
        from tests.conftest import create_postgres_database, drop_postgres_database

        url = create_postgres_database("voucher_gunicorn")
        cleanup = drop_postgres_database
    app = make_app(url, tmp_path / "migrate")
    with app.app_context():
        db.engine.dispose()
    yield url
    if cleanup:
        cleanup(url)


@pytest.mark.parametrize("rate_limits", ["true", "false"])
def test_forked_workers_answer_and_a_killed_one_is_replaced(database_url, tmp_path, rate_limits):
    port = _free_port()
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        VOUCHER_INSTANCE_PATH=str(tmp_path / "instance"),
        VOUCHER_ENV="production",
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="2",
        RATELIMIT_ENABLED=rate_limits,
        BATCH_WORKER_THREAD="false",
        LOG_LEVEL="WARNING",
    )
    log = tmp_path / "server.log"
    with open(log, "w") as output:
        server = subprocess.Popen(
            [str(GUNICORN), "-c", str(ROOT / "gunicorn.conf.py"), "voucher:create_app()"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert _wait_for_health(port, server) == 200, log.read_text()
        # Each worker answers: enough requests reach both of them.
        assert all(_health(port) == 200 for _ in range(20))
        first = _workers(server.pid)
        assert len(first) == 2
        os.kill(first[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            current = _workers(server.pid)
            if len(current) == 2 and first[0] not in current:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the killed worker was not replaced")
        assert all(_health(port) == 200 for _ in range(20))
        assert "Traceback" not in log.read_text(), log.read_text()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
