"""`manage.py poll_kafka` as separate processes: one poller per cluster, takeover when it dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.kafka_support import REPO, terminate

pytestmark = pytest.mark.broker


def start_poller(env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "poll_kafka"], cwd=REPO, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )


def wait_for(path: Path, text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in path.read_text():
            return True
        time.sleep(0.2)
    return False


def test_second_poller_waits_then_takes_over(broker, tmp_path):
    env = dict(
        os.environ,
        KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap,
        KAFKA_CLUSTER_NAME="leased",
        KAFKA_REQUEST_TIMEOUT="2",
        POLL_INTERVAL="1",
        DASHBOARD_VAR_DIR=str(tmp_path),
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=REPO, env=env, check=True, timeout=120)
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = start_poller(env, first_log)
    second = None
    try:
        assert wait_for(first_log, "first snapshot", 30), first_log.read_text()
        second = start_poller(env, second_log)
        assert wait_for(second_log, "waiting to take over", 30), second_log.read_text()
        assert "first snapshot" not in second_log.read_text()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = time.monotonic()
        assert wait_for(second_log, "took over polling", 30), second_log.read_text()
        assert time.monotonic() - killed_at < 15  # lease of 3 intervals + the request timeout (>= 10 s)
        assert wait_for(second_log, "first snapshot", 10)
    finally:
        for proc in (first, second):
            if proc is not None:
                terminate(proc)


def test_poll_kafka_supervises_its_collector_child(broker, tmp_path):
    """Scaled out, the poller process keeps its broker reads in a supervised child too."""
    from tests.faults.support import collector_pids

    env = dict(
        os.environ,
        KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap,
        KAFKA_CLUSTER_NAME="supervised",
        KAFKA_REQUEST_TIMEOUT="2",
        POLL_INTERVAL="1",
        DASHBOARD_VAR_DIR=str(tmp_path),
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=REPO, env=env, check=True, timeout=120)
    log = tmp_path / "poller.log"
    poller = start_poller(env, log)
    try:
        assert wait_for(log, "first snapshot", 30), log.read_text()
        (child,) = collector_pids(poller.pid)
        os.kill(child, signal.SIGABRT)
        assert wait_for(log, "collector of cluster supervised died (SIGABRT)", 30), log.read_text()
        deadline = time.monotonic() + 30
        while collector_pids(poller.pid) in ([], [child]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert collector_pids(poller.pid) not in ([], [child]), log.read_text()
        assert poller.poll() is None
    finally:
        terminate(poller)
