"""Which groups a cycle describes again, and descriptions read from the codec's answers (no broker)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import pytest

from kafka_admin.protocol.consumer_protocol import assigned_partitions
from kafka_admin.protocol.wire import DecodeError
from kafka_admin.snapshot.groups.base import ListedGroup
from kafka_admin.snapshot.groups.describe_cache import BuiltGroups, DescriptionCache
from kafka_admin.snapshot.groups.descriptions import (
    Description,
    from_consumer_describe,
    from_describe_groups,
    from_group_record,
)
from kafka_admin.snapshot.groups.registry import GROUP_TYPES
from kafka_admin.snapshot.model import Group, Member, TopicPartitionRef
from kafka_admin.snapshot.offsets_codec import ClassicMembers


def s16(v: str) -> bytes:
    raw = v.encode()
    return struct.pack(">h", len(raw)) + raw


def assignment(version: int, topics: dict[str, list[int]], user_data: bytes | None = None) -> bytes:
    out = struct.pack(">h", version) + struct.pack(">i", len(topics))
    for name, parts in topics.items():
        out += s16(name) + struct.pack(">i", len(parts)) + b"".join(struct.pack(">i", p) for p in parts)
    return out + (struct.pack(">i", -1) if user_data is None else struct.pack(">i", len(user_data)) + user_data)


class TestConsumerProtocolAssignment:
    def test_partitions_of_every_topic(self):
        data = assignment(3, {"orders": [2, 0], "audit": [1]}, b"sticky")
        assert assigned_partitions(data) == [("orders", 2), ("orders", 0), ("audit", 1)]

    def test_no_bytes_between_rebalances(self):
        assert assigned_partitions(b"") == [] and assigned_partitions(None) == []

    def test_truncated_bytes_raise(self):
        with pytest.raises(DecodeError):
            assigned_partitions(assignment(0, {"orders": [1]})[:-6])


class TestDescriptions:
    def test_classic_group(self):
        answer = {
            "group_state": "Stable",
            "protocol_type": "consumer",
            "protocol_data": "range",
            "members": [
                {
                    "member_id": "m-1",
                    "group_instance_id": None,
                    "client_id": "app",
                    "client_host": "/10.0.0.1",
                    "member_metadata": b"",
                    "member_assignment": assignment(0, {"t": [1, 0]}),
                }
            ],
        }
        d = from_describe_groups(answer, 3)
        assert (d.state, d.type, d.coordinator, d.assignor) == ("Stable", "classic", 3, "range")
        assert d.members == (Member("m-1", "app", "/10.0.0.1", (TopicPartitionRef("t", 0), TopicPartitionRef("t", 1))),)

    def test_other_protocols_bytes_give_no_partitions(self):
        member = {
            "member_id": "w",
            "group_instance_id": None,
            "client_id": "c",
            "client_host": "h",
            "member_metadata": b"",
            "member_assignment": b"\x00\x01garbage",
        }
        answer = {"group_state": "Stable", "protocol_type": "consumer", "protocol_data": "", "members": [member]}
        assert from_describe_groups(answer, 1).members[0].assignments == ()
        assert from_describe_groups(answer, 1).assignor is None

    def test_kip848_group(self):
        parts = {"topic_partitions": [{"topic_id": None, "topic_name": "t", "partitions": [4, 2]}]}
        member = {"member_id": "m", "instance_id": "i-1", "client_id": "c", "client_host": "/h", "assignment": parts}
        d = from_consumer_describe({"group_state": "Reconciling", "assignor_name": "uniform", "members": [member]}, 1)
        assert (d.state, d.type, d.assignor) == ("Reconciling", "consumer", "uniform")
        assert d.members[0].assignments == (TopicPartitionRef("t", 2), TopicPartitionRef("t", 4))
        assert d.members[0].group_instance_id == "i-1"


@dataclass
class Cycle:
    group_types: object = GROUP_TYPES
    errors: list = field(default_factory=list)
    offsets_leaders: dict = field(default_factory=lambda: {0: 1, 1: 2})


STABLE_RECORD = ClassicMembers(
    1,
    "consumer",
    "range",
    7,
    (
        ("m-1", "app", "/10.0.0.1", None, assignment(0, {"t": [1, 0]})),
        ("m-2", "app", "/10.0.0.2", "i-2", assignment(3, {"t": [2]}, b"x")),
    ),
)


class TestFromGroupRecord:
    """A settled classic group's description from its GroupMetadata record: what DescribeGroups says."""

    def test_stable_group_as_describe_groups_says(self):
        answer = {
            "group_state": "Stable",
            "protocol_type": "consumer",
            "protocol_data": "range",
            "members": [
                {
                    "member_id": m,
                    "group_instance_id": i,
                    "client_id": c,
                    "client_host": h,
                    "member_metadata": b"",
                    "member_assignment": a,
                }
                for m, c, h, i, a in STABLE_RECORD.members
            ],
        }
        built = from_group_record("Stable", STABLE_RECORD, {1: 2})
        assert built == from_describe_groups(answer, 2)
        assert built.coordinator == 2 and built.members[1].group_instance_id == "i-2"

    def test_empty_group(self):
        record = ClassicMembers(0, "consumer", None, 8)
        assert from_group_record("Empty", record, {0: 1}) == Description("Empty", "classic", 1, None)

    def test_other_protocols_give_members_without_partitions(self):
        record = ClassicMembers(0, "connect", "sessioned", 3, (("w", "c", "h", None, b"\x00\x01garbage"),))
        built = from_group_record("Stable", record, {0: 1})
        assert built is not None and built.members[0].assignments == () and built.assignor == "sessioned"

    @pytest.mark.parametrize(
        ("state", "record", "leaders"),
        [
            ("Stable", None, {1: 2}),  # no record (a tombstone, or a group that never had one)
            ("Stable", STABLE_RECORD, {0: 1}),  # the coordinator is not known
            ("PreparingRebalance", STABLE_RECORD, {1: 2}),  # moving: members join without a record
            ("CompletingRebalance", STABLE_RECORD, {1: 2}),
            ("Dead", STABLE_RECORD, {1: 2}),
            ("Empty", STABLE_RECORD, {1: 2}),  # members in the record: the reader is behind
            ("Stable", ClassicMembers(1, "consumer", None, 8), {1: 2}),  # Stable without members
        ],
    )
    def test_not_built_where_the_record_cannot_say(self, state, record, leaders):
        assert from_group_record(state, record, leaders) is None


