"""The __consumer_offsets decoders and state, on hand-built bytes laid out as Kafka's schemas say."""

from __future__ import annotations

import struct

import pytest

from kafka_admin.snapshot.offsets_codec import (
    GroupMetadataKey,
    MalformedRecord,
    OffsetCommitKey,
    OffsetsState,
    OtherKey,
    decode_group_value,
    decode_key,
    decode_offset_value,
)

# --- hand encoders: Kafka's primitive types, written out with struct ------------------------------


def i16(v: int) -> bytes:
    return struct.pack(">h", v)


def i32(v: int) -> bytes:
    return struct.pack(">i", v)


def i64(v: int) -> bytes:
    return struct.pack(">q", v)


def uvarint(v: int) -> bytes:
    out = bytearray()
    while True:
        byte = v & 0x7F
        v >>= 7
        if v:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def s16(v: str | None) -> bytes:
    """Classic string: int16 length (-1 for null) + UTF-8."""
    if v is None:
        return i16(-1)
    raw = v.encode()
    return i16(len(raw)) + raw


def cstr(v: str | None) -> bytes:
    """Compact string: unsigned varint length+1 (0 for null) + UTF-8."""
    if v is None:
        return uvarint(0)
    raw = v.encode()
    return uvarint(len(raw) + 1) + raw


def b32(v: bytes) -> bytes:
    return i32(len(v)) + v


def cbytes(v: bytes) -> bytes:
    return uvarint(len(v) + 1) + v


NO_TAGS = uvarint(0)


def tags(*fields: tuple[int, bytes]) -> bytes:
    out = uvarint(len(fields))
    for tag, data in fields:
        out += uvarint(tag) + uvarint(len(data)) + data
    return out


def offset_key(record_type: int, group: str, topic: str, partition: int) -> bytes:
    return i16(record_type) + s16(group) + s16(topic) + i32(partition)


def group_key(group: str) -> bytes:
    return i16(2) + s16(group)


# --- keys ------------------------------------------------------------------------------------------


class TestKeys:
    @pytest.mark.parametrize("record_type", [0, 1])
    def test_offset_commit_keys(self, record_type):
        assert decode_key(offset_key(record_type, "billing", "orders", 7)) == OffsetCommitKey("billing", "orders", 7)

    def test_group_metadata_key(self):
        assert decode_key(group_key("billing")) == GroupMetadataKey("billing")

    def test_utf8_names(self):
        assert decode_key(offset_key(1, "gruppé-ö", "tópico", 0)) == OffsetCommitKey("gruppé-ö", "tópico", 0)

    @pytest.mark.parametrize("record_type", [3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 16, 17, 21, 99])
    def test_other_record_types_are_recognised_not_decoded(self, record_type):
        # The new coordinator's consumer/share/streams group records: a group id and more fields.
        assert decode_key(i16(record_type) + s16("g") + s16("member-1")) == OtherKey(record_type, "g")

    def test_other_record_type_without_a_group_id(self):
        assert decode_key(i16(42) + b"\x00") == OtherKey(42, None)

    @pytest.mark.parametrize(
        "raw",
        [
            None,
            b"",
            b"\x00",
            i16(-3) + s16("g"),
            i16(1) + s16("g") + s16("t"),  # no partition
            i16(1) + i16(10) + b"short",  # string length past the end
            i16(1) + i16(-2) + b"x",  # negative length
            i16(1) + s16(None) + s16("t") + i32(0),  # group is not nullable
            i16(2) + i16(2) + b"\xff\xfe",  # not UTF-8
        ],
    )
    def test_malformed_keys(self, raw):
        with pytest.raises(MalformedRecord):
            decode_key(raw)


# --- offset commit values --------------------------------------------------------------------------


