"""The __consumer_offsets record format, decoded: pure functions and the state they build, no broker.

Record layouts follow Apache Kafka's message schemas in the group-coordinator module
(LegacyOffsetCommitKey / OffsetCommitKey, OffsetCommitValue, GroupMetadataKey, GroupMetadataValue):
every key is an int16 record type followed by the key fields, every value an int16 version
followed by that version's fields, and a null value is a tombstone. `OffsetsState` applies records
in log order; offsets_topic.py's reader feeds it from the topic.
"""

from __future__ import annotations

import struct
import sys
from dataclasses import dataclass, field

# Record types (the int16 at the start of every key).
KEY_LEGACY_OFFSET_COMMIT = 0
KEY_OFFSET_COMMIT = 1
KEY_GROUP_METADATA = 2

# Newest value versions whose layout is known. Per KIP-915 later versions keep the newest layout
# and add tagged fields only, so a higher version is read with the newest known layout.
OFFSET_VALUE_MAX_VERSION = 4
GROUP_VALUE_MAX_VERSION = 4
FIRST_FLEXIBLE_VERSION = 4

TP = tuple[str, int]


class MalformedRecord(ValueError):
    """A key or value that does not parse as the schema says (truncated, bad length, bad UTF-8)."""


# --- pure decoding ---------------------------------------------------------------------------------


class _Buffer:
    """A cursor over bytes with Kafka's primitive types; any overrun raises MalformedRecord."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise MalformedRecord(f"needs {n} bytes at {self.pos}, has {len(self.data) - self.pos}")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def _fixed(self, fmt: str, size: int) -> int:
        if self.pos + size > len(self.data):
            raise MalformedRecord(f"needs {size} bytes at {self.pos}, has {len(self.data) - self.pos}")
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return value

    def int16(self) -> int:
        return self._fixed(">h", 2)

    def int32(self) -> int:
        return self._fixed(">i", 4)

    def int64(self) -> int:
        return self._fixed(">q", 8)

    def uvarint(self) -> int:
        value = shift = 0
        while True:
            if self.pos >= len(self.data):
                raise MalformedRecord("truncated varint")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
            if shift > 28:  # Kafka's unsigned varints are 32-bit: at most 5 bytes
                raise MalformedRecord("varint longer than 5 bytes")

    def _length(self, flexible: bool, wide: bool) -> int:
        """A length prefix: int16 (strings) / int32 (bytes, arrays), or unsigned varint N+1."""
        if flexible:
            return self.uvarint() - 1
        return self.int32() if wide else self.int16()

    def string(self, flexible: bool, nullable: bool = False) -> str | None:
        n = self._length(flexible, wide=False)
        if n < 0:
            if n == -1 and nullable:
                return None
            raise MalformedRecord(f"string length {n}")
        try:
            return self.take(n).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedRecord(f"string is not UTF-8: {exc}") from None

    def bytes_(self, flexible: bool) -> bytes | None:
        n = self._length(flexible, wide=True)
        if n < 0:
            if n == -1:
                return None
            raise MalformedRecord(f"bytes length {n}")
        return self.take(n)

    def array_length(self, flexible: bool) -> int:
        n = self._length(flexible, wide=True)
        if n < -1:
            raise MalformedRecord(f"array length {n}")
        return max(n, 0)

    def tagged_fields(self) -> None:
        """Skip the tagged fields a flexible struct ends with (none of them is needed here)."""
        for _ in range(self.uvarint()):
            self.uvarint()  # tag
            self.take(self.uvarint())


@dataclass(frozen=True, slots=True)
class OffsetCommitKey:
    """Key types 0 and 1: the committed offset of one partition for one group."""

    group: str
    topic: str
    partition: int


@dataclass(frozen=True, slots=True)
class GroupMetadataKey:
    """Key type 2: a classic group's metadata (generation, members, assignments)."""

    group: str


@dataclass(frozen=True, slots=True)
class OtherKey:
    """Any other record type: the new coordinator's consumer, share and streams group records.

    Every such key (types 3 to 23 in Kafka 4.3: ConsumerGroupMetadataKey, ...MemberMetadataKey,
    ...TargetAssignment*Key, ShareGroup*, StreamsGroup*) begins with the GroupId; `group` is None
    when the key does not parse that way (a future type laid out otherwise).
    """

    record_type: int
    group: str | None = None


@dataclass(frozen=True, slots=True)
class OffsetCommitValue:
    offset: int
    metadata: str
    commit_timestamp: int
    leader_epoch: int = -1  # v3+
    expire_timestamp: int = -1  # v1 only
    version: int = 0


