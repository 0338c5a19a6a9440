"""How streams groups are read in one cycle: topology, members and tasks from StreamsGroupDescribe
(over the codec, once per coordinator for all of them), committed input offsets as for consumer
groups (Streams commits them with OffsetCommit under its application id), so lag, time lag,
status and trend are the consumer groups' figures.

A member's `assignments` are the input partitions of its active tasks: task (subtopology, p) reads
partition p of each of the subtopology's source and repartition source topics.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kafka_admin.protocol import messages
from kafka_admin.snapshot.groups.base import LISTING_ONLY, Ends, GroupCycle, ListedGroup
from kafka_admin.snapshot.groups.consumer_reads import offset_rows, read_committed
from kafka_admin.snapshot.groups.share_reads import describe_error
from kafka_admin.snapshot.model import Group, Member, TopicPartitionRef
from kafka_admin.snapshot.streams_model import StreamsInfo, StreamsMember, Subtopology, Tasks


class StreamsGroupReads:
    def read(self, cycle: GroupCycle, groups: Sequence[ListedGroup], ends: Ends) -> list[Group]:
        client = cycle.protocol
        ids = [g.group_id for g in groups]
        before = client.requests
        try:
            unsupported = client.supports(messages.STREAMS_GROUP_DESCRIBE, cycle.remaining())
            if unsupported is not None:
                cycle.error("groups", "streams", f"streams groups without topology: {unsupported}")
                described: list[dict[str, Any]] = []
                coordinators: dict[str, int] = {}
            else:
                found = client.coordinators(ids, cycle.remaining())
                coordinators = found[0]
                described, failed = client.describe_streams_groups(ids, cycle.remaining(), found)
                for gid, message in failed.items():
                    cycle.error("group", gid, message)
        except Exception as exc:  # noqa: BLE001 - the listing stands, the reason is recorded
            cycle.error("groups", "streams", f"streams groups listed only: {exc}")
            return LISTING_ONLY.read(cycle, groups, ends)
        finally:
            cycle.requests += client.requests - before
        committed = read_committed(cycle, ids, ends)
        by_id = {d["group_id"]: d for d in described}
        return [
            build_streams_group(
                cycle, g, by_id.get(g.group_id), committed.get(g.group_id), coordinators.get(g.group_id), ends
            )
            for g in groups
        ]


STREAMS_GROUP_READS = StreamsGroupReads()


def tasks(items: list[dict[str, Any]]) -> tuple[Tasks, ...]:
    return tuple(
        sorted(
            (Tasks(t["subtopology_id"], tuple(sorted(t["partitions"]))) for t in items), key=lambda t: t.subtopology_id
        )
    )


def streams_info(desc: dict[str, Any]) -> StreamsInfo:
    topology = desc["topology"] or {}
    subtopologies = tuple(
        sorted(
            (
                Subtopology(
                    s["subtopology_id"],
                    tuple(s["source_topics"]),
                    tuple(s["repartition_sink_topics"]),
                    tuple(t["name"] for t in s["state_changelog_topics"]),
                    tuple(t["name"] for t in s["repartition_source_topics"]),
                )
                for s in topology.get("subtopologies") or []
            ),
            key=lambda s: s.subtopology_id,
        )
    )
    members = tuple(
        StreamsMember(
            m["member_id"],
            m["process_id"],
            m["client_id"],
            m["client_host"],
            m["instance_id"],
            tasks(m["assignment"]["active_tasks"]),
            tasks(m["assignment"]["standby_tasks"]),
            tasks(m["assignment"]["warmup_tasks"]),
        )
        for m in desc["members"]
    )
    return StreamsInfo(topology.get("epoch"), subtopologies, members)


def input_partitions(info: StreamsInfo, active: tuple[Tasks, ...]) -> tuple[TopicPartitionRef, ...]:
    refs = set()
    for t in active:
        sub = info.subtopology(t.subtopology_id)
        if sub is None:
            continue
        for topic in (*sub.source_topics, *sub.repartition_source_topics):
            refs.update((topic, p) for p in t.partitions)
    return tuple(TopicPartitionRef(topic, p) for topic, p in sorted(refs))


def build_streams_group(
    cycle: GroupCycle,
    listed: ListedGroup,
    desc: dict[str, Any] | None,
    offsets: Any,
    coordinator: int | None,
    ends: Ends,
) -> Group:
    gid, state = listed.group_id, listed.state
    info = None
    members: tuple[Member, ...] = ()
    if desc is not None and desc["error_code"]:
        cycle.error("group", gid, describe_error(desc, "StreamsGroupDescribe"))
    elif desc is not None:
        state = desc["group_state"] or state
        info = streams_info(desc)
        members = tuple(
            Member(m.member_id, m.client_id, m.host, input_partitions(info, m.active), m.instance_id)
            for m in info.members
        )
    return Group(
        group_id=gid,
        state=state,
        type=listed.type,
        coordinator=coordinator,
        members=members,
        offsets=offset_rows(cycle, gid, offsets, ends),
        protocol=listed.protocol,
        streams=info,
    )
