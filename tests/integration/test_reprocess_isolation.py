"""A reprocess run from the pages runs in a child process: a librdkafka crash (here SIGABRT and
SIGKILL of that child) ends the run, never the server, and the next run settles what the dead one
left pending, so every record arrives exactly once (read_committed)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time

import pytest

from dashboard.dlq import service
from dashboard.models import ReprocessRun
from kafka_admin import reprocess as engine
from kafka_admin.dlq import headers as h
from kafka_admin.isolation.counts import REPROCESS, WORKER_CRASHES
from tests.dlq_support import fill_dlq, read_all

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

RECORDS = 6_000


def reprocess_children() -> list[multiprocessing.Process]:
    return [p for p in multiprocessing.active_children() if p.name.startswith("kafka-dashboard reprocess")]


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        # Not faster: the test database is SQLite in memory with a shared cache, where a reader's
        # table lock fails the run's own writes at once ("database table is locked"), no busy wait.
        time.sleep(0.5)
    raise TimeoutError(what)


def finished(run_id: str, timeout: float = 180) -> ReprocessRun:
    return wait_for(
        lambda: (run := ReprocessRun.objects.get(run_id=run_id)).state != "running" and run,
        timeout,
        f"run {run_id} did not finish",
    )


def start(cluster: str, dlq: str, rate_limit: float | None) -> ReprocessRun:
    selection = engine.OffsetRange(0, 0, RECORDS - 1)
    described = {"partition": 0, "from": 0, "to": RECORDS - 1}
    return service.start_run(cluster, dlq, selection, described, "isolation-test", rate_limit=rate_limit)


@pytest.mark.parametrize("sig", [signal.SIGABRT, signal.SIGKILL], ids=["SIGABRT", "SIGKILL"])
def test_a_crashed_reprocess_child_ends_the_run_not_the_server(kafka, dashboard_cluster, settings, sig):
    settings.BROKER_ACTIONS_ISOLATED = True
    original = kafka.create_topic(partitions=3)
    dlq = kafka.create_topic(f"{original}-dlq", partitions=1)
    fill_dlq(kafka, dlq, original, RECORDS)
    server_threads = threading.active_count()

    first = start(dashboard_cluster.name, dlq, rate_limit=1_000)  # slow: the signal lands mid-run
    [child] = wait_for(reprocess_children, 60, "no reprocess child was started")
    assert child.pid != os.getpid()
    wait_for(lambda: ReprocessRun.objects.get(run_id=first.run_id).sent >= 500, 120, "the run sent nothing")
    crashes = WORKER_CRASHES.counts().get((REPROCESS, sig.name), 0)
    os.kill(child.pid, sig)
    dead = finished(first.run_id)
    assert dead.state == "failed", dead.state
    assert sig.name in dead.message and "reprocess worker died" in dead.message, dead.message
    assert threading.active_count() >= server_threads - 1  # this process (the server) lives on
    assert WORKER_CRASHES.counts()[(REPROCESS, sig.name)] == crashes + 1  # counted for /metrics

    second = finished(start(dashboard_cluster.name, dlq, rate_limit=None).run_id)
    assert second.state == "done", (second.state, second.message)
    got = read_all(kafka, original, RECORDS, timeout=90)
    sources = [dict(m.headers())[h.REPROCESSED_FROM_OFFSET] for m in got]
    assert len(sources) == RECORDS and len(set(sources)) == RECORDS  # every record once, none twice
    assert not reprocess_children()
