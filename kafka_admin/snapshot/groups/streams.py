"""Kafka Streams groups (KIP-1071, `group.protocol=streams`): the broker assigns tasks of a
topology's subtopologies to the application's members.

confluent-kafka 2.16 neither lists nor describes them: they come from the codec's ListGroups
(kafka_admin.protocol), their topology, members and tasks from StreamsGroupDescribe.
"""

from __future__ import annotations

from kafka_admin.snapshot.groups.base import GroupState, GroupType
from kafka_admin.snapshot.groups.streams_reads import STREAMS_GROUP_READS

STREAMS = GroupType(
    name="streams",
    reported=("STREAMS",),
    states=(
        GroupState("Stable", "STABLE", "ok"),
        GroupState("Empty", "EMPTY", "idle"),
        GroupState("NotReady", None, "warn"),
        GroupState("Assigning", None, "warn"),
        GroupState("Reconciling", None, "warn"),
        GroupState("Dead", "DEAD", "err"),
    ),
    reads=STREAMS_GROUP_READS,
    about="KIP-1071 streams groups: topology and tasks over the codec, committed offsets as consumer groups",
    reset_refused=(
        "A Kafka Streams application keeps state beside its committed offsets (state stores, their changelog "
        "topics, repartition topics): moving the input offsets alone leaves that state out of step with them, "
        "so the dashboard does not write this group's offsets. Stop every instance of the application, then run "
        "Kafka's own tool, which resets the input offsets and the internal topics together: "
        "kafka-streams-groups --bootstrap-server <broker> --group <group> --reset-offsets --all-input-topics "
        "--to-earliest --dry-run (then --execute, with --delete-all-internal-topics to start the state afresh), "
        "and clear each instance's local state (KafkaStreams#cleanUp(), or delete its state.dir) "
        "before it starts again."
    ),
)
