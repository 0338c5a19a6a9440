"""Live fan-out: 200 websocket clients on the groups page (sorted by lag) of a W1-size cluster;
each update (new offsets committed for one group, so the groups table changes) is measured from
the poller's cycle end to the last client receiving the changed groups-table fragment, with the
server CPU it took, and the number of times the publisher rendered that fragment (once is the
design: one render, sent to every subscriber).

The server runs as bench/serve_instrumented.py (manage.py serve plus event hooks; no product
code changed), so cycle ends, renders and the moment every consumer has sent are known exactly.
Clients are minimal RFC 6455 clients on one asyncio loop in this process (no extra dependency),
sending the logged-in session cookie and an Origin of the server's host.

Usage: .venv/bin/python bench/bench_fanout.py [--clients 200] [--groups 1000] [--updates 5] [--interval 5]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_pages import login, wait_for_groups
from common import (
    REPO,
    commit_offsets,
    create_topics,
    fill_partitions,
    name_prefix,
    prepare_database,
    proc_cpu_s,
    start_broker,
)

from tests.kafka_support import free_port

TOPICS, PARTITIONS, LAG = 10, 10, 5
PREFIX = name_prefix()
FRAGMENT_ID = re.compile(rb'id="([^"]+)"')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=5)
    parser.add_argument("--interval", type=float, default=5.0, help="POLL_INTERVAL of the server (seconds)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    broker = start_broker(tmp / "kafka")
    server = None
    try:
        started = time.monotonic()
        topics = {f"{PREFIX}fo-t{i}": PARTITIONS for i in range(TOPICS)}
        create_topics(broker.bootstrap, topics)
        fill_partitions(broker.bootstrap, topics, 2 * LAG)
        names = list(topics)
        commit_offsets(
            broker.bootstrap,
            [
                (group_id(i), [(names[i % TOPICS], p, LAG + (i + p) % LAG) for p in range(PARTITIONS)])
                for i in range(args.groups)
            ],
        )
        seed_s = time.monotonic() - started
        events_path = tmp / "events.jsonl"
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
            "KAFKA_CLUSTER_NAME": "bench",
            "POLL_INTERVAL": str(args.interval),
            "DASHBOARD_VAR_DIR": str(tmp),
            "SQLITE_PATH": str(tmp / "db.sqlite3"),
            "BENCH_EVENTS": str(events_path),
        }
        password = prepare_database(env)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("serve_instrumented.py")), "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=(tmp / "server.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        opener = login(base, password)
        wait_for_groups(opener, base, args.groups)
        cookie = "; ".join(
            f"{c.name}={c.value}" for h in opener.handlers if hasattr(h, "cookiejar") for c in h.cookiejar
        )
        bench = FanoutBench(port, cookie, EventLog(events_path), server.pid, broker.bootstrap, args)
        results = asyncio.run(bench.run())
        print(
            json.dumps(
                {
                    "bench": "fanout",
                    "clients": args.clients,
                    "groups": args.groups,
                    "partitions_per_group": PARTITIONS,
                    "poll_interval_s": args.interval,
                    "seed_s": round(seed_s, 1),
                    "targets": {"rendered_per_update": 1},
                    **results,
                },
                indent=2,
            )
        )
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
        broker.down()
        shutil.rmtree(tmp, ignore_errors=True)


def group_id(i: int) -> str:
    return f"{PREFIX}fo-g{i:05d}"


class EventLog:
    """Reads the server's event lines as they are written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.events: list[dict] = []

    def read(self) -> list[dict]:
        with contextlib.suppress(FileNotFoundError), self.path.open("rb") as f:
            f.seek(self.offset)
            data = f.read()
            end = data.rfind(b"\n") + 1
            self.offset += end
            self.events.extend(json.loads(line) for line in data[:end].splitlines() if line.strip())
        return self.events

    async def wait_for(self, predicate, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.read():
                if predicate(event):
                    return event
            await asyncio.sleep(0.02)
        raise TimeoutError("the server never logged the expected event")


class Client:
    """A minimal websocket client: handshake, read frames, answer pings, record arrivals."""

    def __init__(self, bench: FanoutBench) -> None:
        self.bench = bench
        self.arrivals: list[tuple[float, str, int, bool]] = []  # (t, fragment id, bytes, has marker)
        self.first = asyncio.get_running_loop().create_future()
        self.writer: asyncio.StreamWriter | None = None

    async def run(self, path: str) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.bench.port)
        self.writer = writer
        key = base64.b64encode(os.urandom(16)).decode()
        host = f"127.0.0.1:{self.bench.port}"
        writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://{host}\r\n"
                f"Cookie: {self.bench.cookie}\r\n\r\n"
            ).encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"websocket refused: {head[:200]!r}")
        message = bytearray()
        while True:
            b1, b2 = await reader.readexactly(2)
            length = b2 & 0x7F
            if length == 126:
                (length,) = struct.unpack(">H", await reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack(">Q", await reader.readexactly(8))
            mask = await reader.readexactly(4) if b2 & 0x80 else None
            payload = await reader.readexactly(length)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            opcode = b1 & 0x0F
            if opcode == 0x9:  # ping
                self.send(0xA, payload)
                continue
            if opcode == 0x8:  # close
                return
            if opcode in (0x0, 0x1, 0x2):
                message += payload
                if b1 & 0x80:  # FIN
                    self.arrived(bytes(message))
                    message.clear()

    def arrived(self, message: bytes) -> None:
        now = time.monotonic()
        found = FRAGMENT_ID.search(message[:300])
        marker = self.bench.marker
        self.arrivals.append((now, found.group(1).decode() if found else "?", len(message), marker in message))
        if not self.first.done():
            self.first.set_result(now)

    def send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)


