"""The memory of every dashboard process together at W4 (50,000 groups x 10 partitions), on a real
broker: `manage.py serve` as `make run` starts it (embedded poller, offsets source "auto"), its
collector child and record-reader children included (`make bench-scale-rss`).

The broker is seeded as bench_scale.py seeds W4 (the same names, offsets and live members); while
the server runs, 1 % of the groups commit again every poll interval and a browser-like client asks
for the groups page (sorted by lag, a search), a group page, the overview and /metrics. Sampled
every second from /proc: the RSS and PSS of the server and each of its descendants (PSS shares the
pages the processes have in common fairly, so the sum of PSS is what the processes cost the machine
together). Cold start: the time from the server's start until the API lists every group, and the
catch-up progress the status bar showed on the way ("loading committed offsets ... N of M records").

Usage: .venv/bin/python bench/bench_scale_rss.py [--groups 50000] [--steady-s 960] [--json-out FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import scale_rss_report  # noqa: E402
from bench_load import CLUSTER, login, wait_port  # noqa: E402
from bench_scale import CHURN, LAG, LIVE, PARTITIONS, TOPICS, commits, group, read_back, topic  # noqa: E402
from common import LiveMembers, create_topics, fill_partitions, prepare_database, start_broker  # noqa: E402

from tests.kafka_support import free_port, seed_commits, terminate  # noqa: E402

T0 = time.monotonic()
PROGRESS = re.compile(r"loading committed offsets from __consumer_offsets: (\d+) of (\d+) records")


def log(message: str) -> None:
    print(f"[{time.monotonic() - T0:7.1f}s] {message}", file=sys.stderr, flush=True)


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (the collector child, the reader pool, their children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
    return out


def memory_kb(pid: int) -> tuple[str, int, int] | None:
    """(what the process is, RSS kB, PSS kB), or None once it is gone."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    rss = int(re.search(r"^Rss:\s+(\d+) kB", rollup, re.M).group(1))
    pss = int(re.search(r"^Pss:\s+(\d+) kB", rollup, re.M).group(1))
    return role(argv), rss, pss


def role(argv: list[bytes]) -> str:
    text = b" ".join(argv).decode(errors="replace")
    if "manage.py serve" in text:
        return "server"
    if "multiprocessing" in text or "spawn_main" in text:
        return "child"
    return text.split(" ", 1)[0].rsplit("/", 1)[-1] or "?"


def sample(root: int) -> dict:
    procs = [m for m in (memory_kb(p) for p in descendants(root)) if m is not None]
    return {
        "t": round(time.monotonic() - T0, 1),
        "processes": len(procs),
        "rss_mb": round(sum(r for _, r, _ in procs) / 1024, 1),
        "pss_mb": round(sum(p for _, _, p in procs) / 1024, 1),
        "by_role_rss_mb": {
            name: round(sum(r for n, r, _ in procs if n == name) / 1024, 1) for name in sorted({n for n, _, _ in procs})
        },
    }


def get(url: str, cookie: str, timeout: float = 60) -> tuple[int, bytes, float]:
    t = time.monotonic()
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read(), time.monotonic() - t
    except urllib.error.HTTPError as exc:
        return exc.code, b"", time.monotonic() - t


def cold_start(base: str, cookie: str, size: int, started: float, timeout: float = 900) -> dict:
    """Until the API lists every group: the status bar's catch-up progress seen on the way."""
    progress: list[tuple[float, int, int]] = []
    deadline = time.monotonic() + timeout
    api = f"{base}/api/v1/clusters/{CLUSTER}/groups/?page_size=1"
    while time.monotonic() < deadline:
        _, page, _ = get(f"{base}/c/{CLUSTER}/", cookie)
        found = PROGRESS.search(page.decode(errors="replace"))
        if found:
            progress.append((round(time.monotonic() - started, 1), int(found.group(1)), int(found.group(2))))
        status, body, _ = get(api, cookie)
        with contextlib.suppress(ValueError):
            if status == 200 and json.loads(body).get("count", 0) >= size:
                return {"first_full_snapshot_s": round(time.monotonic() - started, 1), "progress_seen": progress}
        time.sleep(0.5)
    raise RuntimeError("the server never listed every group")


class Churn(threading.Thread):
    """1 % of the groups commit new offsets every interval, as in bench_scale.py's steady cycles."""

    def __init__(self, broker, size: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.config, self.size, self.interval = broker.config(), size, interval
        self.halt = threading.Event()
        self.rounds = 0

    def run(self) -> None:
        rng = random.Random(self.size)
        while not self.halt.wait(self.interval):
            churned = rng.sample(range(len(LIVE), self.size), max(1, int(self.size * CHURN)))  # not the live groups
            seed_commits(self.config, commits(churned, bump=self.rounds + 1))
            self.rounds += 1


class CycleWatch(threading.Thread):
    """The poll cycles as the API shows them: each new `collected_at` and when it was first seen.

    The gaps between collection times are the cycle period (the poll interval while everything keeps
    up, longer when a cycle's collection and downstream steps take more than the interval); first
    seen minus collected is how long a snapshot took from the start of its collection to the pages.
    """

    def __init__(self, base: str, cookie: str) -> None:
        super().__init__(daemon=True)
        self.url, self.cookie = f"{base}/api/v1/clusters/{CLUSTER}/", cookie
        self.halt = threading.Event()
        self.seen: list[tuple[float, float]] = []  # (collected_at, first seen), unix seconds

    def run(self) -> None:
        while not self.halt.wait(0.25):
            with contextlib.suppress(OSError, ValueError):
                status, body, _ = get(self.url, self.cookie, timeout=30)
                at = json.loads(body).get("collected_at") if status == 200 else None
                if at is None:
                    continue
                collected = datetime.fromisoformat(at).timestamp()
                if not self.seen or collected > self.seen[-1][0]:
                    self.seen.append((collected, time.time()))

    def summary(self) -> dict:
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(self.seen)]
        delays = [seen - collected for collected, seen in self.seen[1:]]
        if not gaps:
            return {"cycles_seen": len(self.seen)}
        return {
            "cycles_seen": len(self.seen),
            "cycle_period_s": {"p50": round(statistics.median(gaps), 2), "max": round(max(gaps), 2)},
            "collected_to_pages_s": {"p50": round(statistics.median(delays), 2), "max": round(max(delays), 2)},
        }