@dataclass(frozen=True, slots=True)
class MemberMetadata:
    member_id: str
    client_id: str
    client_host: str
    session_timeout: int
    rebalance_timeout: int = -1  # v1+
    group_instance_id: str | None = None  # v3+
    subscription: bytes = b""
    assignment: bytes = b""


@dataclass(frozen=True, slots=True)
class GroupMetadataValue:
    protocol_type: str
    generation: int
    protocol: str | None
    leader: str | None
    current_state_timestamp: int = -1  # v2+
    members: tuple[MemberMetadata, ...] = ()
    version: int = 0


def decode_key(data: bytes | None) -> OffsetCommitKey | GroupMetadataKey | OtherKey:
    """Decode a record key. Keys are never flexible: strings are int16 length + UTF-8."""
    if data is None:
        raise MalformedRecord("record without a key")
    buf = _Buffer(data)
    record_type = buf.int16()
    if record_type in (KEY_LEGACY_OFFSET_COMMIT, KEY_OFFSET_COMMIT):
        group = buf.string(False)
        topic = buf.string(False)
        return OffsetCommitKey(group, topic, buf.int32())  # type: ignore[arg-type]
    if record_type == KEY_GROUP_METADATA:
        return GroupMetadataKey(buf.string(False))  # type: ignore[arg-type]
    if record_type < 0:
        raise MalformedRecord(f"negative record type {record_type}")
    try:
        group = buf.string(False)
    except MalformedRecord:
        group = None
    return OtherKey(record_type, group)


def _value_version(buf: _Buffer, newest: int) -> tuple[int, bool]:
    version = buf.int16()
    if version < 0:
        raise MalformedRecord(f"negative value version {version}")
    return version, min(version, newest) >= FIRST_FLEXIBLE_VERSION


def decode_offset_value(data: bytes) -> OffsetCommitValue:
    """OffsetCommitValue v0-v4 (v0 is also LegacyOffsetCommitValue).

    v0: offset, metadata, commitTimestamp   v1: + expireTimestamp   v2: as v0
    v3: offset, leaderEpoch, metadata, commitTimestamp   v4+: as v3, flexible (compact, tagged).
    """
    buf = _Buffer(data)
    version, flexible = _value_version(buf, OFFSET_VALUE_MAX_VERSION)
    offset = buf.int64()
    leader_epoch = buf.int32() if version >= 3 else -1
    metadata = buf.string(flexible)
    commit_timestamp = buf.int64()
    expire_timestamp = buf.int64() if version == 1 else -1
    if flexible:
        buf.tagged_fields()
    return OffsetCommitValue(offset, metadata or "", commit_timestamp, leader_epoch, expire_timestamp, version)


def decode_group_value(data: bytes) -> GroupMetadataValue:
    """GroupMetadataValue v0-v4 with its members (v4+ flexible)."""
    buf = _Buffer(data)
    version, flexible = _value_version(buf, GROUP_VALUE_MAX_VERSION)
    protocol_type = buf.string(flexible)
    generation = buf.int32()
    protocol = buf.string(flexible, nullable=True)
    leader = buf.string(flexible, nullable=True)
    state_ts = buf.int64() if version >= 2 else -1
    members = []
    for _ in range(buf.array_length(flexible)):
        member_id = buf.string(flexible)
        instance_id = buf.string(flexible, nullable=True) if version >= 3 else None
        client_id = buf.string(flexible)
        client_host = buf.string(flexible)
        rebalance_timeout = buf.int32() if version >= 1 else -1
        session_timeout = buf.int32()
        subscription = buf.bytes_(flexible) or b""
        assignment = buf.bytes_(flexible) or b""
        if flexible:
            buf.tagged_fields()
        members.append(
            MemberMetadata(
                member_id,  # type: ignore[arg-type]
                client_id,  # type: ignore[arg-type]
                client_host,  # type: ignore[arg-type]
                session_timeout,
                rebalance_timeout,
                instance_id,
                subscription,
                assignment,
            )
        )
    if flexible:
        buf.tagged_fields()
    return GroupMetadataValue(protocol_type or "", generation, protocol, leader, state_ts, tuple(members), version)


# --- the state: records applied in log order -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClassicMembers:
    """What DescribeGroups says of a settled classic group, kept from its latest GroupMetadata record.

    `members`: (member id, client id, client host, group instance id, assignment bytes) each, the
    assignment as the leader's SyncGroup gave it (what DescribeGroups returns for a Stable group);
    subscriptions and timeouts are not kept. `partition`: the __consumer_offsets partition the record
    came from, whose leader is the group's coordinator (-1: not known, never built from).
    """

    partition: int
    protocol_type: str
    protocol: str | None
    generation: int
    members: tuple[tuple[str, str, str, str | None, bytes], ...] = ()


