"""A cycle after rebalances: classic groups' members from their GroupMetadata records (offsets-topic
source) against describing every rebalanced group again, same run, same broker.

GROUPS classic groups of MEMBERS live consumers each (group.protocol=classic) on one topic; two
collectors take them in (every group described once), then one consumer of every group leaves
(GROUPS rebalances, each ending in a GroupMetadata record) and each collector runs one cycle:
"records" as the code does, "describe" with building from records turned off (what main does).
Counted: DescribeGroups / FindCoordinator requests of that cycle (the codec's own count), groups
described and groups built from records, and whether both show the same members.

Usage: .venv/bin/python bench/bench_group_records.py [--groups N] [--members M]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from confluent_kafka import Consumer

from bench.common import start_broker
from kafka_admin.snapshot.collect import SnapshotCollector
from kafka_admin.snapshot.groups.describe_cache import DescriptionCache
from tests.kafka_support import Kafka


class DescribeAlways(DescriptionCache):
    """The cache as before: every stale group described, none built from its record."""

    def from_records_of(self, cycle, stale, changed, reader):  # type: ignore[override]
        return {}, stale


def poll_until(consumers: list[Consumer], done, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("members did not settle")
        for c in consumers:
            c.poll(0.05)


def measured_cycle(collector: SnapshotCollector) -> tuple[object, dict[str, int]]:
    before = dict(collector.protocol.sent)
    snapshot = collector.collect()
    sent = {k: n - before.get(k, 0) for k, n in collector.protocol.sent.items() if n != before.get(k, 0)}
    return snapshot, sent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--members", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        broker = start_broker(Path(tmp))
        try:
            run(broker, args.groups, args.members)
        finally:
            broker.down()


def run(broker, groups: int, members: int) -> None:
    kafka = Kafka(broker)
    topic = kafka.create_topic(partitions=2 * members)
    ids = [kafka.unique(f"rec{i}") for i in range(groups)]
    consumers = {
        g: [kafka.consumer(g, **{"group.protocol": "classic", "client.id": f"{g}-{m}"}) for m in range(members)]
        for g in ids
    }
    every = [c for cs in consumers.values() for c in cs]
    config = broker.config(offsets_source="offsets-topic", time_lag_reads=0)
    ours, before = SnapshotCollector(config), SnapshotCollector(config)
    before.descriptions = DescribeAlways()
    try:
        for c in every:
            c.subscribe([topic])
        reader = ours.offsets_reader()

        def settled(n: int) -> bool:
            records = reader.classic_members(ids)
            return len(records) == groups and all(len(r.members) == n for r in records.values())

        poll_until(every, lambda: settled(members))
        for collector in (ours, before):
            collector.collect()  # every group new: described
            collector.collect()
        for g in ids:
            consumers[g].pop().close()  # a rebalance in every group
        every = [c for cs in consumers.values() for c in cs]
        poll_until(every, lambda: settled(members - 1))
        both = before.offsets_reader()
        poll_until(every, lambda: all(len(r.members) == members - 1 for r in both.classic_members(ids).values()))
        for name, collector in (("records", ours), ("describe", before)):
            snapshot, sent = measured_cycle(collector)
            d = collector.descriptions
            shown = {g.group_id: (g.state, g.members) for g in snapshot.groups if g.group_id in ids}
            print(
                f"{name}: {groups} groups rebalanced; described {d.described}, from records"
                f" {getattr(d, 'from_records', 0)}; codec requests {sent}; {snapshot.duration_ms:.0f} ms"
            )
            if name == "records":
                mine = shown
            elif shown != mine:
                print("  members differ between the two collectors:", set(shown.items()) ^ set(mine.items()))
            else:
                print("  same states and members in both snapshots")
    finally:
        for c in every:
            c.close()
        ours.close()
        before.close()


if __name__ == "__main__":
    main()
