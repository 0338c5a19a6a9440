"""The load generator of bench_load.py, in its own process (its CPU is not the servers').

One asyncio loop holds N websockets on live pages (spread over the servers, as a load balancer
would) and sends HTTP GETs open-loop at a fixed rate: request i is due at start + i/rate whatever
happened to the earlier ones, and its latency is counted from that due time (so a stalled server
cannot hide its backlog). At the end it reads the servers' publish events (load_instrumented.py)
and counts, per websocket, the live updates sent to its groups while it was connected that it
never received: the dropped updates.

Usage: load_client.py CONFIG.json  (written by bench_load.py; prints one JSON object)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import statistics
import struct
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

HTTP_TIMEOUT_S = 10.0
GRACE_S = 10.0  # a send this close to the end may still be in flight: not counted either way


def groups_of(path: str) -> list[str]:
    """The channel-layer groups a live page joins, by the server's own parser (dashboard.live.registry)."""
    import django

    django.setup()
    from dashboard.live.registry import page_fragments

    url = urlsplit(path)
    page = url.path.rstrip("/").rsplit("/", 1)[-1]
    return [spec.group for spec in page_fragments(page, dict(parse_qsl(url.query)))]


@dataclass
class WsClient:
    """A minimal RFC 6455 client that reconnects (as htmx's ws extension does) and records arrivals."""

    index: int
    server: str
    path: str
    cookie: str
    groups: list[str]
    windows: list[list[float]] = field(default_factory=list)  # [connected_at, closed_at]
    received: Counter = field(default_factory=Counter)  # sha1 of each live message after the first
    messages: int = 0
    connects: int = 0
    disconnects: int = 0
    errors: list[str] = field(default_factory=list)
    first: asyncio.Event = field(default_factory=asyncio.Event)
    stopping: bool = False

    async def run(self) -> None:
        while not self.stopping:
            try:
                await self.session()
            except (OSError, asyncio.IncompleteReadError, RuntimeError, ValueError) as exc:
                if not self.stopping:
                    self.errors.append(f"{type(exc).__name__}: {exc}"[:200])
            if self.windows and self.windows[-1][1] is None:
                self.windows[-1][1] = time.monotonic()
                if not self.stopping:
                    self.disconnects += 1
            if not self.stopping:
                await asyncio.sleep(1.0)

    async def session(self) -> None:
        host, port = self.server.split(":")
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 10)
        try:
            key = base64.b64encode(os.urandom(16)).decode()
            writer.write(
                (
                    f"GET {self.path} HTTP/1.1\r\nHost: {self.server}\r\nUpgrade: websocket\r\n"
                    f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                    f"Origin: http://{self.server}\r\nCookie: {self.cookie}\r\n\r\n"
                ).encode()
            )
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            if b" 101 " not in head.split(b"\r\n", 1)[0]:
                raise RuntimeError(f"websocket refused: {head[:120]!r}")
            self.connects += 1
            self.windows.append([time.monotonic(), None])
            initial = True
            message = bytearray()
            while True:
                b1, b2 = await reader.readexactly(2)
                length = b2 & 0x7F
                if length == 126:
                    (length,) = struct.unpack(">H", await reader.readexactly(2))
                elif length == 127:
                    (length,) = struct.unpack(">Q", await reader.readexactly(8))
                payload = await reader.readexactly(length)  # server frames are not masked
                opcode = b1 & 0x0F
                if opcode == 0x9:
                    self.send(writer, 0xA, payload)
                    continue
                if opcode == 0x8:
                    code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
                    if not self.stopping:
                        self.errors.append(f"closed by the server ({code})")
                    return
                if opcode in (0x0, 0x1, 0x2):
                    message += payload
                    if b1 & 0x80:
                        if initial:
                            initial = False
                            self.first.set()
                        else:
                            self.messages += 1
                            self.received[hashlib.sha1(bytes(message), usedforsecurity=False).hexdigest()] += 1
                        message.clear()
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    @staticmethod
    def send(writer: asyncio.StreamWriter, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        writer.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)


