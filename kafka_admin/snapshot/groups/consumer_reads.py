"""The reads classic and consumer (KIP-848) groups share: DescribeGroups for members, OffsetFetch
(or the __consumer_offsets reader) for committed offsets, lag against this cycle's end offsets.

Admin source: describe calls batch DESCRIBE_BATCH groups, OffsetFetch goes one group a call (a
librdkafka limit), both bounded to `config.max_in_flight` futures pending. Offsets-topic source:
committed offsets from the reader, and only the groups that changed described again, many a
request (describe_cache.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions

from kafka_admin.clients import run_bounded
from kafka_admin.snapshot.groups.base import Ends, GroupCycle, ListedGroup
from kafka_admin.snapshot.groups.descriptions import Description, from_admin
from kafka_admin.snapshot.model import Group, PartitionOffsets, partition_lag

log = logging.getLogger(__name__)

DESCRIBE_BATCH = 20  # groups per describe_consumer_groups call
# offsets-topic source: after its start-up catch-up, how long a cycle waits for the reader to reach
# the __consumer_offsets end offsets the cycle read (an open transaction can hold it back).
FRESHNESS_WAIT_S = 2.0


class ConsumerGroupReads:
    """Members from describe_consumer_groups, committed offsets from the configured source."""

    def read(self, cycle: GroupCycle, groups: Sequence[ListedGroup], ends: Ends) -> list[Group]:
        ids = [g.group_id for g in groups]
        descriptions: dict[str, Any]
        if cycle.config.offsets_source == "offsets-topic":
            committed = read_committed(cycle, ids, ends)  # first: it waits until the reader is fresh
            descriptions = dict(cycle.descriptions.read(cycle, groups, cycle.offsets_reader()))
            built = cycle.descriptions.built

            def group(g: ListedGroup) -> Group:
                desc, offsets = descriptions.get(g.group_id), committed.get(g.group_id)
                return built.group(g, desc, offsets, ends, lambda: build_group(cycle, g, desc, offsets, ends))

            return [group(g) for g in groups]
        else:
            described = run_bounded(
                ids,
                lambda chunk: cycle.admin.describe_consumer_groups(chunk, request_timeout=cycle.remaining()),
                batch=DESCRIBE_BATCH,
                limit=cycle.config.max_in_flight,
                deadline=cycle.deadline,
            )
            cycle.requests += len(ids)  # DescribeGroups
            descriptions = {
                gid: d if isinstance(d, BaseException) else from_admin(d, cycle.group_types)
                for gid, d in described.items()
            }
            committed = read_committed(cycle, ids, ends)
        return [build_group(cycle, g, descriptions.get(g.group_id), committed.get(g.group_id), ends) for g in groups]


CONSUMER_GROUP_READS = ConsumerGroupReads()


def read_committed(cycle: GroupCycle, ids: list[str], ends: Ends) -> dict[str, Any]:
    """Committed offsets of the groups from the configured source: OffsetFetch one group a call,
    or the __consumer_offsets reader. Streams groups commit like consumer groups and share it."""
    if cycle.config.offsets_source == "offsets-topic":
        return committed_from_topic(cycle, ids, ends)
    cycle.requests += len(ids)
    return run_bounded(
        ids,
        lambda chunk: cycle.admin.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(chunk[0])], request_timeout=cycle.remaining()
        ),
        batch=1,
        limit=cycle.config.max_in_flight,
        deadline=cycle.deadline,
    )


def offset_rows(cycle: GroupCycle, gid: str, offsets: Any, ends: Ends) -> tuple[PartitionOffsets, ...]:
    """A group's committed partitions with their lag against this cycle's end offsets; errors recorded.

    `offsets`: the admin API's ConsumerGroupTopicPartitions, or the offsets reader's plain
    {(topic, partition): offset} (no client objects built for hundreds of thousands of rows).
    """
    if isinstance(offsets, Mapping):
        rows = []
        for (topic, partition), committed in sorted(offsets.items()):
            if committed >= 0:
                end = ends.get((topic, partition))
                rows.append(PartitionOffsets(topic, partition, committed, end, partition_lag(committed, end)))
        return tuple(rows)
    if isinstance(offsets, BaseException) or offsets is None:
        cycle.error("group", gid, offsets if offsets is not None else "no committed offsets returned")
        return ()
    out: list[PartitionOffsets] = []
    for tp in offsets.topic_partitions or []:
        if tp.error is not None:
            cycle.error("group", f"{gid} {tp.topic}/{tp.partition}", tp.error.str())
            continue
        if tp.offset < 0:
            continue
        end = ends.get((tp.topic, tp.partition))
        out.append(PartitionOffsets(tp.topic, tp.partition, tp.offset, end, partition_lag(tp.offset, end)))
    out.sort(key=lambda r: (r.topic, r.partition))
    return tuple(out)


def committed_from_topic(cycle: GroupCycle, ids: list[str], ends: Ends) -> dict[str, Any]:
    """Committed offsets of the listed groups from the __consumer_offsets reader (no request).

    Groups the reader knows but the listing does not (deleted, expired) are not asked for.
    Until the reader's start-up catch-up is done, no offsets are given: partial ones would
    show wrong lags; an "offsets" error says how far the loading is.
    """
    reader = cycle.offsets_reader()
    topic_ends = {p: end for (t, p), end in ends.items() if t == reader.topic}
    wait = min(cycle.catch_up_wait_s, max(0.0, cycle.deadline - time.monotonic()))
    if not reader.wait_caught_up(wait):  # the start-up catch-up (done once per reader)
        denied = reader.denied
        if denied is not None:  # offsets_source "offsets-topic" on a cluster whose ACLs refuse it
            cycle.error("offsets", reader.topic, f"reading {reader.topic} is not allowed ({denied})")
            return {gid: {} for gid in ids}
        done, total = reader.progress()
        if total:
            detail = f"{done} of {total} records read ({100 * done // total}%)"
        else:
            last_error = reader.stats["last_error"]
            detail = "not started" + (f" ({last_error})" if last_error else "")
        cycle.error("offsets", reader.topic, f"committed offsets are still loading from {reader.topic}: {detail}")
        return {gid: {} for gid in ids}
    if not reader.wait_for(topic_ends, min(FRESHNESS_WAIT_S, max(0.0, cycle.deadline - time.monotonic()))):
        log.info("offsets reader of %s is behind the end offsets read by this cycle", cycle.config.name)
    return reader.committed_many(ids)


def build_group(
    cycle: GroupCycle, listed: ListedGroup, desc: Description | BaseException | str | None, offsets: Any, ends: Ends
) -> Group:
    """One Group from its listing, its description and its committed offsets; each failure recorded."""
    gid, state, gtype = listed.group_id, listed.state, listed.type
    if isinstance(desc, Description):
        return Group(
            group_id=gid,
            state=desc.state or state,
            type=desc.type or gtype,
            coordinator=desc.coordinator,
            assignor=desc.assignor,
            members=desc.members,
            offsets=offset_rows(cycle, gid, offsets, ends),
            protocol=listed.protocol,
        )
    cycle.error("group", gid, desc if desc is not None else "no description returned")
    return Group(
        group_id=gid,
        state=state,
        type=gtype,
        offsets=offset_rows(cycle, gid, offsets, ends),
        protocol=listed.protocol,
    )