class TestOffsetCommitValue:
    def test_v0(self):
        v = decode_offset_value(i16(0) + i64(42) + s16("meta") + i64(1_700_000_000_000))
        assert (v.version, v.offset, v.metadata, v.commit_timestamp) == (0, 42, "meta", 1_700_000_000_000)
        assert (v.leader_epoch, v.expire_timestamp) == (-1, -1)

    def test_v1_has_expire_timestamp(self):
        v = decode_offset_value(i16(1) + i64(43) + s16("") + i64(1000) + i64(2000))
        assert (v.offset, v.metadata, v.commit_timestamp, v.expire_timestamp) == (43, "", 1000, 2000)

    def test_v2_is_v0_layout(self):
        v = decode_offset_value(i16(2) + i64(44) + s16("m") + i64(1001))
        assert (v.version, v.offset, v.metadata, v.commit_timestamp, v.expire_timestamp) == (2, 44, "m", 1001, -1)

    def test_v3_has_leader_epoch_before_metadata(self):
        v = decode_offset_value(i16(3) + i64(45) + i32(6) + s16("m3") + i64(1002))
        assert (v.offset, v.leader_epoch, v.metadata, v.commit_timestamp) == (45, 6, "m3", 1002)

    def test_v4_is_flexible(self):
        v = decode_offset_value(i16(4) + i64(46) + i32(7) + cstr("m4") + i64(1003) + NO_TAGS)
        assert (v.version, v.offset, v.leader_epoch, v.metadata, v.commit_timestamp) == (4, 46, 7, "m4", 1003)

    def test_v4_skips_tagged_fields(self):
        raw = i16(4) + i64(47) + i32(-1) + cstr("") + i64(1004) + tags((0, b"\x01" * 16), (5, b"xyz"))
        assert decode_offset_value(raw).offset == 47

    def test_a_newer_version_reads_as_the_newest_known_layout(self):
        # KIP-915: later versions keep v4's fields and add tagged ones only.
        raw = i16(5) + i64(48) + i32(2) + cstr("m") + i64(1005) + tags((1, b"new"))
        v = decode_offset_value(raw)
        assert (v.version, v.offset, v.commit_timestamp) == (5, 48, 1005)

    def test_large_offsets_and_negative_epoch(self):
        v = decode_offset_value(i16(3) + i64(2**62) + i32(-1) + s16("") + i64(-1))
        assert (v.offset, v.leader_epoch, v.commit_timestamp) == (2**62, -1, -1)

    @pytest.mark.parametrize(
        "raw",
        [
            b"",
            i16(-1) + i64(1) + s16("") + i64(0),
            i16(0) + i64(1),  # truncated
            i16(1) + i64(1) + s16("") + i64(0),  # v1 without its expire timestamp
            i16(3) + i64(1) + s16("") + i64(0),  # v3 without the leader epoch: lengths run off
            i16(4) + i64(1) + i32(0) + uvarint(50) + b"abc",  # compact length past the end
            i16(4) + i64(1) + i32(0) + cstr("") + i64(0),  # no tagged-field count
            i16(4) + i64(1) + i32(0) + cstr("") + i64(0) + b"\xff\xff\xff\xff\xff\xff",  # runaway varint
            i16(4) + i64(1) + i32(0) + cstr("") + i64(0) + uvarint(1) + uvarint(0) + uvarint(9) + b"ab",
        ],
    )
    def test_malformed_values(self, raw):
        with pytest.raises(MalformedRecord):
            decode_offset_value(raw)


# --- group metadata values -------------------------------------------------------------------------


def member(version: int, flexible: bool, member_id: str = "m-1", instance: str | None = None) -> bytes:
    s = cstr if flexible else s16
    b = cbytes if flexible else b32
    out = s(member_id)
    if version >= 3:
        out += s(instance)
    out += s("client-1") + s("/10.0.0.1")
    if version >= 1:
        out += i32(300_000)
    out += i32(45_000) + b(b"\x00\x01sub") + b(b"\x00\x02assign")
    if flexible:
        out += NO_TAGS
    return out


def group_value(version: int, members: int = 1, protocol_type: str = "consumer") -> bytes:
    flexible = version >= 4
    s = cstr if flexible else s16
    out = i16(version) + s(protocol_type) + i32(9) + s("range") + s("m-0")
    if version >= 2:
        out += i64(1_700_000_000_123)
    count = uvarint(members + 1) if flexible else i32(members)
    out += count + b"".join(
        member(version, flexible, f"m-{i}", "inst" if version >= 3 else None) for i in range(members)
    )
    if flexible:
        out += NO_TAGS
    return out


