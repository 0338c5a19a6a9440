"""Descriptions of classic and consumer groups kept between cycles: only groups that changed are
described again, in batches (offsets-topic source).

What makes a group's description stale, so that the cycle describes it again:
- it is new to the cache (first cycle, a new group, or its last describe failed);
- a membership record of it came through __consumer_offsets since the last describes (a classic
  group's GroupMetadata after each rebalance, any KIP-848 member / assignment record, a tombstone);
- the listing (ListGroups, one request per broker every cycle) names another state than when it
  was described, or a moving state (a rebalance: members join without a record until it ends).

A stale classic group that the listing names Stable or Empty, was described before, and is stale
because a GroupMetadata record of it came (a rebalance completed, or its last member left) is not
described: its description is built from that record (descriptions.from_group_record), which holds
what DescribeGroups would answer. A moving state, a group new to the cache, a KIP-848 group, and a
record that does not fit the listed state are described as before.

Stale groups are described with the codec, many groups a request to each coordinator
(DescribeGroups for classic groups, ConsumerGroupDescribe for KIP-848 groups), where the admin
client sends one request per group. Coordinators are looked up once (FindCoordinator, batched)
and kept until an answer says the coordinator moved. So a steady-state cycle sends requests in
proportion to the brokers and to the groups that changed, not to the groups.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kafka_admin.protocol.errors import RETRIABLE, KafkaProtocolError
from kafka_admin.snapshot.groups.base import Ends, GroupCycle, ListedGroup
from kafka_admin.snapshot.groups.descriptions import (
    Description,
    from_consumer_describe,
    from_describe_groups,
    from_group_record,
)
from kafka_admin.snapshot.model import Group
from kafka_admin.snapshot.offsets_topic import OffsetsTopicReader

log = logging.getLogger(__name__)

GROUP_ID_NOT_FOUND = 69  # ConsumerGroupDescribe of a group that is not a KIP-848 group (any more)
Described = dict[str, Description | str]  # group -> its description, or why it has none
SETTLED = ("Stable", "Empty")  # classic states in which the latest GroupMetadata record is the group


@dataclass(frozen=True, slots=True)
class CachedDescription:
    description: Description
    listed_state: str  # the listing's state when it was described


@dataclass(frozen=True, slots=True)
class _Built:
    description: Description
    listed: tuple[str, str | None, str | None]  # state, type, protocol as listed
    committed: dict[tuple[str, int], int]
    ends: tuple[int | None, ...]  # the end offsets of those partitions, in the same order
    group: Group


class BuiltGroups:
    """The Group each group was built into last cycle: given the same description, listing,
    committed offsets and end offsets, the same (immutable) Group again, not rebuilt row by row."""

    def __init__(self) -> None:
        self._last: dict[str, _Built] = {}

    def group(
        self, listed: ListedGroup, desc: object, committed: object, ends: Ends, build: Callable[[], Group]
    ) -> Group:
        """The group `build()` makes, or the same one as last cycle when nothing it is made of changed."""
        gid = listed.group_id
        if not isinstance(desc, Description) or not isinstance(committed, dict):
            self._last.pop(gid, None)
            return build()
        key = (listed.state, listed.type, listed.protocol)
        end_values = tuple([ends.get(tp) for tp in committed])
        last = self._last.get(gid)
        if (
            last is not None
            and last.description is desc
            and last.listed == key
            and last.ends == end_values
            and last.committed == committed
        ):
            return last.group
        group = build()
        self._last[gid] = _Built(desc, key, committed, end_values, group)
        return group

    def forget(self, gone: set[str]) -> None:
        for gid in gone:
            self._last.pop(gid, None)


class DescriptionCache:
    """One per collector; read() is called once a cycle with every classic and consumer group listed."""

    def __init__(self) -> None:
        self.built = BuiltGroups()
        self._entries: dict[str, CachedDescription] = {}
        self._coordinators: dict[str, int] = {}
        self._sequence = 0  # the reader's record sequence when the last describes went out
        self.described = 0  # groups described by the last read(): what the cycle's requests follow
        self.from_records = 0  # stale groups the last read() built from their GroupMetadata record

    def __len__(self) -> int:
        return len(self._entries)

    def keep(self, group_id: str, description: Description, listed_state: str) -> None:
        """Remember a group's description, described while the listing said `listed_state`."""
        self._entries[group_id] = CachedDescription(description, listed_state)

    def stale(self, cycle: GroupCycle, groups: Sequence[ListedGroup], changed: set[str]) -> list[ListedGroup]:
        kinds = cycle.group_types.state_kinds
        out = []
        for g in groups:
            entry = self._entries.get(g.group_id)
            if entry is None or g.group_id in changed or entry.listed_state != g.state or kinds.get(g.state) == "warn":
                out.append(g)
        return out

    def read(self, cycle: GroupCycle, groups: Sequence[ListedGroup], reader: OffsetsTopicReader) -> Described:
        """Every listed group's description: kept ones as they are, stale ones described now."""
        listed = {g.group_id for g in groups}
        gone = self._entries.keys() - listed
        for gid in gone:
            del self._entries[gid]
            self._coordinators.pop(gid, None)
        self.built.forget(gone)
        sequence, changed = reader.changes(self._sequence)
        stale = self.stale(cycle, groups, changed)
        self._sequence = sequence  # taken before describing: a record arriving meanwhile counts next cycle
        recorded, stale = self.from_records_of(cycle, stale, changed, reader)
        fresh: Described = self.describe(cycle, stale) if stale else {}
        fresh.update(recorded)
        self.described, self.from_records = len(stale), len(recorded)
        out: Described = {}
        for g in groups:
            got = fresh.get(g.group_id)
            if isinstance(got, Description):
                self.keep(g.group_id, got, g.state)
            elif got is not None:
                self._entries.pop(g.group_id, None)  # described again next cycle
                out[g.group_id] = got
                continue
            entry = self._entries.get(g.group_id)
            out[g.group_id] = entry.description if entry is not None else "no description returned"
        return out

    def from_records_of(
        self, cycle: GroupCycle, stale: list[ListedGroup], changed: set[str], reader: OffsetsTopicReader
    ) -> tuple[dict[str, Description], list[ListedGroup]]:
        """(descriptions built from GroupMetadata records, the stale groups still to describe).

        Taken: classic groups described as classic before, listed Stable or Empty, with a record
        since (the record explains a listed state that moved, e.g. out of a rebalance)."""
        settled = [
            g
            for g in stale
            if g.type == "classic"
            and g.state in SETTLED
            and g.group_id in changed
            and (entry := self._entries.get(g.group_id)) is not None
            and entry.description.type == "classic"
        ]
        if not settled:
            return {}, stale
        records = reader.classic_members(g.group_id for g in settled)
        leaders = cycle.offsets_leaders
        built = {}
        for g in settled:
            desc = from_group_record(g.state, records.get(g.group_id), leaders)
            if desc is not None:
                built[g.group_id] = desc
        return built, [g for g in stale if g.group_id not in built]

    # -- the batched describes ----------------------------------------------------------------

    def describe(self, cycle: GroupCycle, groups: Sequence[ListedGroup]) -> Described:
        client = cycle.protocol
        before = client.requests
        try:
            return self._describe(cycle, groups)
        except Exception as exc:  # noqa: BLE001 - the groups are described again next cycle
            return dict.fromkeys((g.group_id for g in groups), f"describe failed: {exc}")
        finally:
            cycle.requests += client.requests - before

    def _describe(self, cycle: GroupCycle, groups: Sequence[ListedGroup]) -> Described:
        out: Described = {}
        coordinators = self._lookup(cycle, [g.group_id for g in groups], out)
        consumer = [g.group_id for g in groups if g.type == "consumer" and g.group_id in coordinators]
        classic = [g.group_id for g in groups if g.type != "consumer" and g.group_id in coordinators]
        if consumer:
            answers, failed = cycle.protocol.describe_consumer_groups(consumer, cycle.remaining(), (coordinators, {}))
            moved = [a["group_id"] for a in answers if a["error_code"] == GROUP_ID_NOT_FOUND]
            classic += moved  # a classic group by now: DescribeGroups answers for it
            self._take(out, [a for a in answers if a["error_code"] != GROUP_ID_NOT_FOUND], failed, coordinators, True)
        if classic:
            answers, failed = cycle.protocol.describe_groups(classic, cycle.remaining(), (coordinators, {}))
            self._take(out, answers, failed, coordinators, False)
        return out

    def _lookup(self, cycle: GroupCycle, ids: list[str], out: Described) -> dict[str, int]:
        unknown = [gid for gid in ids if gid not in self._coordinators]
        if unknown:
            found, failed = cycle.protocol.coordinators(unknown, cycle.remaining())
            self._coordinators.update(found)
            out.update(failed)
        return {gid: self._coordinators[gid] for gid in ids if gid in self._coordinators}

    def _take(
        self,
        out: Described,
        answers: list[dict],
        failed: dict[str, str],
        coordinators: dict[str, int],
        kip848: bool,
    ) -> None:
        api = "ConsumerGroupDescribe" if kip848 else "DescribeGroups"
        for gid, message in failed.items():
            out[gid] = message
            self._coordinators.pop(gid, None)  # the connection failed: look the coordinator up again
        for a in answers:
            gid = a["group_id"]
            if a["error_code"]:
                if a["error_code"] in RETRIABLE:
                    self._coordinators.pop(gid, None)
                out[gid] = str(KafkaProtocolError(a["error_code"], api, a.get("error_message")))
                continue
            node = coordinators.get(gid)
            out[gid] = from_consumer_describe(a, node) if kip848 else from_describe_groups(a, node)