class FanoutBench:
    def __init__(self, port: int, cookie: str, log: EventLog, pid: int, bootstrap: str, args) -> None:
        self.port, self.cookie, self.log, self.pid, self.bootstrap, self.args = port, cookie, log, pid, bootstrap, args
        self.marker = b"\x00never"

    async def run(self) -> dict:
        path = "/ws/live/groups/?cluster=bench&sort=lag"
        clients = [Client(self) for _ in range(self.args.clients)]
        t0 = time.monotonic()
        tasks = []
        for i in range(0, len(clients), 20):  # connect in waves of 20
            batch = clients[i : i + 20]
            tasks += [asyncio.create_task(c.run(path)) for c in batch]
            await asyncio.wait_for(asyncio.gather(*(c.first for c in batch)), 120)
        connect_s = time.monotonic() - t0
        updates = []
        for n in range(self.args.updates):
            # Right after a cycle ended, push group n to the top of the lag-sorted list.
            now = time.monotonic()
            await self.log.wait_for(lambda e, now=now: e["event"] == "cycle_end" and e["t"] > now)
            target = group_id(self.args.groups // 2 + n * 7)
            self.marker = target.encode()
            topic = f"{PREFIX}fo-t{(self.args.groups // 2 + n * 7) % TOPICS}"
            committed_at = time.monotonic()
            await asyncio.to_thread(commit_offsets, self.bootstrap, [(target, [(topic, p, 0) for p in range(10)])])
            updates.append(await self.one_update(clients, committed_at, target))
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        ok = [u for u in updates if "error" not in u]
        rendered = [e for e in self.log.read() if e["event"] == "rendered"]
        return {
            "connect_s": round(connect_s, 1),
            "connect_renders": rendered[-1]["connect_renders"] if rendered else None,
            "cycles_seen": len(rendered),
            "cycles_with_groups_table_changed": sum(1 for e in rendered if "groups-table" in e["changed"]),
            "publisher_renders_total": rendered[-1]["renders_total"] if rendered else None,
            "summary": summarize(ok) if ok else None,
            "updates": updates,
        }

    async def one_update(self, clients: list[Client], committed_at: float, target: str) -> dict:
        # The first cycle that started after the commit is the one that shows it.
        cycle_end = await self.log.wait_for(
            lambda e: e["event"] == "cycle_end" and e["started"] > committed_at, timeout=60
        )
        rendered = await self.log.wait_for(lambda e: e["event"] == "rendered" and e["t"] >= cycle_end["t"])
        try:
            all_sent = await self.log.wait_for(
                lambda e: e["event"] == "all_sent" and e["fragment"] == "groups-table" and e["t"] >= cycle_end["t"],
                timeout=30,
            )
        except TimeoutError:
            return {"error": "groups-table was not sent to every client", "rendered": rendered}
        deadline = time.monotonic() + 30
        while True:
            got = [
                next((a for a in c.arrivals if a[1] == "groups-table" and a[3] and a[0] >= cycle_end["t"]), None)
                for c in clients
            ]
            if all(got) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.02)
        received = [a for a in got if a]
        cpu_after = proc_cpu_s(self.pid)
        times = sorted(a[0] - cycle_end["t"] for a in received)
        return {
            "target": target,
            "clients": len(clients),
            "clients_received": len(received),
            "cycle_collect_ms": cycle_end["collect_ms"],
            "render_ms": round((rendered["t"] - cycle_end["t"]) * 1000, 1),
            "server_all_sent_ms": round((all_sent["t"] - cycle_end["t"]) * 1000, 1),
            "first_client_ms": round(times[0] * 1000, 1) if times else None,
            "last_client_ms": round(times[-1] * 1000, 1) if times else None,
            "spread_ms": round((times[-1] - times[0]) * 1000, 1) if times else None,
            "server_cpu_ms": round((all_sent["cpu"] - cycle_end["cpu"]) * 1000, 1),
            "server_cpu_render_ms": round((rendered["cpu"] - cycle_end["cpu"]) * 1000, 1),
            "server_cpu_to_last_client_ms": round((cpu_after - cycle_end["cpu"]) * 1000),
            "publisher_renders": rendered["renders"],
            "changed_fragments_bytes": rendered["changed"],
        }


def summarize(updates: list[dict]) -> dict:
    def med(key: str) -> float:
        return round(statistics.median(u[key] for u in updates), 1)

    renders = [u["publisher_renders"].get("groups-table", 0) for u in updates]
    return {
        "updates": len(updates),
        "last_client_ms_median": med("last_client_ms"),
        "last_client_ms_max": max(u["last_client_ms"] for u in updates),
        "first_client_ms_median": med("first_client_ms"),
        "spread_ms_median": med("spread_ms"),
        "render_ms_median": med("render_ms"),
        "server_cpu_ms_median": med("server_cpu_ms"),
        "server_cpu_render_ms_median": med("server_cpu_render_ms"),
        "groups_table_renders_per_update": sorted(set(renders)),
        "rendered_once": all(r == 1 for r in renders),
        "all_clients_received": all(u["clients_received"] == u["clients"] for u in updates),
        "groups_table_bytes": updates[-1]["changed_fragments_bytes"].get("groups-table"),
    }


if __name__ == "__main__":
    main()
