"""One full snapshot cycle at three sizes: ours (SnapshotCollector.collect) against a bare harness
of the minimal confluent-kafka calls for the same data, and against Kafka's own
`kafka-consumer-groups --describe --all-groups`, all on the same cluster in the same run.

Workloads (group-partition row = one committed offset of one group on one partition):
  W1  1,000 groups x 10 partitions (10 topics x 10 partitions), 20 live members in 4 groups
      (2 groups with the classic protocol, 2 with the consumer protocol), the rest memberless.
  W2  5,000 groups x 10 partitions: W1 plus 4,000 more groups on the same topics and broker.
  W3  200 groups over 20,000 partitions (10 topics x 2,000), each group committed on 100.
      Two brokers: a broker keeps one open file per partition, and 20,000 partitions do not
      fit under this machine's 20,000-file hard limit in one process.

Measured per workload (repeats alternate ours/bare; best and median reported):
  - wall time, process CPU time (all threads, librdkafka's included: time.process_time) and the
    calling thread's CPU time (time.thread_time) of one cycle;
  - admin requests per cycle: ours' ClusterSnapshot.requests, and what librdkafka itself counted
    (statistics "req" counters of every broker, diffed around one cycle; a separate client
    with statistics enabled, so the timed runs pay nothing for it);
  - Python memory per group-partition row: tracemalloc peak during one cycle and the size the
    result keeps (a separate, untimed cycle: tracemalloc slows allocation down);
  - kafka-consumer-groups --describe --all-groups: one run, wall time including its JVM start.
Targets: ours <= 1.25x bare (wall); kafka-consumer-groups >= 5x ours at W1.

The second offsets source (W1 and W2), after the ours/bare timing: SnapshotCollector with
offsets_source="offsets-topic" (committed offsets from a __consumer_offsets reader thread instead of
an OffsetFetch per group) alternating with ours (the admin source), as many cycles each, after its
start-up catch-up, which is timed on its own. Its requests per cycle are counted the same way,
separately for its admin client (per cycle) and its reader's consumer (Fetch long-polls: counted
over the cycle, though they go on between cycles too). Its rows (group, topic, partition,
committed, end, lag) are compared with the admin source's from the same round.

Usage: .venv/bin/python bench/bench_snapshot.py [--workload W1|W2|W3|all] [--repeat N] [--quick]
       [--no-tool] [--profile DIR]   (DIR: pyinstrument text profiles of one cycle of ours)
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from common import (
    LiveMembers,
    commit_offsets,
    create_topics,
    fill_partitions,
    kill_broker,
    name_prefix,
    start_broker,
)
from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from kafka_admin.config import ClusterConfig
from kafka_admin.snapshot.collect import SnapshotCollector
from kafka_admin.snapshot.groups.consumer_reads import DESCRIBE_BATCH
from tests.kafka_support import BrokerProcess, start_second_broker

KAFKA_VERSION = os.environ.get("KAFKA_VERSION", "4.3.1")
SIZES = {
    # name: (groups, topics, partitions per topic, partitions committed per group)
    "W1": (1000, 10, 10, 10),
    "W2": (5000, 10, 10, 10),
    "W3": (200, 10, 2000, 100),
}
QUICK = {"W1": (200, 10, 10, 10), "W2": (1000, 10, 10, 10), "W3": (40, 4, 1000, 100)}
PREFIX = name_prefix()
CHUNK = 1000  # partitions per list_offsets call in the informational chunked variant of the bare harness
LAG = 5  # every partition of W1/W2 holds 2*LAG records; groups commit LAG .. 2*LAG-1
LIVE_GROUPS = (("classic", 5), ("classic", 5), ("consumer", 5), ("consumer", 5))


T0 = time.monotonic()


def log(message: str) -> None:
    print(f"[bench_snapshot +{time.monotonic() - T0:6.1f}s] {message}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workload", choices=["W1", "W2", "W3", "all"], nargs="+", default=["all"])
    parser.add_argument("--repeat", type=int, default=5, help="timed cycles of each side at W1")
    parser.add_argument("--repeat-large", type=int, default=3, help="timed cycles of each side at W2 and W3")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run, not the issue's workloads)")
    parser.add_argument("--no-tool", action="store_true", help="skip kafka-consumer-groups")
    parser.add_argument("--profile", type=Path, help="write a pyinstrument profile of one cycle of ours here")
    args = parser.parse_args()
    sizes = QUICK if args.quick else SIZES
    wanted = ["W1", "W2", "W3"] if "all" in args.workload else sorted(set(args.workload))
    tmp = Path(tempfile.mkdtemp(prefix="bench-snapshot-"))
    out: dict[str, Any] = {
        "bench": "snapshot",
        "kafka": KAFKA_VERSION,
        "quick": args.quick,
        "repeat": {"W1": args.repeat, "W2": args.repeat_large, "W3": args.repeat_large},
        "targets": {"ours_over_bare_max": 1.25, "tool_over_ours_min_at_W1": 5.0},
        "workloads": {},
    }
    started = time.monotonic()
    if "W1" in wanted or "W2" in wanted:
        run_w1_w2(tmp / "kafka-w12", sizes, wanted, args, out["workloads"])
    if "W3" in wanted:
        run_w3(tmp / "kafka-w3", sizes["W3"], args, out["workloads"])
    out["total_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(out, indent=2))
    shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------------------------ workloads


def run_w1_w2(data_dir: Path, sizes: dict, wanted: list[str], args: argparse.Namespace, results: dict) -> None:
    broker = start_broker(data_dir)
    live = None
    try:
        groups, topic_count, partitions, _ = sizes["W1"]
        topics = {f"{PREFIX}w12-t{i}": partitions for i in range(topic_count)}
        t0 = time.monotonic()
        create_topics(broker.bootstrap, topics)
        fill_partitions(broker.bootstrap, topics, 2 * LAG)
        seeded = 0
        if "W1" in wanted:
            seed_w12(broker.bootstrap, list(topics), 0, groups)
            seeded = groups
        live_members = [
            {"group": group_id(i), "topic": list(topics)[i % topic_count], "protocol": protocol}
            for i, (protocol, n) in enumerate(LIVE_GROUPS)
            for _ in range(n)
        ]
        if seeded == 0:  # W2 alone: seed it all at once
            seed_w12(broker.bootstrap, list(topics), 0, sizes["W2"][0])
            seeded = sizes["W2"][0]
        live = LiveMembers(broker.bootstrap, live_members)
        seed_s = time.monotonic() - t0
        for name in ("W1", "W2"):
            if name not in wanted:
                continue
            groups = sizes[name][0]
            if seeded < groups:
                t1 = time.monotonic()
                seed_w12(broker.bootstrap, list(topics), seeded, groups)
                seed_s = time.monotonic() - t1
                seeded = groups
            shape = {
                "groups": groups,
                "topics": topic_count,
                "partitions": topic_count * partitions,
                "group_partition_rows": groups * partitions,
                "live_members": len(live_members),
                "live_groups": len(LIVE_GROUPS),
                "brokers": 1,
                "seed_s": round(seed_s, 1),
            }
            log(f"{name}: seeded")
            results[name] = measure(name, broker, shape, args)
    finally:
        if live is not None:
            live.stop()
        gc.collect()
        broker.down()


def group_id(i: int) -> str:
    return f"{PREFIX}w12-g{i:05d}"


def seed_w12(bootstrap: str, topics: list[str], first: int, last: int) -> None:
    """Groups first..last-1, group i committed on every partition of topic i % len(topics)."""
    md = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0}).list_topics(timeout=30)
    counts = {t: len(md.topics[t].partitions) for t in topics}
    commit_offsets(
        bootstrap,
        [
            (group_id(i), [(t, p, LAG + (i + p) % LAG) for p in range(counts[t])])
            for i in range(first, last)
            for t in [topics[i % len(topics)]]
        ],
    )


def run_w3(data_dir: Path, size: tuple[int, int, int, int], args: argparse.Namespace, results: dict) -> None:
    groups, topic_count, partitions, per_group = size
    external = bool(os.environ.get("TEST_KAFKA_BOOTSTRAP_SERVERS"))
    heap_was = os.environ.get("TEST_KAFKA_HEAP")
    os.environ.setdefault("TEST_KAFKA_HEAP", "1g")  # ~10,000 partitions per broker
    broker = start_broker(data_dir / "node1")
    second: BrokerProcess | None = None
    try:
        if not external:
            second = start_second_broker(broker, data_dir / "node2")
        topics = {f"{PREFIX}w3-t{i}": partitions for i in range(topic_count)}
        t0 = time.monotonic()
        log("W3: brokers up; creating topics")
        create_topics(broker.bootstrap, topics, timeout=300)
        log("W3: filling partitions")
        # One record in every 10th partition: the broker is slow to take the first record of a
        # partition (~2 ms each here), and the values do not change the work of a cycle.
        fill_partitions(broker.bootstrap, topics, 1, every=10)
        log("W3: committing offsets")
        # Group i commits `per_group` consecutive partitions of topic i % topics (lag 0 or 1).
        commits = []
        for i in range(groups):
            topic = f"{PREFIX}w3-t{i % topic_count}"
            start = (i // topic_count) * per_group % partitions
            stop = min(start + per_group, partitions)
            commits.append(
                (f"{PREFIX}w3-g{i:04d}", [(topic, p, (i + p) % 2 if p % 10 == 0 else 0) for p in range(start, stop)])
            )
        commit_offsets(broker.bootstrap, commits, in_flight=20)
        shape = {
            "groups": groups,
            "topics": topic_count,
            "partitions": topic_count * partitions,
            "group_partition_rows": sum(len(offsets) for _, offsets in commits),
            "live_members": 0,
            "brokers": 2 if second else "external",
            "seed_s": round(time.monotonic() - t0, 1),
        }
        log("W3: seeded")
        results["W3"] = measure("W3", broker, shape, args)
    finally:
        gc.collect()
        if second is not None:
            kill_broker(second)
        kill_broker(broker)
        if heap_was is None:
            os.environ.pop("TEST_KAFKA_HEAP", None)


# ------------------------------------------------------------------------------------ measuring


def measure(name: str, broker: BrokerProcess, shape: dict, args: argparse.Namespace) -> dict:
    config = ClusterConfig(name="bench", bootstrap_servers=broker.bootstrap)  # the production defaults
    repeat = args.repeat if name == "W1" else args.repeat_large
    # Both sides get librdkafka statistics (every 100 ms, for the request counts): the same small
    # cost on both sides, and no extra cycles just for counting.
    ours_stats, bare_stats = Stats(), Stats()
    collector = SnapshotCollector(stats_config(config, ours_stats))
    bare_admin = AdminClient(stats_config(config, bare_stats).client_config())
    log(f"{name}: warming up")
    for admin in (collector.admin, bare_admin):  # connections to every broker, as in a running poller
        admin.list_consumer_groups(request_timeout=30).result()
        admin.list_topics(timeout=30)
    ours_runs, bare_runs, ours_requests, bare_requests = [], [], [], []
    snapshot = None
    log(f"{name}: timing {repeat} cycles of each")
    for i in range(repeat):
        sides = [("ours", collector.collect), ("bare", lambda: bare_cycle(bare_admin, config))]
        for label, fn in sides if i % 2 == 0 else reversed(sides):
            admin, stats = (collector.admin, ours_stats) if label == "ours" else (bare_admin, bare_stats)
            before = stats.settle(admin)
            run, result = run_once(fn)
            after = stats.settle(admin)
            if label == "ours":
                snapshot = result
                ours_runs.append(run)
                ours_requests.append(request_diff(before, after) | {"requests_field": result.requests})
            else:
                bare_runs.append(run)
                bare_requests.append(request_diff(before, after))
    rows = sum(len(g.offsets) for g in snapshot.groups)
    result: dict[str, Any] = {
        **shape,
        "seen": {
            "groups": len(snapshot.groups),
            "rows": rows,
            "members": sum(len(g.members) for g in snapshot.groups),
            "topics": len(snapshot.topics),
            "snapshot_errors": len(snapshot.errors),
            "first_errors": [f"{e.scope} {e.name}: {e.message}" for e in snapshot.errors[:3]],
        },
        "ours": summarize(ours_runs) | {"requests_field": snapshot.requests},
        "bare": summarize(bare_runs),
        "requests_librdkafka": {
            "ours": ours_requests[-1],
            "bare": bare_requests[-1],
            "ours_totals_all_runs": [r["total"] for r in ours_requests],
            "field_matches_librdkafka": ours_requests[-1]["requests_field"] == ours_requests[-1]["total"],
        },
    }
    if name in ("W1", "W2"):
        log(f"{name}: offsets sources")
        result["offsets_topic"] = offsets_sources(name, collector, ours_stats, config, repeat)
    # Informational: the bare harness with list_offsets split into calls of 1,000 partitions.
    chunked = [run_once(lambda: bare_cycle(bare_admin, config, offsets_chunk=CHUNK))[0] for _ in range(2)]
    result["bare_offsets_chunked"] = {"chunk": CHUNK, **summarize(chunked)}
    log(f"{name}: memory")
    result["memory"] = memory_per_row(collector, bare_admin, config, rows)
    if args.profile:
        log(f"{name}: profile")
        result["profile"] = profile(collector, args.profile / f"snapshot-{name}.txt")
    if not args.no_tool:
        log(f"{name}: kafka-consumer-groups")
        result["tool"] = run_tool(broker)
    ours_wall, bare_wall = result["ours"]["wall_s"], result["bare"]["wall_s"]
    ratios = {
        "ours_over_bare_best": round(ours_wall["best"] / bare_wall["best"], 2),
        "ours_over_bare_median": round(ours_wall["median"] / bare_wall["median"], 2),
        "cpu_ours_over_bare_median": round(
            result["ours"]["cpu_process_s"]["median"] / max(result["bare"]["cpu_process_s"]["median"], 1e-9), 2
        ),
    }
    if "offsets_topic" in result:
        ratios["topic_over_admin_median"] = result["offsets_topic"]["topic_over_admin_median"]
    if result.get("tool", {}).get("ok"):
        ratios["tool_over_ours"] = round(result["tool"]["wall_s"] / ours_wall["median"], 1)
    result["ratios"] = ratios
    log(f"{name}: {json.dumps(ratios)}")
    return result


def run_once(fn: Callable[[], Any]) -> tuple[dict[str, float], Any]:
    gc.collect()
    wall, cpu, thread = time.perf_counter(), time.process_time(), time.thread_time()
    result = fn()
    return {
        "wall_s": time.perf_counter() - wall,
        "cpu_process_s": time.process_time() - cpu,
        "cpu_main_thread_s": time.thread_time() - thread,
    }, result


def summarize(runs: list[dict[str, float]]) -> dict[str, dict[str, Any]]:
    return {
        key: {
            "best": round(min(r[key] for r in runs), 4),
            "median": round(statistics.median(r[key] for r in runs), 4),
            "all": [round(r[key], 4) for r in runs],
        }
        for key in runs[0]
    }


# ------------------------------------------------------------------------------- offsets-topic


def catch_up(collector: SnapshotCollector) -> dict[str, Any]:
    """Start the __consumer_offsets reader and time its start-up catch-up (what a poller pays once)."""
    started = time.perf_counter()
    reader = collector.offsets_reader()
    done = reader.wait_caught_up(600)
    wall = time.perf_counter() - started
    stats = reader.stats
    return {
        "ok": done,
        "wall_s": round(wall, 3),
        "reader_catch_up_s": stats["catch_up_s"] and round(stats["catch_up_s"], 3),
        "records": stats["records"],
        "groups": stats["groups"],
        "group_partitions": stats["group_partitions"],
    }


def row_set(snapshot: Any) -> set[tuple]:
    return {
        (g.group_id, o.topic, o.partition, o.committed, o.end_offset, o.lag) for g in snapshot.groups for o in g.offsets
    }


def compare_rows(admin_snapshot: Any, topic_snapshot: Any) -> dict[str, Any]:
    """Rows (committed offset and lag per group-partition) of the two sources from the same round.

    Live members commit between the two cycles, so a live group's rows may move in between; a
    difference is reported with the groups it is in.
    """
    a, t = row_set(admin_snapshot), row_set(topic_snapshot)
    only_admin, only_topic = sorted(a - t), sorted(t - a)
    return {
        "equal": a == t,
        "rows": len(a),
        "only_admin": len(only_admin),
        "only_topic": len(only_topic),
        "groups_differing": sorted({r[0] for r in only_admin + only_topic})[:10],
        "same_groups": [g.group_id for g in admin_snapshot.groups] == [g.group_id for g in topic_snapshot.groups],
    }


def offsets_sources(name: str, collector: SnapshotCollector, stats: Stats, config: ClusterConfig, repeat: int) -> dict:
    """The offsets-topic source against the admin source (ours), alternating, after ours/bare.

    Its own loop, started after the ours/bare timing, so that comparison runs exactly as before
    (no reader thread alongside). The admin side is timed again here, in the same rotation."""
    topic_stats, reader_stats = Stats(), Stats()
    topic = SnapshotCollector(stats_config(replace(config, offsets_source="offsets-topic"), topic_stats, reader_stats))
    try:
        out: dict[str, Any] = {"catch_up": catch_up(topic)}
        topic.admin.list_consumer_groups(request_timeout=30).result()  # connections, as for the others
        topic.admin.list_topics(timeout=30)
        out["first_cycle_wall_s"] = round(run_once(topic.collect)[0]["wall_s"], 4)  # not timed below
        runs: dict[str, list] = {"admin": [], "topic": []}
        requests: dict[str, list] = {"admin": [], "topic": [], "reader": []}
        comparisons = []
        log(f"{name}: timing {repeat} cycles of each offsets source")
        for i in range(repeat):
            sides = [("admin", collector, stats), ("topic", topic, topic_stats)]
            got = {}
            for label, side, side_stats in sides if i % 2 == 0 else reversed(sides):
                before = side_stats.settle(side.admin)
                reader_before = reader_stats.settle_passive() if label == "topic" else None
                run, got[label] = run_once(side.collect)
                after = side_stats.settle(side.admin)
                runs[label].append(run)
                requests[label].append(request_diff(before, after) | {"requests_field": got[label].requests})
                if reader_before is not None:
                    requests["reader"].append(request_diff(reader_before, reader_stats.settle_passive()))
            comparisons.append(compare_rows(got["admin"], got["topic"]))
        last = got["topic"]
        admin_s, topic_s = summarize(runs["admin"]), summarize(runs["topic"])
        out |= {
            "admin": admin_s | {"requests_librdkafka": requests["admin"][-1]},
            "topic": topic_s | {"requests_librdkafka": requests["topic"][-1]},
            "topic_over_admin_median": round(topic_s["wall_s"]["median"] / admin_s["wall_s"]["median"], 2),
            "reader_requests": requests["reader"][-1],
            "topic_totals_all_runs": [r["total"] for r in requests["topic"]],
            "reader_totals_all_runs": [r["total"] for r in requests["reader"]],
            "snapshot_errors": len(last.errors),
            "first_errors": [f"{e.scope} {e.name}: {e.message}" for e in last.errors[:3]],
            "rows_equal_admin_all_rounds": all(c["equal"] for c in comparisons),
            "rows_equal_rounds": f"{sum(c['equal'] for c in comparisons)} of {len(comparisons)}",
            "comparison_last": comparisons[-1],
            "reader": {k: topic.offsets_reader().stats[k] for k in ("records", "groups", "group_partitions", "errors")},
        }
        return out
    finally:
        topic.close()


# ---------------------------------------------------------------------------------------- bare


def bare_cycle(admin: AdminClient, config: ClusterConfig, offsets_chunk: int = 0) -> list[tuple]:
    """The minimal calls for the same data, written plainly: metadata (topics, partitions, brokers),
    earliest and latest offsets of every partition, the group listing, group descriptions
    (members), committed offsets per group, and lag per group-partition row. Same batching and
    in-flight bound as ours (DESCRIBE_BATCH groups per describe call, max_in_flight futures)."""
    timeout = config.request_timeout_s
    groups_f = admin.list_consumer_groups(request_timeout=timeout)
    md = admin.list_topics(timeout=timeout)
    tps = [TopicPartition(t, p) for t, tm in md.topics.items() for p in tm.partitions]
    chunk = offsets_chunk or len(tps) or 1
    low_f, high_f = {}, {}
    for i in range(0, len(tps), chunk):  # one call for all partitions unless offsets_chunk is given
        part = tps[i : i + chunk]
        low_f.update(admin.list_offsets({tp: OffsetSpec.earliest() for tp in part}, request_timeout=timeout))
        high_f.update(admin.list_offsets({tp: OffsetSpec.latest() for tp in part}, request_timeout=timeout))
    low = {(tp.topic, tp.partition): f.result().offset for tp, f in low_f.items()}
    high = {(tp.topic, tp.partition): f.result().offset for tp, f in high_f.items()}
    ids = [g.group_id for g in groups_f.result().valid]
    descriptions = bounded(
        ids, lambda chunk: admin.describe_consumer_groups(chunk, request_timeout=timeout), DESCRIBE_BATCH, config
    )
    committed = bounded(
        ids,
        lambda chunk: admin.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(chunk[0])], request_timeout=timeout
        ),
        1,
        config,
    )
    rows = []
    for gid, result in committed.items():
        for tp in result.topic_partitions:
            if tp.offset >= 0:
                end = high.get((tp.topic, tp.partition))
                rows.append((gid, tp.topic, tp.partition, tp.offset, end, None if end is None else end - tp.offset))
    del low, descriptions
    return rows


def bounded(keys: list[str], launch: Callable[[list[str]], dict], batch: int, config: ClusterConfig) -> dict:
    out: dict = {}
    pending: dict[Future, str] = {}
    chunks = iter([keys[i : i + batch] for i in range(0, len(keys), batch)])
    while True:
        while len(pending) < config.max_in_flight and (chunk := next(chunks, None)) is not None:
            pending.update({fut: key for key, fut in launch(chunk).items()})
        if not pending:
            return out
        done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
        for fut in done:
            out[pending.pop(fut)] = fut.result()


# ------------------------------------------------------------------------------------- requests


class Stats:
    """librdkafka statistics: per-broker requests sent ("tx") and their counts by type ("req")."""

    def __init__(self) -> None:
        self.latest: dict | None = None
        self.count = 0

    def callback(self, raw: str) -> None:
        self.latest = json.loads(raw)
        self.count += 1

    def requests(self) -> Counter:
        """Counts by request type, plus "_sent": every request sent, whatever its type. An admin
        client is a producer-type handle, and librdkafka leaves consumer request types (OffsetFetch
        among them) out of a producer's "req" object; "tx" still counts them."""
        totals: Counter = Counter()
        for broker in (self.latest or {}).get("brokers", {}).values():
            totals.update({k: v for k, v in broker.get("req", {}).items() if v})
            totals["_sent"] += broker.get("tx", 0)
        return totals

    def settle_passive(self, timeout: float = 10) -> Counter:
        """The counts as of now, for a client whose own thread serves its callbacks (the offsets
        reader's consumer, in consume()): wait for one emitted from now on."""
        seen = self.count
        deadline = time.monotonic() + timeout
        while self.count == seen and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.requests()

    def settle(self, admin: AdminClient) -> Counter:
        """The counts as of now. Statistics are queued every interval and only handed over by
        poll(), so the queue holds stale ones from during the cycle: drain it, then wait for one
        emitted afterwards."""
        while admin.poll(0) > 0:
            pass
        seen = self.count
        deadline = time.monotonic() + 10
        while self.count == seen and time.monotonic() < deadline:
            admin.poll(0.05)
        return self.requests()


