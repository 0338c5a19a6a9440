"""The scaled-out setup (REDIS_URL: Redis for the snapshot cache and the channel layer) loses Redis.

While Redis is down the server keeps serving pages from what it holds (its own poller keeps that
current) and from the database (history), says "Snapshot cache unavailable", and keeps polling;
when Redis is back (empty: it keeps nothing on disk here) the cache and live updates work again
without a restart.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.support import HttpSession, WebSocket, WebSocketClosed, commit, wait_until
from tests.kafka_support import Kafka, free_port

pytestmark = pytest.mark.broker

CLUSTER = "redis"
REDIS_SERVER = shutil.which("redis-server")


class RedisProcess:
    def __init__(self, port: int, directory: Path) -> None:
        self.port = port
        self.directory = directory
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        assert REDIS_SERVER is not None
        log = (self.directory / "redis.log").open("a")
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.directory,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        wait_until(self.ping, 10, interval=0.05, what="redis-server answers PING")

    def ping(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisProcess]:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run installs it)")
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisProcess(free_port(), directory)
    server.start()
    yield server
    server.stop()


def group_ws(server, http: HttpSession, group: str) -> WebSocket:
    return WebSocket(server.url, f"/ws/live/group/?cluster={CLUSTER}&group={group}&range=1h", http.cookie_header())


def test_redis_outage_keeps_pages_serving_and_recovers(kafka: Kafka, make_server, account, redis):
    topic = kafka.create_topic(partitions=1)
    kafka.produce(topic, 20, partition=0)
    group = kafka.unique("redis-group")
    commit(kafka, group, [(topic, 0, 5)])
    server = make_server(
        kafka.bootstrap,
        cluster=CLUSTER,
        REDIS_URL=f"redis://127.0.0.1:{redis.port}/0",
        POLLER_IN_PROCESS="true",
        KAFKA_REQUEST_TIMEOUT="2",
    ).start()
    http = HttpSession(server.url)
    http.login(account)
    api = f"/api/v1/clusters/{CLUSTER}/groups/{group}/"
    page = f"/c/{CLUSTER}/groups/{group}/"
    wait_until(lambda: http.get(api).status == 200, 30, what="the first snapshot, through Redis")
    assert http.get(api).json()["total_lag"] == 15
    ws = group_ws(server, http, group)
    ws.recv_until(lambda m: 'data-testid="group-lag">15<' in m, 10)
    ws.close()

    # --- Redis goes away ---------------------------------------------------------------------------
    redis.stop()
    html = wait_until(
        lambda: (r := http.get(page)).status == 200 and "cache-unavailable" in r.text and r.text,
        15,
        what="the page says the cache is unavailable",
    )
    assert 'data-testid="group-lag">15<' in html  # the data this server holds
    for path in (f"/c/{CLUSTER}/", f"/c/{CLUSTER}/groups/", f"/c/{CLUSTER}/topics/", f"/c/{CLUSTER}/brokers/", api):
        assert http.get(path).status == 200, path
    assert http.get("/readyz").status in (200, 503)  # answers either way; never a 500
    # The poller goes on: a new commit shows up on the page, history keeps being written.
    commit(kafka, group, [(topic, 0, 12)])
    wait_until(lambda: 'data-testid="group-lag">8<' in http.get(page).text, 15, what="new data while Redis is down")
    assert http.get(api).json()["total_lag"] == 8
    with pytest.raises((WebSocketClosed, OSError)):  # no channel layer: a new websocket is refused...
        group_ws(server, http, group).recv_until(lambda m: "group-lag" in m, 5)
    assert server.proc is not None and server.proc.poll() is None  # ...and the server lives on

    # --- Redis is back (empty) ------------------------------------------------------------------------
    redis.start()
    wait_until(lambda: "cache-unavailable" not in http.get(page).text, 15, what="the cache banner goes away")

    def reconnect() -> WebSocket | None:
        """What the page's websocket does: try again until the layer answers (the first try after
        Redis came back may be refused, 1013, while the server's pool meets its stale connections)."""
        try:
            ws = group_ws(server, http, group)
            ws.recv_until(lambda m: 'data-testid="group-lag">8<' in m, 10)
            return ws
        except WebSocketClosed:
            return None

    ws = wait_until(reconnect, 30, interval=0.5, what="a websocket connects again")
    commit(kafka, group, [(topic, 0, 18)])
    ws.recv_until(lambda m: 'data-testid="group-lag">2<' in m, 15)  # live updates through Redis again
    ws.close()
    assert http.get(api).json()["total_lag"] == 2 and http.get("/readyz").status == 200

    log = server.log()
    assert log.count("snapshot cache unavailable") == 1, log[-3000:]
    assert "snapshot cache available again" in log
    assert log.count("live updates not sent") <= 1 and "poll cycle for cluster" not in log, log[-3000:]
    assert server.starts == 1 and server.proc.poll() is None
