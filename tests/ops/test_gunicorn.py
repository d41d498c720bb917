"""The production server configuration (gunicorn.conf.py) as deployed: the application is
preloaded in the master and every worker forked from it answers (synchronous workers, or
threaded ones when asked for), with rate limits on or off; a worker killed is replaced by
one that answers too."""

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


def _wait_for_workers(master: int, ready, seconds: float = 60) -> list[int]:
    """The master's workers once `ready(pids)` holds (the master forks them one by one)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pids = _workers(master)
        if ready(pids):
            return pids
        time.sleep(0.2)
    pytest.fail(f"gunicorn's workers are {_workers(master)}")


@pytest.mark.parametrize(
    ("rate_limits", "threads"),
    [("true", None), ("false", None), ("true", "2")],
    ids=["synchronous", "synchronous-no-rate-limits", "threaded"],
)
def test_forked_workers_answer_and_a_killed_one_is_replaced(
    database_url, tmp_path, rate_limits, threads
):
    port = _free_port()
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        VOUCHER_INSTANCE_PATH=str(tmp_path / "instance"),
        VOUCHER_ENV="production",
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        RATELIMIT_ENABLED=rate_limits,
        BATCH_WORKER_THREAD="false",
        LOG_LEVEL="INFO",  # gunicorn names the kind of its workers
    )
    env.pop("GUNICORN_THREADS", None)
    if threads is not None:
        env["GUNICORN_THREADS"] = threads
    log = tmp_path / "server.log"
    with open(log, "w") as output:
        server = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
            [str(GUNICORN), "-c", str(ROOT / "gunicorn.conf.py"), "voucher:create_app()"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert _wait_for_health(port, server) == 200, log.read_text()
        first = _wait_for_workers(server.pid, lambda pids: len(pids) == 2)
        statuses = [_health(port) for _ in range(20)]
        assert statuses == [200] * 20, statuses
        os.kill(first[0], signal.SIGKILL)
        _wait_for_workers(server.pid, lambda pids: len(pids) == 2 and first[0] not in pids)
        statuses = [_health(port) for _ in range(20)]
        assert statuses == [200] * 20, statuses
        output = log.read_text()
        assert "Traceback" not in output, output
        assert f"Using worker: {'gthread' if threads else 'sync'}" in output, output
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