@dataclass
class Reader:
    """The offsets reader's records, as classic_members() gives them."""

    records: dict

    def classic_members(self, groups) -> dict:
        return {g: self.records[g] for g in groups if g in self.records}


class TestFromRecords:
    """Which stale groups a cycle builds from their records, and which it still describes."""

    def test_only_settled_classic_groups_changed_by_a_record(self):
        cache = DescriptionCache()
        for gid in ("rebalanced", "emptied", "moving", "kip848", "no-record"):
            cache.keep(gid, Description("Stable", "classic", 1, None), "Stable")
        cache.keep("was-kip848", Description("Stable", "consumer", 1, None), "Stable")
        empty = ClassicMembers(0, "consumer", None, 9)
        reader = Reader({"rebalanced": STABLE_RECORD, "emptied": empty, "moving": STABLE_RECORD, "new": empty})
        reader.records["kip848"] = reader.records["was-kip848"] = STABLE_RECORD
        groups = [
            listed("rebalanced", "Stable"),
            listed("emptied", "Empty"),  # all members left: the record explains the state that moved
            listed("moving", "PreparingRebalance"),
            listed("kip848", "Stable", "consumer"),
            listed("was-kip848", "Stable"),
            listed("no-record", "Stable"),
            listed("new"),
        ]
        changed = {g.group_id for g in groups}
        stale = cache.stale(Cycle(), groups, changed)
        built, rest = cache.from_records_of(Cycle(), stale, changed, reader)
        assert sorted(built) == ["emptied", "rebalanced"]
        assert built["emptied"] == Description("Empty", "classic", 1, None)
        assert built["rebalanced"].coordinator == 2 and len(built["rebalanced"].members) == 2
        assert [g.group_id for g in rest] == ["moving", "kip848", "was-kip848", "no-record", "new"]

    def test_a_state_moved_without_a_record_is_described(self):
        cache = DescriptionCache()
        cache.keep("g", Description("PreparingRebalance", "classic", 1, None), "PreparingRebalance")
        stale = cache.stale(Cycle(), [listed("g", "Stable")], changed=set())
        built, rest = cache.from_records_of(Cycle(), stale, set(), Reader({"g": STABLE_RECORD}))
        assert built == {} and [g.group_id for g in rest] == ["g"]


def listed(gid: str, state: str = "Empty", gtype: str = "classic") -> ListedGroup:
    return ListedGroup(gid, None, state, gtype, "consumer")


class TestStale:
    def cache_with(self, *entries: tuple[str, str]) -> DescriptionCache:
        cache = DescriptionCache()
        for gid, state in entries:
            cache.keep(gid, Description(state, "classic", 1, None), state)
        return cache

    def test_new_changed_and_moved_groups_only(self):
        cache = self.cache_with(("kept", "Empty"), ("changed", "Stable"), ("moved", "Stable"))
        groups = [listed("kept"), listed("changed", "Stable"), listed("moved", "Empty"), listed("new")]
        stale = cache.stale(Cycle(), groups, changed={"changed"})
        assert [g.group_id for g in stale] == ["changed", "moved", "new"]

    def test_a_rebalancing_group_is_described_every_cycle(self):
        cache = self.cache_with(("joining", "PreparingRebalance"), ("assigning", "Assigning"))
        groups = [listed("joining", "PreparingRebalance"), listed("assigning", "Assigning", "consumer")]
        assert [g.group_id for g in cache.stale(Cycle(), groups, changed=set())] == ["joining", "assigning"]


class TestBuiltGroups:
    """An unchanged group is the same Group again; any change builds it anew."""

    def test_reused_until_something_it_is_made_of_changes(self):
        built = BuiltGroups()
        desc = Description("Empty", "classic", 1, None)
        made: list[int] = []

        def group(committed: dict, ends: dict, state: str = "Empty", d: Description = desc) -> Group:
            def build() -> Group:
                made.append(1)
                return Group("g", state, "classic", offsets=())

            return built.group(listed("g", state), d, committed, ends, build)

        first = group({("t", 0): 5}, {("t", 0): 10})
        assert group({("t", 0): 5}, {("t", 0): 10}) is first and len(made) == 1
        assert group({("t", 0): 6}, {("t", 0): 10}) is not first  # a commit
        assert len(made) == 2
        group({("t", 0): 6}, {("t", 0): 11})  # the log grew
        group({("t", 0): 6}, {("t", 0): 11}, state="Stable")  # the listing moved
        group({("t", 0): 6}, {("t", 0): 11}, state="Stable", d=Description("Stable", "classic", 1, None))
        assert len(made) == 5

    def test_an_error_is_never_kept(self):
        built = BuiltGroups()
        calls: list[int] = []
        for _ in range(2):
            built.group(listed("g"), "describe failed", {}, {}, lambda: calls.append(1) or Group("g", "Empty", None))
        assert len(calls) == 2