class TestGroupMetadataValue:
    @pytest.mark.parametrize("version", [0, 1, 2, 3, 4])
    def test_every_version(self, version):
        v = decode_group_value(group_value(version, members=2))
        assert (v.version, v.protocol_type, v.generation, v.protocol, v.leader) == (
            version,
            "consumer",
            9,
            "range",
            "m-0",
        )
        assert v.current_state_timestamp == (1_700_000_000_123 if version >= 2 else -1)
        assert [m.member_id for m in v.members] == ["m-0", "m-1"]
        m = v.members[0]
        assert (m.client_id, m.client_host, m.session_timeout) == ("client-1", "/10.0.0.1", 45_000)
        assert m.rebalance_timeout == (300_000 if version >= 1 else -1)
        assert m.group_instance_id == ("inst" if version >= 3 else None)
        assert (m.subscription, m.assignment) == (b"\x00\x01sub", b"\x00\x02assign")

    @pytest.mark.parametrize("version", [0, 4])
    def test_empty_group_with_null_protocol_and_leader(self, version):
        s = cstr if version >= 4 else s16
        raw = i16(version) + s("consumer") + i32(0) + s(None) + s(None)
        raw += i64(-1) + uvarint(1) + NO_TAGS if version >= 4 else i32(0)
        v = decode_group_value(raw)
        assert (v.protocol, v.leader, v.members) == (None, None, ())

    def test_connect_protocol_type(self):
        assert decode_group_value(group_value(3, protocol_type="connect")).protocol_type == "connect"

    @pytest.mark.parametrize(
        "raw",
        [
            group_value(3)[:-3],  # truncated in the last member
            i16(2) + s16("consumer") + i32(1) + s16(None) + s16(None) + i64(0) + i32(5),  # 5 members, none there
            i16(0) + s16(None) + i32(1) + s16(None) + s16(None) + i32(0),  # protocol type is not nullable
            i16(0) + s16("consumer") + i32(1) + s16(None) + s16(None) + i32(-7),  # bad array length
        ],
    )
    def test_malformed(self, raw):
        with pytest.raises(MalformedRecord):
            decode_group_value(raw)


# --- the state -------------------------------------------------------------------------------------


def commit_value(offset: int, ts: int = 1000, version: int = 3) -> bytes:
    if version >= 4:
        return i16(version) + i64(offset) + i32(0) + cstr("") + i64(ts) + NO_TAGS
    return i16(3) + i64(offset) + i32(0) + s16("") + i64(ts)


class TestOffsetsState:
    def test_latest_commit_wins(self):
        st = OffsetsState()
        st.apply(offset_key(1, "g", "t", 0), commit_value(5, ts=1))
        st.apply(offset_key(1, "g", "t", 1), commit_value(7, ts=2, version=4))
        st.apply(offset_key(0, "g", "t", 0), i16(0) + i64(9) + s16("") + i64(3))  # legacy key, v0 value
        assert st.committed("g") == {("t", 0): 9, ("t", 1): 7}
        assert st.offsets["g"][("t", 0)] == (9, 3)
        assert st.groups() == {"g"}
        assert (st.records, st.malformed, st.tombstones, st.group_partitions) == (3, 0, 0, 2)

    def test_offset_tombstone_deletes_one_partition_then_the_group(self):
        st = OffsetsState()
        st.apply(offset_key(1, "g", "t", 0), commit_value(5))
        st.apply(offset_key(1, "g", "t", 1), commit_value(6))
        st.apply(offset_key(1, "g", "t", 0), None)  # expiry or --delete-offsets
        assert st.committed("g") == {("t", 1): 6}
        st.apply(offset_key(1, "g", "t", 1), None)
        assert st.committed("g") == {} and "g" not in st.groups()
        st.apply(offset_key(1, "never-seen", "t", 0), None)  # a tombstone for nothing is fine
        assert st.tombstones == 3

    def test_group_metadata_and_its_tombstone(self):
        st = OffsetsState()
        st.apply(group_key("g"), group_value(4))
        st.apply(group_key("h"), group_value(3, protocol_type="connect"))
        assert st.groups() == {"g", "h"} and st.group_types == {"g": "consumer", "h": "connect"}
        st.apply(offset_key(1, "g", "t", 0), commit_value(5))
        st.apply(group_key("g"), None)
        # The group's metadata goes; its offsets go with their own tombstones only (the coordinator
        # writes one per offset it deletes, and none when a classic group becomes a consumer group).
        assert st.group_types == {"h": "connect"}
        assert st.committed("g") == {("t", 0): 5}
        st.apply(offset_key(1, "g", "t", 0), None)
        assert st.groups() == {"h"}

    def test_other_record_types_are_skipped(self):
        st = OffsetsState()
        st.apply(i16(3) + s16("kip848"), i16(0) + i32(1))  # ConsumerGroupMetadata
        st.apply(i16(5) + s16("kip848") + s16("member"), None)  # a member tombstone
        st.apply(offset_key(1, "kip848", "t", 0), commit_value(3))
        assert (st.skipped, st.malformed, st.tombstones) == (2, 0, 0)
        assert st.committed("kip848") == {("t", 0): 3}


