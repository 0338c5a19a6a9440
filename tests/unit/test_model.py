import dataclasses
import json
from datetime import UTC, datetime

from kafka_admin.snapshot.model import (
    Broker,
    ClusterSnapshot,
    Group,
    Member,
    OffsetsSource,
    PartitionInfo,
    PartitionOffsets,
    SnapshotError,
    Topic,
    TopicPartitionRef,
    snapshot_from_dict,
)


def sample() -> ClusterSnapshot:
    return ClusterSnapshot(
        cluster="c1",
        cluster_id="abc",
        collected_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        duration_ms=12.5,
        requests=7,
        controller_id=1,
        brokers=(Broker(1, "h", 9092, "r1"),),
        topics=(
            Topic("t", False, (PartitionInfo(0, 1, (1,), (1,), 3, 10), PartitionInfo(1, None, (1, 2), (), None, None))),
        ),
        groups=(
            Group(
                "g",
                "Stable",
                "classic",
                1,
                "range",
                members=(Member("m-1", "cli", "/127.0.0.1", (TopicPartitionRef("t", 0),)),),
                offsets=(PartitionOffsets("t", 0, 4, 10, 6), PartitionOffsets("t", 1, 2, None, None)),
            ),
        ),
        errors=(SnapshotError("partition", "t/1", "offline"),),
    )


class TestSnapshotJson:
    def test_round_trip_through_json(self):
        s = sample()
        assert snapshot_from_dict(json.loads(json.dumps(s.to_dict()))) == s

    def test_offsets_source_and_its_progress_round_trip(self):
        for source in (OffsetsSource("offsets-topic", False, 250, 1000), OffsetsSource("admin", note="refused")):
            s = dataclasses.replace(sample(), offsets_source=source)
            assert snapshot_from_dict(json.loads(json.dumps(s.to_dict()))).offsets_source == source

    def test_total_lag_ignores_unknown_lags(self):
        d = sample().to_dict()
        assert d["groups"][0]["total_lag"] == 6
        assert d["groups"][0]["offsets"][1]["lag"] is None


class TestDerivedFigures:
    def test_partition_health(self):
        t = sample().topics[0]
        assert t.partitions[1].offline and t.partitions[1].under_replicated
        assert not t.partitions[0].offline
        assert t.partitions[0].records == 7 and t.partitions[1].records is None
        assert t.replication_factor == 2

    def test_cluster_counts(self):
        s = sample()
        assert s.offline_partitions == 1 and s.under_replicated_partitions == 1 and s.partition_count == 2

    def test_owner_and_topics(self):
        g = sample().groups[0]
        assert g.owner_of("t", 0).client_id == "cli"
        assert g.owner_of("t", 1) is None
        assert g.topics == ("t",)
