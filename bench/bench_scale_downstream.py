"""Everything after a snapshot exists, at W4 (50,000 groups x 10 partitions = 500,000 rows), no broker.

A synthetic cluster (bench/synthetic.py) is fed through the poller's own steps, cycle after cycle:
the child's hand-off as a delta (kafka_admin/isolation/delta.py: the child's diff and pickle, the
parent's unpickle and rebuild; the whole-snapshot pickle it replaced is timed alongside for
comparison, and its result thrown away), FigureTracker.update, store.save,
history.record, /metrics pre-render, alerts, the publisher; then the pages are requested in-process
(Django's test client) as a ratio to a trivial page (/healthz) in the same run, and /metrics is
scraped. Memory: the process's RSS growth over the run divided by the group-partition rows.

Usage: .venv/bin/python bench/bench_scale_downstream.py [--groups 50000] [--partitions 10] [--cycles 30]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import statistics
import sys
import threading
import time
import urllib.request
from dataclasses import replace
from multiprocessing.reduction import ForkingPickler
from pathlib import Path

from offline import offline_settings

tmp = offline_settings("bench-scale-down-")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from synthetic import SyntheticCluster, add_size_arguments  # noqa: E402

from dashboard import metrics  # noqa: E402
from dashboard.alerts import engine as alerts  # noqa: E402
from dashboard.alerts.states import AlertMemory  # noqa: E402
from dashboard.live.publisher import Publisher  # noqa: E402
from dashboard.live.registry import FragmentSpec  # noqa: E402
from dashboard.live.subscriptions import subscribe  # noqa: E402
from dashboard.models import AlertRule, GroupSample, TopicSample  # noqa: E402
from dashboard.state import store  # noqa: E402
from dashboard.state.history_writer import HistoryWriter, time_lags_of  # noqa: E402
from kafka_admin.figures.tracker import FigureTracker  # noqa: E402
from kafka_admin.isolation import delta, gc_schedule  # noqa: E402
from kafka_admin.isolation.delta import SnapshotReceiver, SnapshotSender  # noqa: E402
from kafka_admin.isolation.handoff import register_dataclasses  # noqa: E402
from kafka_admin.snapshot import model  # noqa: E402
from kafka_admin.snapshot.model import ClusterSnapshot  # noqa: E402


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def db_bytes() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA page_count")
        pages = cursor.fetchone()[0]
        cursor.execute("PRAGMA page_size")
        return pages * cursor.fetchone()[0]


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
        "last_ms": round(values[-1] * 1000, 1),
        "n": len(ordered),
    }


def baseline_loop_s() -> float:
    """CPU seconds of a fixed pure-Python loop: how fast this machine ran Python during this run."""
    started = time.process_time()
    total = 0
    for i in range(5_000_000):
        total += i
    return time.process_time() - started


def handed_on(previous: ClusterSnapshot | None, snapshot: ClusterSnapshot) -> ClusterSnapshot:
    """The snapshot as the collector builds it: an unchanged group or topic is last cycle's object
    (describe_cache.BuiltGroups). bench/synthetic.py builds every object anew; not timed."""
    if previous is None:
        return snapshot
    groups = {g.group_id: g for g in previous.groups}
    topics = {t.name: t for t in previous.topics}

    def same(old: object, new: object) -> object:
        return old if old == new else new

    return replace(
        snapshot,
        groups=tuple([same(groups.get(g.group_id), g) for g in snapshot.groups]),
        topics=tuple([same(topics.get(t.name), t) for t in snapshot.topics]),
    )


class HandOff:
    """Both sides of the collector child's hand-off in this one process, as the child pickles
    (ForkingPickler with handoff.py's reducers) and the parent unpickles."""

    def __init__(self) -> None:
        register_dataclasses(model, delta)
        self.sender, self.receiver = SnapshotSender(), SnapshotReceiver()
        self.sizes: dict[str, list[int]] = {"delta": [], "full": []}

    def cycle(self, collected: ClusterSnapshot, timings: dict[str, float]) -> ClusterSnapshot:
        t0 = time.process_time()
        delta_wire = bytes(ForkingPickler.dumps(self.sender.message(collected, self.receiver.held())))
        t1 = time.process_time()
        snapshot = self.receiver.take(pickle.loads(delta_wire))  # what RemoteBroker.collect hands the poller
        t2 = time.process_time()
        full_wire = bytes(ForkingPickler.dumps(collected))  # the hand-off before deltas, for comparison
        t3 = time.process_time()
        full = pickle.loads(full_wire)
        t4 = time.process_time()
        assert full == snapshot
        timings.update(
            {
                "hand-off (child): diff + pickle the delta": t1 - t0,
                "hand-off: unpickle the delta + rebuild the snapshot": t2 - t1,
                "hand-off before (child): pickle the whole snapshot": t3 - t2,
                "hand-off before: unpickle the whole snapshot": t4 - t3,
            }
        )
        self.sizes["delta"].append(len(delta_wire))
        self.sizes["full"].append(len(full_wire))
        return snapshot

    def summary(self) -> dict:
        steady = self.sizes["delta"][1:] or self.sizes["delta"]
        return {
            "delta_bytes_p50": round(statistics.median(steady)),
            "delta_bytes_max": max(steady),
            "full_bytes_p50": round(statistics.median(self.sizes["full"])),
            "messages_full": self.receiver.fulls,
            "messages_delta": self.receiver.deltas,
        }


class GcClock:
    """CPU time the cycle detector takes (gc.callbacks), by collection, as the steps see it as pauses."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.full = 0
        self._started = 0.0
        gc.callbacks.append(self._note)

    def _note(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.process_time()
            return
        self.seconds += time.process_time() - self._started
        self.full += info["generation"] == 2

    def take(self) -> tuple[float, int]:
        taken = self.seconds, self.full
        self.seconds, self.full = 0.0, 0
        return taken


def full_collection_s() -> float:
    """CPU seconds of the full collection gc_schedule runs every FULL_EVERY_S, with this state held."""
    started = time.process_time()
    gc.unfreeze()
    gc.collect()
    return time.process_time() - started


def run_cycles(args: argparse.Namespace, cluster: SyntheticCluster) -> dict:
    tracker = FigureTracker(trend_window_s=settings.TREND_WINDOW_S)
    publisher = Publisher(cluster.cluster)
    writer = HistoryWriter(heartbeat_s=settings.HISTORY_HEARTBEAT_S)
    alert_states = AlertMemory()  # as the poller holds it
    steps: dict[str, list[float]] = {}
    rows_written: list[int] = []
    db_before = db_bytes()
    rss_start = rss_bytes()
    rss_after_first = 0
    handoff, collected = HandOff(), None
    clock = GcClock()
    pauses: list[float] = []
    full_collections = 0
    for c in range(args.cycles):
        cluster.advance()
        collected = handed_on(collected, cluster.snapshot(c))  # the child's snapshot; the child keeps it
        timings: dict[str, float] = {}
        snapshot = handoff.cycle(collected, timings)
        t1 = time.process_time()
        figures = tracker.update(snapshot)
        t2 = time.process_time()
        store.save(snapshot, figures)
        t3 = time.process_time()
        written = writer.record(snapshot, time_lags_of(figures)).rows
        t4 = time.process_time()
        metrics.note_scraped()  # Prometheus scrapes this process between cycles
        metrics.prerender(store.state(cluster.cluster))
        t5 = time.process_time()
        alerts.evaluate(cluster.cluster, snapshot, figures, True, memory=alert_states)
        t6 = time.process_time()
        publisher.changed()
        t7 = time.process_time()
        if not args.default_gc:  # as the poller ends its cycle (dashboard/poller/loop.py)
            gc_schedule.settle_after_cycle(cluster.cluster, snapshot.group_partition_rows)
        paused, full = clock.take()
        pauses.append(paused)
        full_collections += full if c else 0
        timings |= {
            "figures (FigureTracker.update)": t2 - t1,
            "store.save": t3 - t2,
            "history.record": t4 - t3,
            "metrics pre-render": t5 - t4,
            "alerts.evaluate": t6 - t5,
            "publisher.changed": t7 - t6,
            "downstream total": t7 - t1,
        }
        for name, value in timings.items():
            steps.setdefault(name, []).append(value)
        rows_written.append(written)
        del snapshot, figures
        if c == 0:
            gc.collect()
            rss_after_first = rss_bytes()
        print(f"cycle {c}: downstream {timings['downstream total']:.2f} s, {written} rows", file=sys.stderr)
    full_s = full_collection_s()
    gc.collect()
    rss_end = rss_bytes()
    db_after = db_bytes()
    rows = args.groups * args.partitions
    cycles_per_hour = 3600 / cluster.interval_s
    steady_rows = statistics.mean(rows_written[1:]) if len(rows_written) > 1 else rows_written[0]
    bytes_per_row = (db_after - db_before) / max(1, sum(rows_written))
    return {
        "group_partition_rows": rows,
        "cycles": args.cycles,
        "steps": {name: summary(values[1:] or values) for name, values in steps.items()},
        "first_cycle_downstream_s": round(steps["downstream total"][0], 2),
        "handoff": handoff.summary(),
        "history": {
            "rows_first_cycle": rows_written[0],
            "rows_per_steady_cycle": round(steady_rows, 1),
            "rows_per_hour": round(steady_rows * cycles_per_hour),
            "db_bytes_per_row_written": round(bytes_per_row, 1),
            "bytes_per_hour": round(steady_rows * cycles_per_hour * bytes_per_row),
            "group_sample_rows": GroupSample.objects.count(),
            "topic_sample_rows": TopicSample.objects.count(),
        },
        "gc": {
            "schedule": "default" if args.default_gc else "gc_schedule (frozen after each cycle)",
            "pause_per_steady_cycle": summary(pauses[1:] or pauses),
            "full_collections_in_steady_cycles": full_collections,
            "full_collection_s": round(full_s, 2),
            "full_every_s": gc_schedule.FULL_EVERY_S,
        },
        "memory": {
            "rss_start_mb": round(rss_start / 2**20),
            "rss_after_first_cycle_mb": round(rss_after_first / 2**20),
            "rss_end_mb": round(rss_end / 2**20),
            "rss_growth_bytes_per_group_partition_row": round((rss_end - rss_start) / rows),
        },
    }


def create_pending_rule() -> None:
    """A rule most groups breach, pending (not firing) for the run: its states are written every
    cycle, and every page's firing-alerts lookup has ~50,000 states of this cluster to skip."""
    AlertRule.objects.create(name="lagging", condition="lag_gt", threshold=45, pattern="*", for_seconds=86400)


def page_paths(cluster: SyntheticCluster, groups: int) -> dict[str, str]:
    """The pages measured (and profiled by profile_scale_pages.py), by label: the trivial one first."""
    return {
        "trivial (/healthz)": "/healthz",
        "groups list sorted by lag": "/c/bench/groups/?sort=lag",
        "groups list, a search, page 2": "/c/bench/groups/?sort=lag&q=group-01&page=2",
        "group detail": f"/c/bench/groups/{cluster.group_id(groups // 2)}/",
        "overview": "/c/bench/",
    }


GZIP_SCRAPE = "/metrics (gzip, as Prometheus asks)"


def pages(args: argparse.Namespace, cluster: SyntheticCluster) -> dict:
    """Each page over HTTP (Django's threaded WSGI server in this process, whose store holds the
    state), one of each in turn, as a ratio to /healthz: bench_pages.py's method without a broker."""
    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(username="bench"))
    session = client.cookies["sessionid"].value
    server = ThreadedWSGIServer(("127.0.0.1", 0), WSGIRequestHandler, allow_reuse_address=True)
    server.set_app(get_wsgi_application())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://localhost:{server.server_address[1]}"
    opener = urllib.request.build_opener()
    opener.addheaders = [("Cookie", f"sessionid={session}")]
    paths = {**page_paths(cluster, args.groups), "/metrics (default)": "/metrics", GZIP_SCRAPE: "/metrics"}

    def request(label: str, path: str) -> urllib.request.Request:
        headers = {"Accept-Encoding": "gzip"} if label == GZIP_SCRAPE else {}  # as Prometheus asks
        return urllib.request.Request(base + path, headers=headers)

    try:
        for label, path in paths.items():  # warm up: the first request per cycle builds the derived rows
            with opener.open(request(label, path)) as response:
                assert response.status == 200, (path, response.status)
                response.read()
        samples: dict[str, list[float]] = {label: [] for label in paths}
        sizes: dict[str, int] = {}
        for _ in range(args.requests):
            for label, path in paths.items():
                started = time.perf_counter()
                with opener.open(request(label, path)) as response:
                    sizes[label] = len(response.read())
                samples[label].append(time.perf_counter() - started)
    finally:
        server.shutdown()
    out = {}
    trivial = statistics.median(samples["trivial (/healthz)"])
    for label, values in samples.items():
        out[label] = {**summary(values), "bytes": sizes[label]}
        out[label]["ratio_p50"] = round(statistics.median(values) / trivial, 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    add_size_arguments(parser)
    parser.add_argument("--cycles", type=int, default=30)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument(
        "--default-gc", action="store_true", help="CPython's own collection schedule, not the poller's (a comparison)"
    )
    parser.add_argument("--json-out", type=Path, default=None, help="also write the results to this file")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    User.objects.create_user("bench", password="bench-password-1")
    create_pending_rule()
    cluster = SyntheticCluster(groups=args.groups, partitions=args.partitions, topics=args.topics)
    subscribe(
        [
            FragmentSpec("groups-table", "bench", (("sort", "lag"), ("order", "desc"), ("page", "1"))),
            FragmentSpec("overview-groups", "bench"),
            FragmentSpec("group-summary", "bench", (("group", cluster.group_id(7)),)),
            FragmentSpec("group-partitions", "bench", (("group", cluster.group_id(7)),)),
            FragmentSpec("status", "bench"),
        ]
    )
    result = {"bench": "scale-downstream", "baseline_loop_cpu_s": round(baseline_loop_s(), 3)}
    result.update(run_cycles(args, cluster))
    result["pages"] = pages(args, cluster)
    result["baseline_loop_cpu_s_after"] = round(baseline_loop_s(), 3)
    result["settings"] = {
        "POLL_INTERVAL_S": settings.POLL_INTERVAL_S,
        "METRICS_PARTITION_SERIES_MAX": settings.METRICS_PARTITION_SERIES_MAX,
        "HISTORY_HEARTBEAT_S": settings.HISTORY_HEARTBEAT_S,
    }
    print(json.dumps(result, indent=2))
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