async def http_get(server: str, path: str, cookie: str) -> tuple[int, int]:
    """One GET on a fresh connection (Connection: close); returns (status, body bytes)."""
    host, port = server.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {server}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n".encode())
        data = await reader.read()
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    status_line = data.split(b"\r\n", 1)[0].split()
    status = int(status_line[1]) if len(status_line) > 1 else 0
    return status, len(data)


def pct(ordered: list[float], q: float) -> float | None:
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1) if ordered else None


def summarize(rows: list[dict]) -> dict:
    lat = sorted(r["latency"] for r in rows if r["ok"])
    errors = [r for r in rows if not r["ok"]]
    return {
        "requests": len(rows),
        "errors": len(errors),
        "error_kinds": dict(Counter(r["error"] for r in errors)),
        "p50_ms": pct(lat, 0.50),
        "p95_ms": pct(lat, 0.95),
        "p99_ms": pct(lat, 0.99),
        "max_ms": round(lat[-1] * 1000, 1) if lat else None,
    }


class Load:
    def __init__(self, config: dict) -> None:
        self.config = config
        self.rows: list[dict] = []
        self.late: list[float] = []

    async def run(self) -> dict:
        cfg = self.config
        servers = cfg["servers"]
        groups = {path: groups_of(path) for path in set(cfg["ws_paths"])}
        clients = [
            WsClient(i, servers[i % len(servers)], path, cfg["cookie"], groups[path])
            for i, path in enumerate(cfg["ws_paths"])
        ]
        t0 = time.monotonic()
        tasks = []
        for i in range(0, len(clients), 25):  # connect in waves, as pages opening over a few seconds
            batch = clients[i : i + 25]
            tasks += [asyncio.create_task(c.run()) for c in batch]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(c.first.wait() for c in batch)), 60)
        connect_s = time.monotonic() - t0
        connected = sum(1 for c in clients if c.first.is_set())
        print(json.dumps({"progress": f"{connected} websockets open in {connect_s:.1f}s"}), file=sys.stderr, flush=True)

        start = time.monotonic()
        end = start + cfg["duration"]
        http_tasks = []
        paths = cfg["http_paths"]
        i = 0
        while True:
            due = start + i / cfg["rate"]
            if due >= end:
                break
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self.late.append(time.monotonic() - due)
            server = servers[i % len(servers)]
            http_tasks.append(asyncio.create_task(self.request(server, paths[i % len(paths)], due, start)))
            i += 1
            if i % (cfg["rate"] * 60) == 0:
                minute = summarize(self.rows[-cfg["rate"] * 60 :])
                print(
                    json.dumps({"progress": f"minute {i // (cfg['rate'] * 60)}", **minute}), file=sys.stderr, flush=True
                )
        await asyncio.gather(*http_tasks)
        stopped_at = time.monotonic()
        for c in clients:
            c.stopping = True
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for c in clients:
            if c.windows and c.windows[-1][1] is None:
                c.windows[-1][1] = stopped_at
        await asyncio.sleep(2)  # the servers' last event lines
        return self.report(clients, start, stopped_at, connect_s, connected)

    async def request(self, server: str, path: str, due: float, start: float) -> None:
        row = {"minute": int((due - start) // 60), "path": path, "server": server, "ok": False, "error": None}
        try:
            status, size = await asyncio.wait_for(http_get(server, path, self.config["cookie"]), HTTP_TIMEOUT_S)
            row["status"], row["bytes"] = status, size
            row["ok"] = 200 <= status < 300
            if not row["ok"]:
                row["error"] = f"HTTP {status}"
        except TimeoutError:
            row["error"] = "timeout"
        except OSError as exc:
            row["error"] = type(exc).__name__
        row["latency"] = time.monotonic() - due
        self.rows.append(row)

    def report(
        self, clients: list[WsClient], start: float, stopped_at: float, connect_s: float, connected: int
    ) -> dict:
        publishes = []
        drops_by_file = {}
        layers: set[tuple[str, int]] = set()
        for name in self.config["event_files"]:
            with contextlib.suppress(FileNotFoundError):
                for line in Path(name).read_text().splitlines():
                    event = json.loads(line)
                    if event["event"] == "publish":
                        publishes.append(event)
                    elif event["event"] == "drops":
                        drops_by_file[name] = event["total"]
                    elif event["event"] == "start":
                        layers.add((event["layer"].rsplit(".", 1)[-1], event["capacity"]))
        by_group: dict[str, list[tuple[float, float, str]]] = {}
        for p in publishes:
            for group, sha in p["sends"]:
                by_group.setdefault(group, []).append((p["t0"], p["t1"], sha))
        expected_total = received_total = missing_total = 0
        per_client = []
        for c in clients:
            expected: Counter = Counter()
            for group in c.groups:
                for t0, t1, sha in by_group.get(group, ()):
                    if t1 > stopped_at - GRACE_S:
                        continue
                    if any(w0 <= t0 and t1 <= w1 for w0, w1 in c.windows):
                        expected[sha] += 1
            missing = sum((expected - c.received).values())
            expected_total += sum(expected.values())
            received_total += sum(min(n, c.received[sha]) for sha, n in expected.items())
            missing_total += missing
            per_client.append(
                {"expected": sum(expected.values()), "missing": missing, "messages": c.messages, "page": c.path}
            )
        messages = [c.messages for c in clients]
        cycles = [p for p in publishes if start <= p["t0"] <= stopped_at]
        by_minute: dict[int, list[dict]] = {}
        for r in self.rows:
            by_minute.setdefault(r["minute"], []).append(r)
        late = sorted(self.late)
        return {
            "http": {
                **summarize(self.rows),
                "rate_per_s": self.config["rate"],
                "by_minute": [{"minute": m, **summarize(rows)} for m, rows in sorted(by_minute.items())],
                "by_kind": {k: summarize(v) for k, v in sorted(self.by_kind().items())},
                "send_lateness_p99_ms": pct(late, 0.99),
                "send_lateness_max_ms": round(late[-1] * 1000, 1) if late else None,
            },
            "websockets": {
                "clients": len(clients),
                "open_after_connect": connected,
                "connect_s": round(connect_s, 1),
                "connects": sum(c.connects for c in clients),
                "disconnects": sum(c.disconnects for c in clients),
                "errors": sum(len(c.errors) for c in clients),
                "error_examples": sorted({e for c in clients for e in c.errors})[:5],
                "updates_received_total": sum(messages),
                "updates_per_client": {
                    "min": min(messages),
                    "median": statistics.median(messages),
                    "max": max(messages),
                },
                "by_page": self.by_page(per_client),
            },
            "live_updates": {
                "publish_cycles": len(cycles),
                "publish_failed_cycles": sum(1 for p in cycles if not p["ok"]),
                "group_sends": sum(len(p["sends"]) for p in cycles),
                "deliveries_expected": expected_total,
                "deliveries_received": received_total,
                "dropped": missing_total,
                "clients_with_drops": sum(1 for p in per_client if p["missing"]),
                "channel_layer_drops_counted": sum(drops_by_file.values()),
                "channel_layer": [{"backend": b, "capacity": c} for b, c in sorted(layers)],
            },
        }

    def by_kind(self) -> dict[str, list[dict]]:
        kinds: dict[str, list[dict]] = {}
        for r in self.rows:
            kinds.setdefault(kind(r["path"]), []).append(r)
        return kinds

    @staticmethod
    def by_page(per_client: list[dict]) -> dict:
        pages: dict[str, dict] = {}
        for p in per_client:
            entry = pages.setdefault(kind(p["page"]), {"clients": 0, "expected": 0, "missing": 0, "messages": 0})
            entry["clients"] += 1
            for k in ("expected", "missing", "messages"):
                entry[k] += p[k]
        return pages


def kind(path: str) -> str:
    """A page or API endpoint's kind, for per-kind figures: 'page groups', 'api group', 'ws overview'."""
    url = urlsplit(path).path
    parts = [p for p in url.split("/") if p]
    if parts[:1] == ["ws"]:
        return f"ws {parts[2]}"
    if parts[:1] == ["api"]:
        rest = parts[4:]
        return "api " + ("cluster" if not rest else rest[0] if len(rest) == 1 else rest[0].rstrip("s"))
    rest = parts[2:]
    return "page " + ("overview" if not rest else rest[0] if len(rest) == 1 else rest[0].rstrip("s"))


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps(asyncio.run(Load(config).run())))


if __name__ == "__main__":
    main()
