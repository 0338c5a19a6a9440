"""How share groups are read in one cycle: members from ShareGroupDescribe, share-partition start
offsets and lag from DescribeShareGroupOffsets (both over the codec), the delivery count limit
from the groups' configs (share_limits.py: one DescribeConfigs for the groups not read in the last
minute, through the admin client).

Cost: one FindCoordinator for all share groups, then two requests per coordinator whatever the
number of groups, and a DescribeConfigs about once a minute. A broker without the share APIs gets the listing only
and one error saying so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from kafka_admin.protocol import messages
from kafka_admin.protocol.errors import KafkaProtocolError
from kafka_admin.snapshot.groups.base import LISTING_ONLY, Ends, GroupCycle, ListedGroup
from kafka_admin.snapshot.groups.share_limits import delivery_limits
from kafka_admin.snapshot.model import Group, Member, SharePartition, TopicPartitionRef

log = logging.getLogger(__name__)


class ShareGroupReads:
    """Members, share-partition offsets and the delivery count limit of every listed share group."""

    def read(self, cycle: GroupCycle, groups: Sequence[ListedGroup], ends: Ends) -> list[Group]:
        client = cycle.protocol
        before = client.requests
        try:
            unsupported = client.supports(messages.SHARE_GROUP_DESCRIBE, cycle.remaining())
            if unsupported is not None:
                cycle.error("groups", "share", f"share groups listed only: {unsupported}")
                return LISTING_ONLY.read(cycle, groups, ends)
            ids = [g.group_id for g in groups]
            timeout = cycle.remaining()
            coordinators = client.coordinators(ids, timeout)
            described, failed = client.describe_share_groups(ids, timeout, coordinators)
            offsets, offsets_failed = client.share_group_offsets(ids, cycle.remaining(), coordinators)
        except Exception as exc:  # noqa: BLE001 - the listing stands, the reason is recorded
            cycle.error("groups", "share", f"share groups listed only: {exc}")
            return LISTING_ONLY.read(cycle, groups, ends)
        finally:
            cycle.requests += client.requests - before
        for gid, message in {**offsets_failed, **failed}.items():
            cycle.error("group", gid, message)
        limits = delivery_limits(cycle).limits(cycle, [g.group_id for g in groups])
        by_id = {d["group_id"]: d for d in described}
        offsets_by_id = {o["group_id"]: o for o in offsets}
        return [
            build_share_group(
                cycle,
                g,
                by_id.get(g.group_id),
                offsets_by_id.get(g.group_id),
                coordinators[0].get(g.group_id),
                limits.get(g.group_id),
                ends,
            )
            for g in groups
        ]


SHARE_GROUP_READS = ShareGroupReads()


def optional(value: int) -> int | None:
    """Kafka's -1 ("none") as None."""
    return None if value is None or value < 0 else value


def describe_error(answer: dict[str, Any], api: str) -> str:
    return str(KafkaProtocolError(answer["error_code"], api, answer["error_message"]))


def member_of(m: dict[str, Any]) -> Member:
    """A share group member; several members may hold the same partition."""
    parts = m["assignment"]["topic_partitions"] if m["assignment"] else []
    refs = sorted((tp["topic_name"], p) for tp in parts for p in tp["partitions"])
    return Member(m["member_id"], m["client_id"], m["client_host"], tuple(TopicPartitionRef(t, p) for t, p in refs))


def build_share_group(
    cycle: GroupCycle,
    listed: ListedGroup,
    desc: dict[str, Any] | None,
    offsets: dict[str, Any] | None,
    coordinator: int | None,
    limit: int | None,
    ends: Ends,
) -> Group:
    gid, state = listed.group_id, listed.state
    members: tuple[Member, ...] = ()
    assignor = None
    if desc is not None and desc["error_code"]:
        cycle.error("group", gid, describe_error(desc, "ShareGroupDescribe"))
    elif desc is not None:
        state = desc["group_state"] or state
        assignor = desc["assignor_name"] or None
        members = tuple(member_of(m) for m in desc["members"])
    partitions: list[SharePartition] = []
    if offsets is not None and offsets["error_code"]:
        cycle.error("group", gid, describe_error(offsets, "DescribeShareGroupOffsets"))
    elif offsets is not None:
        for topic in offsets["topics"]:
            for p in topic["partitions"]:
                name = topic["topic_name"]
                if p["error_code"]:
                    cycle.error(
                        "group",
                        f"{gid} {name}/{p['partition_index']}",
                        str(KafkaProtocolError(p["error_code"], "share-partition", p["error_message"])),
                    )
                    continue
                end = ends.get((name, p["partition_index"]))
                partitions.append(
                    SharePartition(name, p["partition_index"], optional(p["start_offset"]), end, optional(p["lag"]))
                )
    partitions.sort(key=lambda p: (p.topic, p.partition))
    return Group(
        group_id=gid,
        state=state,
        type=listed.type,
        coordinator=coordinator,
        assignor=assignor,
        members=members,
        protocol=listed.protocol,
        share_partitions=tuple(partitions),
        delivery_count_limit=limit,
    )
