"""Load (issue 7, section 4): 300 open websockets and 50 page requests a second for 10 minutes,
against the embedded default and against the scaled-out setup; errors, dropped live updates,
memory and CPU. Not part of `make bench` (it takes over 20 minutes): `make bench-load`.

- embedded: one `manage.py serve` (SQLite, in-memory channel layer, locmem cache, in-process poller).
- scaled:   redis-server, a PostgreSQL server (tests/postgres_support.py: Debian's binaries; with
            --database sqlite, or without them, one shared SQLite file), two
            `manage.py serve --no-poller` (POLLER_IN_PROCESS=false, REDIS_URL) and one `manage.py poll_kafka`.

The servers run as bench/load_instrumented.py (the same commands plus event lines: what every
poll cycle sent to which channel-layer group, and the channel layer's own drop count). The load
comes from bench/load_client.py in its own process. The workload keeps changing while it runs:
records are produced to every partition and a slice of the groups commits new offsets every
second, so every poll cycle changes live fragments and every websocket has updates to receive.
Memory: RSS of every server process every 10 s; "flat" is judged by the least-squares slope after
a warm-up. Prints one JSON object; bench/LOAD.md has the figures and how to read them.

Usage: .venv/bin/python bench/bench_load.py [--mode embedded|scaled|both] [--duration 600]
           [--websockets 300] [--rate 50] [--groups 300] [--capacity 100] [--json-out FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from common import (
    REPO,
    commit_offsets,
    create_topics,
    fill_partitions,
    machine,
    name_prefix,
    prepare_database,
    proc_cpu_s,
    start_broker,
)
from confluent_kafka import ConsumerGroupTopicPartitions, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from tests.kafka_support import free_port
from tests.postgres_support import PostgresServer, bin_dir

TOPICS, PARTITIONS = 10, 4
PREFIX = name_prefix()
CLUSTER = "bench"
SAMPLE_EVERY_S = 10.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("embedded", "scaled", "both"), default="both")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load per mode")
    parser.add_argument("--websockets", type=int, default=300)
    parser.add_argument("--rate", type=int, default=50, help="HTTP requests per second (open loop)")
    parser.add_argument("--groups", type=int, default=300)
    parser.add_argument("--interval", type=float, default=5.0, help="POLL_INTERVAL (seconds)")
    parser.add_argument("--capacity", type=int, help="CHANNEL_LAYER_CAPACITY (default: the settings' default)")
    parser.add_argument(
        "--database",
        choices=("postgres", "sqlite"),
        default="postgres" if bin_dir() else "sqlite",
        help="the scaled-out setup's database (default: PostgreSQL when its binaries are installed)",
    )
    parser.add_argument("--json-out", type=Path, help="also write the JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (server logs, events)")
    parser.add_argument("--markdown", type=Path, nargs="+", help="only print the tables of these JSON results")
    args = parser.parse_args()
    if args.markdown:
        for path in args.markdown:
            print(markdown(json.loads(path.read_text())))
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    broker = start_broker(tmp / "kafka")
    churn = None
    try:
        started = time.monotonic()
        topics = {f"{PREFIX}ld-t{i}": PARTITIONS for i in range(TOPICS)}
        create_topics(broker.bootstrap, topics)
        fill_partitions(broker.bootstrap, topics, 100)
        names = list(topics)
        commit_offsets(
            broker.bootstrap,
            [
                (group_id(i), [(names[i % TOPICS], p, 50 + (i + p) % 50) for p in range(PARTITIONS)])
                for i in range(args.groups)
            ],
        )
        seed_s = time.monotonic() - started
        churn = Churn(broker.bootstrap, names, args.groups)
        churn.start()
        modes = ("embedded", "scaled") if args.mode == "both" else (args.mode,)
        results = {
            "bench": "load",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "kafka": kafka_version(),
            "workload": {
                "groups": args.groups,
                "topics": TOPICS,
                "partitions_per_topic": PARTITIONS,
                "churn": "every second: 20 records into every partition, new commits for 1/10 of the groups",
                "poll_interval_s": args.interval,
                "websockets": args.websockets,
                "http_rate_per_s": args.rate,
                "duration_s": args.duration,
                "channel_layer_capacity": args.capacity,
                "scaled_database": args.database,
                "seed_s": round(seed_s, 1),
            },
            "modes": {},
        }
        for mode in modes:
            print(f"--- {mode}", file=sys.stderr, flush=True)
            results["modes"][mode] = ModeRun(mode, broker.bootstrap, tmp / mode, args).run()
        results["churn"] = {"commits": churn.commits, "errors": churn.errors}
        text = json.dumps(results, indent=2)
        print(text)
        if args.json_out:
            args.json_out.write_text(text + "\n")
    finally:
        if churn is not None:
            churn.stop()
        broker.down()
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def group_id(i: int) -> str:
    return f"{PREFIX}ld-g{i:05d}"


def kafka_version() -> str:
    """The broker version scripts/kafka.sh starts (KAFKA_VERSION or its default) and the client library's."""
    import confluent_kafka

    default = re.search(r"KAFKA_VERSION=\$\{KAFKA_VERSION:-([\d.]+)\}", (REPO / "scripts/kafka.sh").read_text())
    broker = os.environ.get("KAFKA_VERSION") or (default.group(1) if default else "unknown")
    client = f"confluent-kafka {confluent_kafka.__version__}, librdkafka {confluent_kafka.libversion()[0]}"
    return f"Kafka {broker} (KRaft), {client}"


