"""Classic groups: the consumer protocol before KIP-848 (rebalances run by a leader member), and
every group that uses it: Kafka Connect workers, simple groups that only commit offsets."""

from __future__ import annotations

from kafka_admin.snapshot.groups.base import GroupState, GroupType
from kafka_admin.snapshot.groups.consumer_reads import CONSUMER_GROUP_READS

CLASSIC = GroupType(
    name="classic",
    reported=("CLASSIC",),
    states=(
        GroupState("Stable", "STABLE", "ok"),
        GroupState("Empty", "EMPTY", "idle"),
        GroupState("PreparingRebalance", "PREPARING_REBALANCING", "warn"),
        GroupState("CompletingRebalance", "COMPLETING_REBALANCING", "warn"),
        GroupState("Dead", "DEAD", "err"),
    ),
    reads=CONSUMER_GROUP_READS,
    about="members and committed offsets from DescribeGroups and OffsetFetch",
)