def classic_members(value: GroupMetadataValue, partition: int) -> ClassicMembers:
    """The part of a decoded GroupMetadataValue a description is built from (a memberless group's
    shares the empty tuple and its interned strings)."""
    members = tuple(
        (m.member_id, sys.intern(m.client_id), sys.intern(m.client_host), m.group_instance_id, m.assignment)
        for m in value.members
    )
    protocol = sys.intern(value.protocol) if value.protocol is not None else None
    return ClassicMembers(partition, sys.intern(value.protocol_type), protocol, value.generation, members)


@dataclass
class OffsetsState:
    """Latest committed offset per (group, topic, partition), plus the classic groups' latest metadata.

    Not thread-safe by itself: OffsetsTopicReader guards it with a lock.

    Tombstones: an offset-commit tombstone removes that partition's offset (offset expiry,
    DeleteGroups, kafka-consumer-groups --delete-offsets, a deleted topic). A group-metadata
    tombstone forgets the group's metadata but not its offsets: both coordinators write an offset
    tombstone for every offset they delete, and the new coordinator also writes a group tombstone
    *without* deleting the offsets when an empty classic group becomes a consumer ("KIP-848")
    group, so dropping the offsets there would lose offsets the broker still serves.
    """

    offsets: dict[str, dict[TP, tuple[int, int]]] = field(default_factory=dict)
    # Each classic group's latest GroupMetadata record (its protocol type among it); a group
    # tombstone drops it, a malformed record keeps only the protocol type (partition -1: no leader).
    classic: dict[str, ClassicMembers] = field(default_factory=dict)
    # Membership changes: every group record that is not an offset commit (a classic group's
    # metadata, any KIP-848 consumer/share/streams group record, their tombstones) stamps its group
    # with the next sequence number, so a reader of the state can ask which groups changed since.
    changed: dict[str, int] = field(default_factory=dict)
    sequence: int = 0
    records: int = 0
    malformed: int = 0
    skipped: int = 0
    tombstones: int = 0
    last_malformed: str | None = None

    def apply(self, key: bytes | None, value: bytes | None, partition: int = -1) -> None:
        """Apply one record read from `partition` (-1: not known); a malformed one is counted and
        skipped, never raised."""
        self.records += 1
        try:
            decoded = decode_key(key)
            if isinstance(decoded, OffsetCommitKey):
                self._apply_offset(decoded, value)
            elif isinstance(decoded, GroupMetadataKey):
                self._mark_changed(decoded.group)
                self._apply_group(decoded, value, partition)
            else:
                self.skipped += 1
                if decoded.group is not None:
                    self._mark_changed(decoded.group)
        except MalformedRecord as exc:
            self.malformed += 1
            self.last_malformed = str(exc)

    def _apply_offset(self, key: OffsetCommitKey, value: bytes | None) -> None:
        if value is None:
            self.tombstones += 1
            partitions = self.offsets.get(key.group)
            if partitions is not None:
                partitions.pop((key.topic, key.partition), None)
                if not partitions:
                    del self.offsets[key.group]
            return
        commit = decode_offset_value(value)
        # One string object per topic name, shared by every group that commits on it.
        tp = (sys.intern(key.topic), key.partition)
        self.offsets.setdefault(key.group, {})[tp] = (commit.offset, commit.commit_timestamp)

    def _apply_group(self, key: GroupMetadataKey, value: bytes | None, partition: int) -> None:
        if value is None:
            self.tombstones += 1
            self.classic.pop(key.group, None)
            return
        try:
            decoded = decode_group_value(value)
        except MalformedRecord:
            old = self.classic.get(key.group)
            if old is not None:  # its protocol type stays known, its members do not: described instead
                self.classic[key.group] = ClassicMembers(-1, old.protocol_type, None, -1)
            raise
        self.classic[key.group] = classic_members(decoded, partition)

    @property
    def group_types(self) -> dict[str, str]:
        """The classic groups' protocol types ("consumer", "connect", ...), a copy."""
        return {g: c.protocol_type for g, c in self.classic.items()}

    def group_type(self, group: str) -> str | None:
        record = self.classic.get(group)
        return record.protocol_type if record is not None else None

    def _mark_changed(self, group: str) -> None:
        self.sequence += 1
        self.changed[group] = self.sequence

    def changed_since(self, sequence: int) -> set[str]:
        """The groups whose membership records arrived after `sequence` (a value of `sequence`)."""
        return {g for g, s in self.changed.items() if s > sequence}

    def committed(self, group: str) -> dict[TP, int]:
        return {tp: offset for tp, (offset, _) in self.offsets.get(group, {}).items()}

    def groups(self) -> set[str]:
        return set(self.offsets) | set(self.classic)

    @property
    def group_partitions(self) -> int:
        return sum(len(p) for p in self.offsets.values())
