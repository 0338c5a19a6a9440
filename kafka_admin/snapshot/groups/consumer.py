"""Consumer groups (KIP-848, `group.protocol=consumer`): the broker assigns partitions itself.

confluent-kafka describes them since 2.10 with the same admin call as classic groups, and their
committed offsets are read the same way. Its ConsumerGroupState (2.16) has no names for Assigning
and Reconciling (they come as UNKNOWN), so they are spelled here for the pages, not mapped.
"""

from __future__ import annotations

from kafka_admin.snapshot.groups.base import GroupState, GroupType
from kafka_admin.snapshot.groups.consumer_reads import CONSUMER_GROUP_READS

CONSUMER = GroupType(
    name="consumer",
    reported=("CONSUMER",),
    states=(
        GroupState("Stable", "STABLE", "ok"),
        GroupState("Empty", "EMPTY", "idle"),
        GroupState("Assigning", None, "warn"),
        GroupState("Reconciling", None, "warn"),
        GroupState("Dead", "DEAD", "err"),
    ),
    reads=CONSUMER_GROUP_READS,
    about="KIP-848 groups: members and committed offsets read as for classic groups",
)