def stats_config(base: ClusterConfig, stats: Stats, reader_stats: Stats | None = None) -> ClusterConfig:
    """The same cluster config, with librdkafka statistics every 100 ms going to `stats`, and
    those of a consumer (the offsets-topic reader: its config carries a group.id) to `reader_stats`."""

    class WithStats(ClusterConfig):
        def client_config(self, **overrides: Any) -> dict[str, Any]:
            target = reader_stats if reader_stats is not None and "group.id" in overrides else stats
            return super().client_config(**{"statistics.interval.ms": 100, "stats_cb": target.callback, **overrides})

    return WithStats(**{f.name: getattr(base, f.name) for f in fields(base)})


def request_diff(before: Counter, after: Counter) -> dict[str, Any]:
    diff = {k: after[k] - before.get(k, 0) for k in sorted(after) if after[k] - before.get(k, 0)}
    sent = diff.pop("_sent", 0)
    itemized = sum(diff.values())
    if sent > itemized:
        diff["OffsetFetch (not itemized for admin clients: sent - itemized)"] = sent - itemized
    return {"total": sent, "by_type": diff}


# --------------------------------------------------------------------------------------- memory


def memory_per_row(collector: SnapshotCollector, bare_admin: AdminClient, config: ClusterConfig, rows: int) -> dict:
    out = {}
    for label, fn in (("ours", collector.collect), ("bare", lambda: bare_cycle(bare_admin, config))):
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        result = fn()
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del result
        out[f"{label}_peak_bytes_per_row"] = round((peak - base) / max(rows, 1))
        out[f"{label}_kept_bytes_per_row"] = round((current - base) / max(rows, 1))
        out[f"{label}_peak_mib"] = round((peak - base) / 2**20, 1)
    return out


def profile(collector: SnapshotCollector, path: Path) -> str:
    try:
        from pyinstrument import Profiler
    except ImportError:
        return "pyinstrument not installed"
    path.parent.mkdir(parents=True, exist_ok=True)
    profiler = Profiler(interval=0.001)
    with profiler:
        collector.collect()
    path.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
    return str(path)


# ----------------------------------------------------------------------------------------- tool


def run_tool(broker: BrokerProcess) -> dict:
    started = time.monotonic()
    try:
        text = broker.tool("kafka-consumer-groups", "--describe", "--all-groups", timeout=900)
    except (RuntimeError, OSError) as exc:
        return {"ok": False, "error": str(exc)[-500:], "wall_s": round(time.monotonic() - started, 2)}
    wall = time.monotonic() - started
    rows = 0
    for line in text.splitlines():
        parts = line.split()
        with contextlib.suppress(IndexError):
            if parts[2].isdigit():
                rows += 1
    return {"ok": True, "wall_s": round(wall, 2), "rows": rows, "note": "one run, JVM start included"}


if __name__ == "__main__":
    main()
