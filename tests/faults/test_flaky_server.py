"""The real server (`manage.py serve`) polls through the tests' proxy while it stalls and drops connections.

These are the faults that make librdkafka 2.16 abort() about one run in three (docs/faults.md). The
collector is a supervised child, so whatever librdkafka does: every page answers, the websocket stays
open throughout, and fresh data comes back once the network heals (after a restart of the collector
when it crashed: the log then says so, once per crash). bench/bench_isolation.py runs this 20 times.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import datetime

import pytest

from tests.faults.support import HttpSession, ProxiedBroker, WebSocket, commit, wait_until
from tests.kafka_support import Kafka

pytestmark = pytest.mark.broker

CLUSTER = "flaky"
FAULT_S = 6.0  # each fault lasts this long: several poll cycles, each cut short by it
PAGES = ("/c/{c}/", "/c/{c}/groups/", "/c/{c}/topics/", "/healthz", "/metrics")


def faults(broker: ProxiedBroker) -> dict[str, Callable[[], None]]:
    proxy = broker.proxy
    return {
        "stall mid-response": lambda: proxy.stall(30, after_bytes=7),
        "dropped connections": lambda: setattr(proxy, "drop_every_bytes", 300),
        "stall from the first byte": lambda: proxy.stall(30),
    }


def run_flaky_scenario(broker: ProxiedBroker, server_url: str, account, group: str, lag: int) -> dict[str, float]:
    """Every fault in turn against a running server; asserts throughout; returns the recovery time of each."""
    http = HttpSession(server_url)
    http.login(account)
    api = f"/api/v1/clusters/{CLUSTER}/groups/{group}/"
    wait_until(lambda: (r := http.get(api)).status == 200 and r.json()["total_lag"] == lag, 60, what="first snapshot")
    ws = WebSocket(server_url, f"/ws/live/group/?cluster={CLUSTER}&group={group}&range=1h", http.cookie_header())
    ws.recv_until(lambda m: 'id="status"' in m, 10)
    recovered: dict[str, float] = {}
    try:
        for name, start in faults(broker).items():
            start()
            until = time.monotonic() + FAULT_S
            while time.monotonic() < until:
                for path in PAGES:
                    assert http.get(path.format(c=CLUSTER)).status == 200, f"{path} during {name}"
                ws.recv(0.2)  # raises WebSocketClosed if the server closed it
            broker.proxy.reset()
            broker.proxy.drop_all()
            healed = time.monotonic()
            healed_at = time.time()

            def fresh(healed_at: float = healed_at) -> bool:
                ws.recv(0.05)
                answer = http.get(api).json()
                complete = answer["total_lag"] == lag and not answer["stale"]
                return complete and datetime.fromisoformat(answer["collected_at"]).timestamp() > healed_at

            wait_until(fresh, 60, interval=0.3, what=f"fresh data after {name}")
            recovered[name] = time.monotonic() - healed
    finally:
        broker.proxy.reset()
        ws.close()
    return recovered


RUNS = int(os.environ.get("FLAKY_SERVER_RUNS", "1"))  # bench/bench_isolation.py --flaky 20 asks for more


@pytest.mark.parametrize("run", range(RUNS))
def test_flaky_server_answers_throughout(fault_broker, make_server, account, run):
    kafka = Kafka(fault_broker.broker)
    topic = kafka.create_topic(partitions=2)
    kafka.produce(topic, 20, partition=0)
    group = kafka.unique("flaky-server")
    commit(kafka, group, [(topic, 0, 5)])
    server = make_server(
        fault_broker.proxied,
        cluster=CLUSTER,
        name=f"server-{run}",
        KAFKA_REQUEST_TIMEOUT="2",
        KAFKA_CYCLE_TIMEOUT="6",
        POLL_INTERVAL="1",
    ).start()
    recovered = run_flaky_scenario(fault_broker, server.url, account, group, lag=15)
    log = server.log()
    assert server.proc.poll() is None and server.starts == 1, log[-3000:]
    crashes = [x for x in log.splitlines() if "collector of cluster" in x and "died (" in x]
    for line in crashes:
        assert "restarting in" in line  # each crash: one line with its cause (see test_collector_crash.py)
    print(f"run {run}: survived {len(crashes)} collector crashes; recovered in {recovered}")