def steady(root: int, base: str, cookie: str, seconds: float) -> dict:
    pages = [
        f"{base}/c/{CLUSTER}/groups/?sort=lag",
        f"{base}/c/{CLUSTER}/groups/?sort=lag&q=g0123&page=2",
        f"{base}/c/{CLUSTER}/groups/{group(7)}/",
        f"{base}/c/{CLUSTER}/",
        f"{base}/metrics",
    ]
    samples, answers, n = [], [], 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        samples.append(sample(root))
        status, body, took = get(pages[n % len(pages)], cookie)
        answers.append((pages[n % len(pages)].removeprefix(base), status, len(body), round(took * 1000)))
        n += 1
        time.sleep(1)
    bad = [a for a in answers if a[1] != 200]
    if bad:
        raise RuntimeError(f"pages failed during the run: {bad[:3]}")
    times: dict[str, list[int]] = {}
    for path, _, _, ms in answers:
        times.setdefault(path, []).append(ms)
    pages = {path: {"p50": round(statistics.median(ms)), "max": max(ms)} for path, ms in times.items()}
    return {"samples": samples, "requests": len(answers), "page_ms": pages}


def summarise(samples: list[dict], rows: int) -> dict:
    last = samples[-1]
    return {
        "rss_mb_max": max(s["rss_mb"] for s in samples),
        "pss_mb_max": max(s["pss_mb"] for s in samples),
        "rss_mb_end": last["rss_mb"],
        "pss_mb_end": last["pss_mb"],
        "processes": last["processes"],
        "by_role_rss_mb_end": last["by_role_rss_mb"],
        "pss_bytes_per_row_max": round(max(s["pss_mb"] for s in samples) * 2**20 / rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=50_000)
    parser.add_argument(
        "--steady-s", type=float, default=960, help="past the 900 s trend window, so every window is full"
    )
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--json-out", default=None)
    parser.add_argument("--results", default=str(REPO / "bench" / "RESULTS.md"), help="'' to leave it")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    with tempfile.TemporaryDirectory(prefix="bench-scale-rss-") as tmp_name:
        tmp = Path(tmp_name)
        broker = start_broker(tmp / "kafka")
        live = churn = server = None
        try:
            topics = {topic(i): PARTITIONS for i in range(TOPICS)}
            create_topics(broker.bootstrap, topics)
            fill_partitions(broker.bootstrap, topics, 2 * LAG)
            t = time.monotonic()
            seed_commits(broker.config(), commits(range(args.groups)), timeout=1800)
            read_back(broker.bootstrap, random.Random(1).sample(range(args.groups), 20))
            log(f"seeded {args.groups} groups in {time.monotonic() - t:.1f} s")
            members = [
                {"group": group(k), "topic": topic(k), "protocol": protocol}
                for k, (protocol, n) in enumerate(LIVE)
                for _ in range(n)
            ]
            live = LiveMembers(broker.bootstrap, members)
            env = {
                **os.environ,
                "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
                "KAFKA_CLUSTER_NAME": CLUSTER,
                "POLL_INTERVAL": str(args.interval),
                "DASHBOARD_VAR_DIR": str(tmp),
                "SQLITE_PATH": str(tmp / "db.sqlite3"),
            }
            password = prepare_database(env)
            port = free_port()
            started = time.monotonic()
            server = subprocess.Popen(
                [sys.executable, "manage.py", "serve", "--port", str(port)],
                cwd=REPO,
                env=env,
                stdout=(tmp / "server.log").open("w"),
                stderr=subprocess.STDOUT,
            )
            wait_port(port, timeout=60)
            base = f"http://127.0.0.1:{port}"
            cookie = login(base, password)
            start = cold_start(base, cookie, args.groups, started)
            seen = len(start["progress_seen"])
            log(f"first full snapshot after {start['first_full_snapshot_s']} s; {seen} progress views")
            churn = Churn(broker, args.groups, args.interval)
            churn.start()
            watch = CycleWatch(base, cookie)
            watch.start()
            run = steady(server.pid, base, cookie, args.steady_s)
            watch.halt.set()
            results = {
                "groups": args.groups,
                "group_partition_rows": args.groups * PARTITIONS,
                "steady_s": args.steady_s,
                "churn_rounds": churn.rounds,
                "load_avg_end": round(os.getloadavg()[0], 1),
                **start,
                **summarise(run["samples"], args.groups * PARTITIONS),
                "page_requests": run["requests"],
                "page_ms": run["page_ms"],
                "cycles": watch.summary(),
                "samples": run["samples"],
            }
        finally:
            if churn is not None:
                churn.halt.set()
                churn.join(60)
            if server is not None:
                terminate(server)
            if live is not None:
                live.stop()
            broker.down()
    text = json.dumps(results, indent=2)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")
    if args.results:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
        path = Path(args.results)
        path.write_text(
            scale_rss_report.replace(path.read_text(), scale_rss_report.render(results, commit.stdout.strip()))
        )
    print(json.dumps({k: v for k, v in results.items() if k != "samples"}, indent=2))


if __name__ == "__main__":
    main()