class Churn(threading.Thread):
    """Keeps the workload moving: produce to every partition and commit new offsets for a
    rotating tenth of the groups, once a second, so every poll cycle has something to publish."""

    def __init__(self, bootstrap: str, topics: list[str], groups: int) -> None:
        super().__init__(daemon=True)
        self.topics, self.groups = topics, groups
        self.producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "log_level": 0})
        self.admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
        self.halt = threading.Event()
        self.commits = self.errors = 0
        self.end = 100  # records per partition so far (fill_partitions wrote 100)

    def run(self) -> None:
        tick = 0
        rng = random.Random(7)
        while not self.halt.wait(1.0):
            for t in self.topics:
                for p in range(PARTITIONS):
                    for _ in range(20):
                        self.producer.produce(t, b"v", partition=p)
            self.producer.flush(10)
            self.end += 20
            futures = []
            step = max(1, self.groups // 10)
            for i in range(tick * step, (tick + 1) * step):
                g = i % self.groups
                offsets = [
                    TopicPartition(self.topics[g % TOPICS], p, max(0, self.end - rng.randrange(0, 80)))
                    for p in range(PARTITIONS)
                ]
                futures += self.admin.alter_consumer_group_offsets(
                    [ConsumerGroupTopicPartitions(group_id(g), offsets)], request_timeout=10
                ).values()
            for f in futures:
                try:
                    f.result(15)
                    self.commits += 1
                except Exception:  # noqa: BLE001 - counted and reported; the load goes on
                    self.errors += 1
            tick += 1

    def stop(self) -> None:
        self.halt.set()
        self.join(30)


class ModeRun:
    """One mode: start its processes, log in, run the load client, sample RSS and CPU, stop."""

    def __init__(self, mode: str, bootstrap: str, tmp: Path, args: argparse.Namespace) -> None:
        self.mode, self.bootstrap, self.tmp, self.args = mode, bootstrap, tmp, args
        tmp.mkdir(parents=True)
        self.procs: dict[str, subprocess.Popen] = {}
        self.event_files: list[str] = []
        self.postgres: PostgresServer | None = None

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "KAFKA_CLUSTER_NAME": CLUSTER,
            "POLL_INTERVAL": str(self.args.interval),
            "DASHBOARD_VAR_DIR": str(self.tmp),
            "SQLITE_PATH": str(self.tmp / "db.sqlite3"),
            **({"CHANNEL_LAYER_CAPACITY": str(self.args.capacity)} if self.args.capacity else {}),
            **extra,
        }

    def spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        events = self.tmp / f"events-{name}.jsonl"
        self.event_files.append(str(events))
        self.procs[name] = subprocess.Popen(
            argv,
            cwd=REPO,
            env={**env, "BENCH_EVENTS": str(events)},
            stdout=(self.tmp / f"{name}.log").open("w"),
            stderr=subprocess.STDOUT,
        )

    def run(self) -> dict:
        try:
            servers, cookie = self.start()
            return self.load(servers, cookie)
        finally:
            self.stop()

    def start(self) -> tuple[list[str], str]:
        """Start the mode's processes; the servers' addresses and a logged-in session cookie."""
        extra: dict[str, str] = {}
        if self.mode == "scaled":
            redis_port = free_port()
            self.procs["redis"] = subprocess.Popen(
                ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                cwd=self.tmp,
                stdout=(self.tmp / "redis.log").open("w"),
                stderr=subprocess.STDOUT,
            )
            wait_port(redis_port)
            extra = {"REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "POLLER_IN_PROCESS": "false"}
            if self.args.database == "postgres":
                self.postgres = PostgresServer(self.tmp / "postgres").start()
                extra.update(self.postgres.env)
        env = self.env(**extra)
        password = prepare_database(env)
        wrapper = [sys.executable, str(Path(__file__).with_name("load_instrumented.py"))]
        ports = [free_port() for _ in range(1 if self.mode == "embedded" else 2)]
        for n, port in enumerate(ports):
            serve = [*wrapper, "serve", "--port", str(port)] + (["--no-poller"] if self.mode == "scaled" else [])
            self.spawn(f"web{n + 1}", serve, env)
        if self.mode == "scaled":
            self.spawn("poller", [*wrapper, "poll_kafka"], env)
        servers = [f"127.0.0.1:{p}" for p in ports]
        cookie = login(f"http://{servers[0]}", password)
        wait_for_groups(f"http://{servers[0]}", cookie, self.args.groups)
        return servers, cookie

    def load(self, servers: list[str], cookie: str) -> dict:
        config = {
            "servers": servers,
            "cookie": cookie,
            "duration": self.args.duration,
            "rate": self.args.rate,
            "ws_paths": ws_paths(self.args.websockets, self.args.groups),
            "http_paths": http_paths(self.args.groups),
            "event_files": self.event_files,
        }
        config_path = self.tmp / "load.json"
        config_path.write_text(json.dumps(config))
        client = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("load_client.py")), str(config_path)],
            cwd=REPO,
            env=self.env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        watched = {name: p.pid for name, p in self.procs.items()}
        samples: list[dict] = []
        cpu0 = {name: proc_cpu_s(pid) for name, pid in watched.items()}
        client_cpu0 = proc_cpu_s(client.pid)
        t0 = time.monotonic()
        client_cpu = client_cpu0
        while client.poll() is None:
            samples.append(sample(watched, t0))
            with contextlib.suppress(OSError, ValueError, IndexError):
                client_cpu = proc_cpu_s(client.pid)
            deadline = time.monotonic() + SAMPLE_EVERY_S
            while client.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
        wall = time.monotonic() - t0
        out = client.stdout.read()
        if client.returncode != 0:
            raise RuntimeError(f"the load client failed ({client.returncode}): {out[-2000:]}")
        report = json.loads(out.strip().splitlines()[-1])
        alive = {name: p.poll() is None for name, p in self.procs.items()}
        cpu = {name: round(proc_cpu_s(pid) - cpu0[name], 1) if alive[name] else None for name, pid in watched.items()}
        report["processes"] = {
            name: {
                "alive_at_end": alive[name],
                "cpu_s": cpu[name],
                "cpu_pct_of_one_core": round(100 * cpu[name] / wall, 1) if cpu[name] is not None else None,
                "rss_mb": rss_summary([s for s in samples if name in s["rss_mb"]], name, self.args.duration),
            }
            for name in watched
        }
        report["load_client_cpu_pct_of_one_core"] = round(100 * (client_cpu - client_cpu0) / wall, 1)
        report["wall_s"] = round(wall, 1)
        report["server_logs"] = self.log_problems()
        report["rss_samples_mb"] = [{"t": s["t"], **s["rss_mb"]} for s in samples]
        loads = [s["loadavg"] for s in samples]
        report["machine_loadavg_1m"] = {"min": min(loads), "median": sorted(loads)[len(loads) // 2], "max": max(loads)}
        return report

    def log_problems(self) -> dict:
        """Lines of the servers' logs that say something went wrong (errors, tracebacks, 5xx)."""
        found = {}
        for path in sorted(self.tmp.glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()
            bad = [ln for ln in lines if re.search(r"ERROR|CRITICAL|Traceback| 500 |Internal Server Error|locked", ln)]
            warnings = [ln for ln in lines if " WARNING " in ln]
            found[path.stem] = {
                "lines": len(lines),
                "errors": len(bad),
                "warnings": len(warnings),
                "examples": (bad or warnings)[:5],
            }
        return found

    def stop(self) -> None:
        for name, p in self.procs.items():
            if p.poll() is None and name != "redis":
                p.terminate()
        for name, p in self.procs.items():
            if name == "redis" and p.poll() is None:
                p.terminate()
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if self.postgres is not None:
            self.postgres.stop()


def ws_paths(count: int, groups: int) -> list[str]:
    """A third each on the overview, the groups list (a few sorts and pages) and group detail pages."""
    q = urllib.parse.urlencode
    lists = [
        {"sort": "lag"},
        {"sort": "lag", "page": "2"},
        {"sort": "name"},
        {"sort": "time_lag"},
        {"sort": "lag", "q": "ld-g000"},
    ]
    paths = []
    for i in range(count):
        if i % 3 == 0:
            paths.append(f"/ws/live/overview/?{q({'cluster': CLUSTER})}")
        elif i % 3 == 1:
            paths.append(f"/ws/live/groups/?{q({'cluster': CLUSTER, **lists[(i // 3) % len(lists)]})}")
        else:
            g = group_id(((i // 3) * 7) % min(groups, 40))
            paths.append(f"/ws/live/group/?{q({'cluster': CLUSTER, 'group': g, 'range': '1h'})}")
    return paths


def http_paths(groups: int) -> list[str]:
    """What people and scripts ask for: pages (no message browsing: that reads the broker) and the API."""
    api = f"/api/v1/clusters/{CLUSTER}"
    rng = random.Random(11)
    paths = []
    for i in range(200):
        g = group_id(rng.randrange(groups))
        paths.append(
            [
                f"/c/{CLUSTER}/",
                f"/c/{CLUSTER}/groups/?sort=lag",
                f"/c/{CLUSTER}/groups/?sort=name&page={1 + i % 3}",
                f"/c/{CLUSTER}/groups/{g}/",
                f"/c/{CLUSTER}/topics/",
                f"/c/{CLUSTER}/brokers/",
                f"{api}/",
                f"{api}/groups/",
                f"{api}/groups/{g}/",
                f"{api}/topics/",
            ][i % 10]
        )
    return paths


def sample(pids: dict[str, int], t0: float) -> dict:
    """RSS of every process, and the machine's 1-minute load average (the machine may be shared)."""
    rss = {}
    for name, pid in pids.items():
        with contextlib.suppress(OSError, AttributeError):
            found = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
            rss[name] = round(int(found.group(1)) / 1024, 1)
    load = float(Path("/proc/loadavg").read_text().split()[0])
    return {"t": round(time.monotonic() - t0, 1), "rss_mb": rss, "loadavg": load}


def rss_summary(samples: list[dict], name: str, duration: float) -> dict:
    """Start, middle and end RSS, and the least-squares slope after warm-up (a quarter of the run, at most 2 min)."""
    if not samples:
        return {}
    values = [(s["t"], s["rss_mb"][name]) for s in samples]
    warm = min(120.0, duration / 4)
    after = [(t, v) for t, v in values if t >= warm] or values
    slope = None
    if len(after) >= 3:
        mt = sum(t for t, _ in after) / len(after)
        mv = sum(v for _, v in after) / len(after)
        den = sum((t - mt) ** 2 for t, _ in after)
        slope = round(60 * sum((t - mt) * (v - mv) for t, v in after) / den, 2) if den else None
    return {
        "start": values[0][1],
        "after_warmup": after[0][1],
        "middle": values[len(values) // 2][1],
        "end": values[-1][1],
        "max": max(v for _, v in values),
        "slope_mb_per_min_after_warmup": slope,
        "warmup_s": warm,
    }


def wait_port(port: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")


def login(base: str, password: str) -> str:
    """Log in through the form; returns the Cookie header value (session and CSRF cookies)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = ""
    for _ in range(150):
        try:
            html = opener.open(base + "/accounts/login/", timeout=10).read().decode()
            break
        except OSError:
            time.sleep(0.2)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    data = urllib.parse.urlencode({"username": "bench", "password": password, "csrfmiddlewaretoken": token}).encode()
    opener.open(urllib.request.Request(base + "/accounts/login/", data=data, headers={"Referer": base}), timeout=10)
    if not any(c.name == "sessionid" for c in jar):
        raise RuntimeError("login failed")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def wait_for_groups(base: str, cookie: str, count: int, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(
        f"{base}/api/v1/clusters/{CLUSTER}/groups/?page_size=1", headers={"Cookie": cookie}
    )
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            if json.loads(urllib.request.urlopen(request, timeout=10).read()).get("count", 0) >= count:
                return
        time.sleep(1)
    raise RuntimeError("the poller never showed all groups")


def markdown(results: dict) -> str:
    """The figures of one run as Markdown tables, for bench/LOAD.md."""
    w = results["workload"]
    lines = [
        f"Run of {results['date']}: {w['duration_s']:.0f} s of load per mode, {w['websockets']} websockets, "
        f"{w['http_rate_per_s']} requests/s, {w['groups']} groups, poll interval {w['poll_interval_s']:.0f} s.",
        "",
    ]
    modes = results["modes"]
    rows = [
        ("HTTP requests sent", lambda m: m["http"]["requests"]),
        ("HTTP errors (non-2xx, timeouts)", lambda m: m["http"]["errors"]),
        ("HTTP p50 / p95 / p99 / max ms", lambda m: "{p50_ms} / {p95_ms} / {p99_ms} / {max_ms}".format(**m["http"])),
        ("worst minute p99 ms", lambda m: max(x["p99_ms"] or 0 for x in m["http"]["by_minute"])),
        (
            "websockets open / connects / disconnects / errors",
            lambda m: "{open_after_connect} / {connects} / {disconnects} / {errors}".format(**m["websockets"]),
        ),
        (
            "updates received per client min / median / max",
            lambda m: "{min} / {median} / {max}".format(**m["websockets"]["updates_per_client"]),
        ),
        (
            "poll cycles published (failed)",
            lambda m: "{publish_cycles} ({publish_failed_cycles})".format(**m["live_updates"]),
        ),
        ("group sends", lambda m: m["live_updates"]["group_sends"]),
        (
            "deliveries expected / received",
            lambda m: "{deliveries_expected} / {deliveries_received}".format(**m["live_updates"]),
        ),
        (
            "**dropped updates** (clients affected)",
            lambda m: "**{dropped}** ({clients_with_drops})".format(**m["live_updates"]),
        ),
        (
            "channel layer (capacity)",
            lambda m: ", ".join(
                f"{x['backend']} ({x['capacity']})" for x in m["live_updates"].get("channel_layer", [])
            ),
        ),
        ("channel layer drops counted", lambda m: m["live_updates"]["channel_layer_drops_counted"]),
        ("server log errors", lambda m: sum(v["errors"] for k, v in m["server_logs"].items() if k != "redis")),
        ("load client CPU % of a core", lambda m: m["load_client_cpu_pct_of_one_core"]),
        (
            "machine load average min / median / max (2 cores)",
            lambda m: "{min} / {median} / {max}".format(
                **m.get("machine_loadavg_1m", {"min": "?", "median": "?", "max": "?"})
            ),
        ),
    ]
    names = list(modes)
    lines += ["| | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    lines += [f"| {label} | " + " | ".join(str(get(modes[n])) for n in names) + " |" for label, get in rows]
    lines += ["", "Per process (CPU over the load, RSS sampled every 10 s; slope after warm-up):", ""]
    lines += [
        "| mode | process | CPU % of a core | RSS start / middle / end / max MB | slope MB/min |",
        "| --- | --- | --- | --- | --- |",
    ]
    for n in names:
        for proc, v in modes[n]["processes"].items():
            r = v["rss_mb"]
            lines.append(
                f"| {n} | {proc} | {v['cpu_pct_of_one_core']} | {r.get('start')} / {r.get('middle')} / "
                f"{r.get('end')} / {r.get('max')} | {r.get('slope_mb_per_min_after_warmup')} |"
            )
    lines += ["", "HTTP by minute (requests, errors, p50 / p95 / p99 ms):", ""]
    lines += ["| minute | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    minutes = max(len(modes[n]["http"]["by_minute"]) for n in names)
    for i in range(minutes):
        cells = []
        for n in names:
            bm = modes[n]["http"]["by_minute"]
            x = bm[i] if i < len(bm) else None
            cells.append(f"{x['requests']}, {x['errors']}, {x['p50_ms']} / {x['p95_ms']} / {x['p99_ms']}" if x else "")
        lines.append(f"| {i + 1} | " + " | ".join(cells) + " |")
    lines += ["", "HTTP by kind (p50 / p95 / p99 ms, errors):", ""]
    lines += ["| kind | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    kinds = sorted({k for n in names for k in modes[n]["http"]["by_kind"]})
    for k in kinds:
        cells = []
        for n in names:
            x = modes[n]["http"]["by_kind"].get(k)
            cells.append(f"{x['p50_ms']} / {x['p95_ms']} / {x['p99_ms']}, {x['errors']}" if x else "")
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
