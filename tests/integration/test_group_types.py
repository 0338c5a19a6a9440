"""Every group the broker lists is in the snapshot, with its type and protocol (issue 16 §1).

Real groups on the real broker: a classic consumer, a KIP-848 consumer, a share group with a real
share consumer (in a child process), a memberless group that only committed offsets; the listing
compared with Kafka's own `kafka-groups --list`.
"""

from __future__ import annotations

import json

import pytest

from kafka_admin.snapshot.collect import SnapshotCollector
from tests.integration.test_snapshot_cli import run_snapshot
from tests.share_support import set_group_configs, share_worker
from tests.waiting import wait_until

pytestmark = pytest.mark.broker


def kafka_groups_list(broker) -> dict[str, tuple[str, str]]:
    """group -> (type, protocol) as `kafka-groups --list` prints them."""
    out = {}
    for line in broker.tool("kafka-groups", "--list").splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2:  # a group that only commits offsets has an empty protocol column
            out[parts[0]] = (parts[1].lower(), parts[2] if len(parts) > 2 else "")
    return out


class TestEveryGroupIsListed:
    def test_types_and_protocols_match_kafkas_own_listing(self, kafka, broker):
        topic = kafka.create_topic(partitions=2)
        kafka.produce(topic, 20)
        classic, modern, share, simple = (kafka.unique(p) for p in ("classic", "k848", "share", "simple"))
        kafka.commit(simple, [(topic, 0, 1)])
        set_group_configs(broker.bootstrap, share, share_auto_offset_reset="earliest")
        collector = SnapshotCollector(broker.config())
        try:
            with (
                kafka.live_consumer(classic, [topic]),
                kafka.live_consumer(
                    modern,
                    [topic],
                    **{"group.protocol": "consumer", "session.timeout.ms": None, "heartbeat.interval.ms": None},
                ),
                share_worker(broker.bootstrap, share, topic, 5),
            ):
                wanted = {classic, modern, share, simple}

                def listed():
                    snap = collector.collect()
                    found = {g.group_id: g for g in snap.groups if g.group_id in wanted}
                    return snap if len(found) == 4 else None

                snap = wait_until(listed, 60, "all four groups listed")
                tool = kafka_groups_list(broker)
                cli = json.loads(run_snapshot(broker.bootstrap, "--json").stdout)
        finally:
            collector.close()
        ours = {g.group_id: (g.type, g.protocol) for g in snap.groups if g.group_id in wanted}
        assert ours == {
            classic: ("classic", "consumer"),
            modern: ("consumer", "consumer"),
            share: ("share", "share"),
            simple: ("classic", ""),
        }
        assert {gid: tool[gid] for gid in wanted} == ours
        from_cli = {g["group_id"]: (g["type"], g["protocol"]) for g in cli["groups"] if g["group_id"] in wanted}
        assert from_cli == ours
        assert snap.group(share).state in ("Stable", "Empty")
        assert not [e for e in snap.errors if e.scope == "groups"]