class TestClassicMembers:
    """Each classic group's latest GroupMetadata record, kept to build its description from."""

    def test_latest_record_with_its_partition(self):
        st = OffsetsState()
        st.apply(group_key("g"), group_value(3, members=1), partition=4)
        st.apply(group_key("g"), group_value(4, members=2), partition=4)
        record = st.classic["g"]
        assert (record.partition, record.protocol_type, record.protocol, record.generation) == (
            4,
            "consumer",
            "range",
            9,
        )
        assert record.members == (
            ("m-0", "client-1", "/10.0.0.1", "inst", b"\x00\x02assign"),
            ("m-1", "client-1", "/10.0.0.1", "inst", b"\x00\x02assign"),
        )
        assert st.group_type("g") == "consumer"

    def test_no_instance_ids_before_v3(self):
        st = OffsetsState()
        st.apply(group_key("g"), group_value(2, members=1), partition=0)
        assert st.classic["g"].members[0][3] is None

    def test_a_memberless_record_shares_its_parts(self):
        st = OffsetsState()
        empty = i16(3) + s16("consumer") + i32(2) + s16(None) + s16(None) + i64(0) + i32(0)
        st.apply(group_key("a"), empty, partition=0)
        st.apply(group_key("b"), empty, partition=1)
        a, b = st.classic["a"], st.classic["b"]
        assert a.members == () and a.protocol is None
        assert a.members is b.members and a.protocol_type is b.protocol_type

    def test_tombstone_drops_it_a_malformed_record_keeps_the_type_only(self):
        st = OffsetsState()
        st.apply(group_key("g"), group_value(4), partition=0)
        st.apply(group_key("h"), group_value(4), partition=0)
        st.apply(group_key("g"), None)
        st.apply(group_key("h"), b"\x00\x04garbage")  # members no longer known: described instead
        assert st.group_types == {"h": "consumer"} and st.malformed == 1
        assert st.classic["h"].partition == -1 and st.classic["h"].members == ()


class TestMembershipChanges:
    """Which groups changed: what decides which groups a cycle describes again."""

    def test_offset_commits_change_no_membership(self):
        st = OffsetsState()
        st.apply(offset_key(1, "g", "t", 0), commit_value(5))
        assert st.changed_since(0) == set() and st.sequence == 0

    def test_classic_metadata_and_kip848_records_mark_their_group(self):
        st = OffsetsState()
        st.apply(group_key("classic"), group_value(4))
        mark = st.sequence
        st.apply(i16(5) + s16("kip848") + s16("member"), b"")  # ConsumerGroupMemberMetadata
        st.apply(i16(8) + s16("kip848") + s16("member"), None)  # a current-assignment tombstone
        assert st.changed_since(0) == {"classic", "kip848"}
        assert st.changed_since(mark) == {"kip848"}
        assert st.changed_since(st.sequence) == set()

    def test_a_group_tombstone_is_a_change(self):
        st = OffsetsState()
        st.apply(group_key("g"), group_value(4))
        mark = st.sequence
        st.apply(group_key("g"), None)
        assert st.changed_since(mark) == {"g"}

    def test_malformed_records_are_counted_and_skipped(self):
        st = OffsetsState()
        st.apply(offset_key(1, "g", "t", 0), commit_value(5))
        st.apply(b"\x00", commit_value(1))  # bad key
        st.apply(None, commit_value(1))  # no key
        st.apply(offset_key(1, "g", "t", 0), b"\x00\x03\x00")  # bad value: the earlier commit stays
        st.apply(group_key("g"), b"\x00\x04garbage")
        assert st.committed("g") == {("t", 0): 5}
        assert (st.records, st.malformed) == (5, 4)
        assert st.last_malformed

    def test_topic_names_are_shared_between_groups(self):
        st = OffsetsState()
        for g in ("a", "b"):
            st.apply(offset_key(1, g, "shared-topic", 0), commit_value(1))
        (tp_a,) = st.offsets["a"]
        (tp_b,) = st.offsets["b"]
        assert tp_a[0] is tp_b[0]
