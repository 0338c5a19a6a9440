"""`kafka_snapshot`'s text tables: every group type in its own words, one row per partition."""

from __future__ import annotations

from dashboard.management.commands.kafka_snapshot import group_rows, type_text
from kafka_admin.snapshot.model import Group, Member, PartitionOffsets, SharePartition, TopicPartitionRef


def member(topic: str, partition: int) -> Member:
    return Member("m-1", "client-1", "/10.0.0.1", (TopicPartitionRef(topic, partition),))


class TestTypeColumn:
    def test_each_type_reads_as_its_name(self):
        assert type_text(Group("g", "Stable", type="consumer", protocol="consumer")) == "consumer"
        assert type_text(Group("g", "Empty", type="classic", protocol="consumer")) == "classic"
        assert type_text(Group("g", "Stable", type="share", protocol="share")) == "share"
        assert type_text(Group("g", "Stable", type="streams", protocol="streams")) == "streams"
        assert type_text(Group("g", "Stable", type="classic", protocol="connect")) == "connect"
        assert type_text(Group("g", "Stable", type="tomorrow")) == "tomorrow"  # as the broker names it
        assert type_text(Group("g", "Stable")) is None  # an old broker names no type

    def test_a_consumer_groups_rows(self):
        g = Group(
            "orders", "Stable", type="consumer", offsets=(PartitionOffsets("t", 0, 5, 9, 4),), members=(member("t", 0),)
        )
        assert group_rows(g) == [["orders", "consumer", "Stable", "t", 0, 5, 9, 4, "m-1", "/10.0.0.1", "client-1"]]

    def test_a_share_groups_start_offset_and_lag_stand_in_the_offset_columns(self):
        g = Group(
            "jobs",
            "Stable",
            type="share",
            share_partitions=(SharePartition("t", 0, 7, 12, 3), SharePartition("t", 1, None, 4, None)),
            members=(member("t", 0),),
        )
        assert group_rows(g) == [
            ["jobs", "share", "Stable", "t", 0, 7, 12, 3, "m-1", "/10.0.0.1", "client-1"],
            ["jobs", "share", "Stable", "t", 1, None, 4, None, None, None, None],
        ]

    def test_a_group_without_partitions_still_has_a_row(self):
        g = Group("workers", "Stable", type="classic", protocol="connect")
        assert group_rows(g) == [["workers", "connect", "Stable", *[None] * 8]]
