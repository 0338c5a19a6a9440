"""The poll cycle's cost of Kafka 4's other group types (issue 16): 100 share groups and 100
streams groups beside 1,000 consumer groups, as a ratio to the cycle with the 1,000 alone, on the
same broker in the same run.

Workload: 10 topics x 10 partitions, 100 records each; 1,000 memberless classic groups, each
committed on the 10 partitions of one topic (lag 5), made with AlterConsumerGroupOffsets. Then:
  - 100 share groups made one after another by real share consumers (bench/make_share_groups.py,
    a child process), each acknowledging a batch of a 2-partition topic: Empty, with state;
  - 100 streams groups: 100 Kafka Streams applications in one JVM (bench/streams_many/ManyApps.java,
    group.protocol=streams) reading a 2-partition topic from the start, then all closed: Empty,
    with committed offsets and a topology.
Phases, one SnapshotCollector throughout (its caches warm, as a poller's are):
  - alone:        the 1,000 consumer groups only (before the others exist);
  - with:         1,000 + 100 share + 100 streams;
  - alone again:  after the 200 are deleted (DeleteGroups), to bracket drift on a shared machine.
The ratio is median(with) / median(alone and alone again). A second, drift-free figure: in the
"with" state, cycles alternating with a collector that lists the 200 but reads nothing of them.
Also per phase: requests per cycle (ClusterSnapshot.requests) and, with the others, the delivery
count limit reads (once a minute, groups/share_limits.py) and how long the groups took to make.

Usage: .venv/bin/python bench/bench_group_types.py [--repeat N] [--share N] [--streams N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from common import REPO, commit_offsets, create_topics, fill_partitions, machine, name_prefix, start_broker
from confluent_kafka.admin import AdminClient

from kafka_admin.snapshot.collect import SnapshotCollector
from kafka_admin.snapshot.groups.base import LISTING_ONLY
from kafka_admin.snapshot.groups.registry import GROUP_TYPES, GroupTypes
from kafka_admin.snapshot.groups.share_limits import delivery_limits
from tests.streams_support import build

TOPICS, PARTITIONS, RECORDS, GROUPS = 10, 10, 100, 1000
HERE = Path(__file__).resolve().parent


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def cycles(collector: SnapshotCollector, repeat: int) -> tuple[list[float], list[int], object]:
    times, requests, snap = [], [], None
    for _ in range(repeat):
        started = time.perf_counter()
        snap = collector.collect()
        times.append(time.perf_counter() - started)
        requests.append(snap.requests)
    return times, requests, snap


def make_share_groups(bootstrap: str, topic: str, prefix: str, count: int) -> float:
    started = time.monotonic()
    subprocess.run(
        [sys.executable, str(HERE / "make_share_groups.py"), bootstrap, topic, prefix, str(count)],
        cwd=REPO,
        check=True,
        timeout=1800,
    )
    return time.monotonic() - started


def make_streams_groups(bootstrap: str, topic: str, prefix: str, count: int) -> float:
    libs = build() / "libs"
    classes = Path(tempfile.mkdtemp(prefix="manyapps-"))
    subprocess.run(
        ["javac", "-cp", f"{libs}/*", "-d", str(classes), str(HERE / "streams_many" / "ManyApps.java")],
        check=True,
        timeout=300,
    )
    started = time.monotonic()
    result = subprocess.run(
        [
            "java",
            "-Xmx1g",
            "-cp",
            f"{classes}:{libs}/*",
            "dashboard.bench.ManyApps",
            bootstrap,
            prefix,
            str(count),
            topic,
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if f"DONE {count}" not in result.stdout:
        raise RuntimeError(f"ManyApps: {result.stdout[-2000:]} {result.stderr[-2000:]}")
    return time.monotonic() - started


def listing_only_types() -> GroupTypes:
    """The registry with share and streams groups listed but not read."""
    return GroupTypes(
        tuple(replace(t, reads=LISTING_ONLY) if t.name in ("share", "streams") else t for t in GROUP_TYPES.types)
    )


def types_of(snap, prefix: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for g in snap.groups:
        if g.group_id.startswith(prefix):
            out[g.type or "?"] = out.get(g.type or "?", 0) + 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--share", type=int, default=100)
    parser.add_argument("--streams", type=int, default=100)
    args = parser.parse_args()
    broker = start_broker(Path(tempfile.mkdtemp(prefix="bench-gtypes-")) / "kafka")
    try:
        prefix = name_prefix()
        topics = {f"{prefix}gt-{i}": PARTITIONS for i in range(TOPICS)}
        share_topic, streams_topic = f"{prefix}gt-share", f"{prefix}gt-streams"
        create_topics(broker.bootstrap, {**topics, share_topic: 2, streams_topic: 2})
        fill_partitions(broker.bootstrap, {**topics, share_topic: 2, streams_topic: 2}, RECORDS)
        names = list(topics)
        commit_offsets(
            broker.bootstrap,
            [
                (f"{prefix}gt-g{i:04d}", [(names[i % TOPICS], p, RECORDS - 5) for p in range(PARTITIONS)])
                for i in range(GROUPS)
            ],
        )
        log("1,000 consumer groups committed")
        collector = SnapshotCollector(broker.config(request_timeout_s=10.0, cycle_timeout_s=60.0))
        try:
            cycles(collector, 2)  # warm: connections, coordinators
            alone, alone_requests, _ = cycles(collector, args.repeat)
            log(f"alone: median {statistics.median(alone) * 1000:.0f} ms")

            share_prefix, streams_prefix = f"{prefix}gt-share-", f"{prefix}gt-streams-"
            made_share_s = make_share_groups(broker.bootstrap, share_topic, share_prefix, args.share)
            log(f"{args.share} share groups made in {made_share_s:.0f} s")
            made_streams_s = make_streams_groups(broker.bootstrap, streams_topic, streams_prefix, args.streams)
            log(f"{args.streams} streams groups made in {made_streams_s:.0f} s")
            deadline = time.monotonic() + 120
            while True:
                snap = collector.collect()
                kinds = {**types_of(snap, share_prefix), **types_of(snap, streams_prefix)}
                if kinds.get("share", 0) == args.share and kinds.get("streams", 0) == args.streams:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the groups are not all listed: {kinds}")
                time.sleep(1)
            cycles(collector, 2)
            limits = delivery_limits(collector)
            reads_before = limits.reads
            with_types, with_requests, snap = cycles(collector, args.repeat)
            limit_reads = limits.reads - reads_before
            # Drift-free second figure: cycles alternating with a collector that lists the share and
            # streams groups but reads nothing of them (their reads swapped for the listing's).
            listed_only = SnapshotCollector(collector.config, listing_only_types())
            try:
                cycles(listed_only, 2)
                paired: dict[str, list[float]] = {"full": [], "listed_only": []}
                for _ in range(args.repeat):
                    paired["full"].append(cycles(collector, 1)[0][0])
                    paired["listed_only"].append(cycles(listed_only, 1)[0][0])
            finally:
                listed_only.close()
            share_state = sum(1 for g in snap.groups if g.group_id.startswith(share_prefix) and g.share_partitions)
            streams_offsets = sum(1 for g in snap.groups if g.group_id.startswith(streams_prefix) and g.offsets)
            errors = [f"{e.scope} {e.name}: {e.message}" for e in snap.errors][:5]
            log(f"with: median {statistics.median(with_types) * 1000:.0f} ms")

            extra = [g.group_id for g in snap.groups if g.group_id.startswith((share_prefix, streams_prefix))]
            admin = AdminClient({"bootstrap.servers": broker.bootstrap, "log_level": 0})
            deleted, delete_errors = 0, []
            for future in admin.delete_consumer_groups(extra, request_timeout=60).values():
                try:
                    future.result(timeout=60)
                    deleted += 1
                except Exception as exc:  # noqa: BLE001 - reported: the bracket is then one-sided
                    delete_errors.append(str(exc))
            again, again_requests, after = cycles(collector, args.repeat)
            left = len([g for g in after.groups if g.group_id.startswith((share_prefix, streams_prefix))])
        finally:
            collector.close()
        baseline = statistics.median(alone + again) if left == 0 else statistics.median(alone)
        report = {
            "workload": f"{GROUPS} consumer groups, {args.share} share, {args.streams} streams",
            "made_s": {"share": round(made_share_s, 1), "streams": round(made_streams_s, 1)},
            "cycle_ms_median": {
                "alone": round(statistics.median(alone) * 1000, 1),
                "with": round(statistics.median(with_types) * 1000, 1),
                "alone_again": round(statistics.median(again) * 1000, 1),
            },
            "ratio_with_to_alone": round(statistics.median(with_types) / baseline, 3),
            "paired_ms_median": {k: round(statistics.median(v) * 1000, 1) for k, v in paired.items()},
            "ratio_full_to_listed_only": round(
                statistics.median(paired["full"]) / statistics.median(paired["listed_only"]), 3
            ),
            "requests_per_cycle": {
                "alone": statistics.median(alone_requests),
                "with": statistics.median(with_requests),
                "alone_again": statistics.median(again_requests),
            },
            "delivery_limit_reads_in_with_phase": limit_reads,
            "share_groups_with_state": share_state,
            "streams_groups_with_offsets": streams_offsets,
            "deleted": deleted,
            "delete_errors": delete_errors[:3],
            "left_after_delete": left,
            "errors_with": errors,
            "repeat": args.repeat,
            "machine": machine(),
        }
        print(json.dumps(report, indent=2))
    finally:
        broker.down()


if __name__ == "__main__":
    main()
