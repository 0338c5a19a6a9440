"""The collector at tens of thousands of groups: a steady-state cycle's cost with the offsets-topic
source against the admin source and `kafka-consumer-groups --describe --all-groups`, same run,
same broker (`make bench-scale`, outside `make bench`).

Workloads (10 topics x 10 partitions; each group commits on the 10 partitions of one topic, so a
group = 10 group-partition rows):
  W2  5,000 groups   W3  20,000 groups   W4  50,000 groups   cumulative, on one broker
  W5  50,000 groups on two brokers (node 1 controller and broker, node 2 broker only; the topics
      and __consumer_offsets, replication factor 1, spread over both, so both lead partitions
      and coordinate groups): W4 again on a cluster of its own, to show that a steady cycle's
      requests follow the brokers, not the groups.
Churn, as on a real cluster: before every measured cycle 1 % of the groups commit new offsets
(batched OffsetCommit over the codec, untimed); 20 live members in 4 groups (2 classic, 2 KIP-848)
poll throughout; one more consumer joins a live classic group during the run and leaves again
(two rebalances).

Measured per workload:
  - seeding: wall time (batched OffsetCommit, 4 connections), then a sample read back (OffsetFetch);
  - cold start: a new collector's first cycle (the __consumer_offsets catch-up, every group
    described once), and the reader's catch-up time on its own;
  - steady state: CYCLES cycles, wall time (best, median, worst) and requests per cycle: the admin
    client's as librdkafka counts them (statistics) plus the codec's own, in all and by request
    type and broker; the reader's Fetch requests over the same time apart; groups described
    again per cycle; where the partitions' leaders and the groups' coordinators are;
  - baselines: one admin-source cycle (cycle time-out long enough to finish) and one run of
    kafka-consumer-groups --describe --all-groups (JVM start included), where not skipped.

Usage: .venv/bin/python bench/bench_scale.py [--workloads W2,W3,W4,W5] [--cycles N]
       [--no-admin W4,...] [--no-tool W4,...] [--json-out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import scale_report
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions
from confluent_kafka.admin import AdminClient

from bench.bench_snapshot import run_tool
from bench.common import LiveMembers, create_topics, fill_partitions, start_broker
from kafka_admin.protocol.client import GroupProtocolClient
from kafka_admin.snapshot.collect import SnapshotCollector
from tests.kafka_support import BrokerPair, seed_commits

SIZES = {"W2": 5_000, "W3": 20_000, "W4": 50_000, "W5": 50_000}
BROKERS = {"W2": 1, "W3": 1, "W4": 1, "W5": 2}
TOPICS, PARTITIONS, LAG = 10, 10, 5
CHURN = 0.01
LIVE = (("classic", 5), ("classic", 5), ("consumer", 5), ("consumer", 5))
T0 = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - T0:7.1f}s] {message}", file=sys.stderr, flush=True)


def topic(i: int) -> str:
    return f"scale-t{i % TOPICS}"


def group(i: int) -> str:
    return f"scale-g{i:05d}"


def commits(indexes: range | list[int], bump: int = 0) -> dict[str, dict[str, dict[int, int]]]:
    return {group(i): {topic(i): {p: LAG + (i + p + bump) % LAG for p in range(PARTITIONS)}} for i in indexes}


def read_back(bootstrap: str, indexes: list[int]) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    for i in indexes:
        answer = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group(i))])[group(i)].result()
        held = {tp.partition for tp in answer.topic_partitions if tp.offset >= 0}
        if held != set(range(PARTITIONS)):
            raise RuntimeError(f"{group(i)}: seeded offsets not held ({sorted(held)})")


class Rebalancer:
    """One more consumer in a live classic group: joins, polls, leaves (a rebalance each way)."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def join(self) -> None:
        def run() -> None:
            c = Consumer(
                {"bootstrap.servers": self.bootstrap, "group.id": group(0), "log_level": 0, "enable.auto.commit": False}
            )
            c.subscribe([topic(0)])
            while not self.stop.is_set():
                c.poll(0.2)
            c.close()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def leave(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(30)


def layout(cluster, size: int) -> dict:
    """Partitions led and groups coordinated per broker: what a per-broker request depends on."""
    topics = AdminClient({"bootstrap.servers": cluster.bootstrap, "log_level": 0}).list_topics(timeout=30).topics

    def leaders(names: list[str]) -> dict[str, int]:
        return dict(sorted(Counter(str(p.leader) for n in names for p in topics[n].partitions.values()).items()))

    client = GroupProtocolClient(cluster.config())
    try:
        found, failed = client.coordinators([group(i) for i in range(size)], 30)
    finally:
        client.close()
    return {
        "leaders": leaders([topic(i) for i in range(TOPICS)]),
        "offsets_topic_leaders": leaders(["__consumer_offsets"]),
        "coordinators": dict(sorted(Counter(str(n) for n in found.values()).items())),
        "coordinator_errors": len(failed),
    }


def by_kind(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """One cycle's requests by "client:Type@node", from two requests_sent_by() counts."""
    return {k: n - before.get(k, 0) for k, n in sorted(after.items()) if n != before.get(k, 0)}


def steady(collector: SnapshotCollector, config, bootstrap: str, size: int, cycles: int) -> dict:
    rng = random.Random(size)
    walls, cpus, requests, reader, described, recorded, kinds = [], [], [], [], [], [], []
    rebalancer = Rebalancer(bootstrap)
    for n in range(cycles):
        churned = rng.sample(range(len(LIVE), size), max(1, int(size * CHURN)))  # live groups commit themselves
        seed_commits(config, commits(churned, bump=n + 1))
        if n == 1:
            rebalancer.join()
        if n == cycles - 2:
            rebalancer.leave()
        before, kinds_before = collector.requests_sent(), collector.requests_sent_by()
        t, cpu = time.monotonic(), time.process_time()
        snapshot = collector.collect()
        walls.append(time.monotonic() - t)
        cpus.append(time.process_time() - cpu)
        after, kinds_after = collector.requests_sent(), collector.requests_sent_by()
        kinds.append(by_kind(kinds_before, kinds_after))
        requests.append((after["admin"] - before["admin"]) + (after["protocol"] - before["protocol"]))
        reader.append(after["reader"] - before["reader"])
        described.append(collector.descriptions.described)
        recorded.append(collector.descriptions.from_records)
        groups = sum(1 for g in snapshot.groups if g.group_id.startswith("scale-g"))
        log(
            f"  cycle {n}: {walls[-1]:.2f} s (CPU {cpus[-1]:.2f} s), {requests[-1]} requests,"
            f" {described[-1]} described, {recorded[-1]} from records {kinds[-1]}"
        )
    return {
        "wall_s": {
            "best": round(min(walls), 2),
            "median": round(statistics.median(walls), 2),
            "worst": round(max(walls), 2),
        },
        "cpu_s": {"best": round(min(cpus), 2), "median": round(statistics.median(cpus), 2)},
        "requests_per_cycle": {"max": max(requests), "median": statistics.median(requests), "all": requests},
        "requests_by_kind": kinds,
        "reader_fetch_requests_per_cycle": {"median": statistics.median(reader)},
        "described_per_cycle": described,
        "from_records_per_cycle": recorded,
        "groups": groups,
        "errors": [f"{e.scope} {e.name}: {e.message}" for e in snapshot.errors][:5],
    }


def measure(name: str, size: int, broker, args: argparse.Namespace) -> dict:
    config = broker.config(offsets_source="offsets-topic", cycle_timeout_s=600.0, request_timeout_s=60.0)
    out: dict = {"groups": size, "group_partition_rows": size * PARTITIONS}
    log(f"{name}: cold start")
    collector = SnapshotCollector(config, count_requests=True)
    try:
        t = time.monotonic()
        first = collector.collect()
        out["cold_start_s"] = round(time.monotonic() - t, 2)
        out["catch_up_s"] = collector.offsets_reader().stats["catch_up_s"]
        out["catch_up_records"] = collector.offsets_reader().stats["records"]
        out["cold_errors"] = [f"{e.scope}: {e.message}" for e in first.errors][:3]
        log(f"{name}: cold start {out['cold_start_s']} s (catch-up {out['catch_up_s']:.1f} s); steady cycles")
        out["ours"] = steady(collector, broker.config(), broker.bootstrap, size, args.cycles)
    finally:
        collector.close()
    if name not in args.no_admin:
        log(f"{name}: admin source")
        admin = SnapshotCollector(broker.config(offsets_source="admin", cycle_timeout_s=900.0, request_timeout_s=120.0))
        try:
            t, cpu = time.monotonic(), time.process_time()
            snap = admin.collect()
            out["admin_source_s"] = round(time.monotonic() - t, 2)
            out["admin_source_cpu_s"] = round(time.process_time() - cpu, 2)
            out["admin_source_requests"] = snap.requests
        finally:
            admin.close()
        out["ratio_vs_admin"] = round(out["admin_source_s"] / out["ours"]["wall_s"]["median"], 1)
    if name not in args.no_tool:
        log(f"{name}: kafka-consumer-groups")
        out["tool"] = run_tool(broker)
        if out["tool"].get("ok"):
            out["ratio_vs_tool"] = round(out["tool"]["wall_s"] / out["ours"]["wall_s"]["median"], 1)
    return out


def write_results(path: Path, results: dict) -> None:
    loads = ", ".join(
        f"{n} {r['load_before_after'][0]} / {r['load_before_after'][1]}"
        for n, r in results.items()
        if isinstance(r, dict) and "load_before_after" in r
    )
    note = f"Load average (1 min) before / after each workload, on 2 CPUs: {loads}."
    path.write_text(scale_report.replace(path.read_text(), scale_report.render(results, note)))


def run_workloads(cluster, names: list[str], args: argparse.Namespace) -> dict:
    """The workloads `names`, cumulative on one cluster: topics, then each one's groups and measures."""
    results: dict = {}
    topics = {topic(i): PARTITIONS for i in range(TOPICS)}
    create_topics(cluster.bootstrap, topics)
    fill_partitions(cluster.bootstrap, topics, 2 * LAG)
    seeded, live = 0, None
    try:
        for name in names:
            size = SIZES[name]
            t = time.monotonic()
            seed_commits(cluster.config(), commits(range(seeded, size)), timeout=1800)
            seed_s = time.monotonic() - t
            read_back(cluster.bootstrap, random.Random(1).sample(range(size), 20))
            log(f"{name}: seeded {size - seeded} groups in {seed_s:.1f} s")
            if live is None:
                members = [
                    {"group": group(k), "topic": topic(k), "protocol": protocol}
                    for k, (protocol, n) in enumerate(LIVE)
                    for _ in range(n)
                ]
                live = LiveMembers(cluster.bootstrap, members)
            seeded = size
            load_before = os.getloadavg()[0]
            results[name] = {"brokers": BROKERS[name], "seed_s": round(seed_s, 1), **layout(cluster, size)}
            results[name].update(measure(name, size, cluster, args))
            results[name]["load_before_after"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
            log(f"{name}: {json.dumps(results[name])}")
    finally:
        if live is not None:
            live.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workloads", default="W2,W3,W4,W5")
    parser.add_argument("--cycles", type=int, default=6)
    parser.add_argument("--no-admin", default="", help="workloads without the admin-source baseline")
    parser.add_argument("--no-tool", default="", help="workloads without kafka-consumer-groups")
    parser.add_argument("--json-out", default=None)
    parser.add_argument("--results", default=str(Path(__file__).with_name("RESULTS.md")), help="'' to leave it")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # the brokers and helpers are stopped on the way out
    args.no_admin, args.no_tool = set(args.no_admin.split(",")), set(args.no_tool.split(","))
    names = args.workloads.split(",")
    results: dict = {"machine": "2 cores, shared"}
    for brokers in sorted({BROKERS[n] for n in names}):  # one cluster per broker count, one after the other
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            cluster = start_broker(Path(tmp)) if brokers == 1 else BrokerPair.start(Path(tmp))
            log(f"{brokers} broker(s): {cluster.bootstrap}")
            try:
                results.update(run_workloads(cluster, [n for n in names if BROKERS[n] == brokers], args))
            finally:
                cluster.down()
    text = json.dumps(results, indent=2)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")
    if args.results:
        write_results(Path(args.results), results)
    print(text)


if __name__ == "__main__":
    main()
