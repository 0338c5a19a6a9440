"""Share groups (KIP-932, queues for Kafka): several members read one partition, each record is
acquired, then acknowledged, released or rejected, and there is no committed offset.

confluent-kafka 2.16 neither lists nor describes them: they come from the codec's ListGroups
(kafka_admin.protocol), and their members and share-partition offsets from ShareGroupDescribe and
DescribeShareGroupOffsets (share_reads.py).
"""

from __future__ import annotations

from kafka_admin.snapshot.groups.base import GroupState, GroupType
from kafka_admin.snapshot.groups.share_reads import SHARE_GROUP_READS

SHARE = GroupType(
    name="share",
    reported=("SHARE",),
    states=(
        GroupState("Stable", "STABLE", "ok"),
        GroupState("Empty", "EMPTY", "idle"),
        GroupState("Dead", "DEAD", "err"),
    ),
    reads=SHARE_GROUP_READS,
    about="KIP-932 share groups: members and share-partition offsets over the codec",
    reset_refused=(
        "A share group has no committed offsets: it keeps a share-partition start offset, which the "
        "consumer-group reset cannot move. Stop every member of the group, then move it with Kafka's own tool: "
        "kafka-share-groups --bootstrap-server <broker> --group <group> --reset-offsets --topic <topic> "
        "--to-earliest --dry-run (then --execute)."
    ),
)
