"""The collector's child dies (SIGABRT as librdkafka's assertion does, SIGSEGV as its OffsetFetch on a fresh
broker does, SIGKILL) under a running `manage.py serve`: the server answers every page throughout, its
websocket stays open, the crash is logged once with its cause, counted in /metrics and shown in the
status bar, and fresh data comes back from a new child by itself."""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime

import pytest

from tests.faults.support import HttpSession, WebSocket, collector_pids, commit, metric, wait_until
from tests.kafka_support import Kafka

pytestmark = pytest.mark.broker

CLUSTER = "faults"
PAGES = ("/c/{c}/", "/c/{c}/groups/", "/c/{c}/topics/", "/healthz", "/api/v1/clusters/{c}/")


def test_the_server_outlives_every_collector_crash(fault_broker, make_server, account):
    kafka = Kafka(fault_broker.broker)
    topic = kafka.create_topic(partitions=1)
    kafka.produce(topic, 10, partition=0)
    group = kafka.unique("crash-group")
    commit(kafka, group, [(topic, 0, 4)])
    server = make_server(fault_broker.direct, KAFKA_REQUEST_TIMEOUT="2", POLL_INTERVAL="1").start()
    http = HttpSession(server.url)
    http.login(account)
    api = f"/api/v1/clusters/{CLUSTER}/groups/{group}/"
    wait_until(lambda: (r := http.get(api)).status == 200 and r.json()["total_lag"] == 6, 30, what="first snapshot")
    ws = WebSocket(server.url, f"/ws/live/group/?cluster={CLUSTER}&group={group}&range=1h", http.cookie_header())
    ws.recv_until(lambda m: 'id="status"' in m, 10)

    for n, sig in enumerate((signal.SIGABRT, signal.SIGSEGV, signal.SIGKILL), start=1):
        (pid,) = wait_until(lambda: collector_pids(server.proc.pid), 30, what="one collector child")
        os.kill(pid, sig)
        killed_at = time.time()
        name = signal.Signals(sig).name

        def fresh(killed_at: float = killed_at) -> bool:
            for path in PAGES:  # every page answers while the collector is down and restarting
                assert http.get(path.format(c=CLUSTER)).status == 200, path
            answer = http.get(api).json()
            return _ts(answer["collected_at"]) > killed_at and not answer["stale"]

        wait_until(fresh, 45, interval=0.3, what=f"fresh data after {name}")
        assert collector_pids(server.proc.pid) not in ([], [pid])
        shown = ws.recv_until(lambda m, s=name: 'id="status"' in m and f"({s})" in m, 20)  # the socket stayed open
        assert "collector restarted" in shown
        scrape = http.get("/metrics").text
        assert metric(scrape, "kafka_dashboard_collector_restarts_total", cluster=CLUSTER, cause=name) == 1.0
        assert server.log().count(f"died ({name})") == 1, server.log()[-3000:]
        assert n == sum(server.log().count(f"died ({s})") for s in ("SIGABRT", "SIGSEGV", "SIGKILL"))

    assert "Fatal Python error: Segmentation fault" in server.log()  # the child's stderr reaches the server log
    page = http.get(f"/c/{CLUSTER}/groups/{group}/")
    assert page.status == 200 and "collector restarted" in page.text and "(SIGKILL)" in page.text
    assert server.proc.poll() is None and server.starts == 1
    ws.close()


def _ts(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()
