"""Committed offsets read from the __consumer_offsets topic, as Burrow does (see docs/offsets-source.md).

The group coordinator writes every offset commit and every classic group's metadata to this
compacted topic. Reading it from the beginning and keeping the latest value per key gives the
committed offsets of every group without one OffsetFetch request per group and per cycle.

Two layers:

- pure decoders (`decode_key`, `decode_offset_value`, `decode_group_value`) and `OffsetsState`,
  which applies records in log order; no broker, unit-tested with hand-built bytes;
- `OffsetsTopicReader`: one Consumer assigned to every partition of the topic (no group
  membership, never commits, read_committed) and a background thread feeding `OffsetsState`.

Record layouts follow Apache Kafka's message schemas in the group-coordinator module
(LegacyOffsetCommitKey / OffsetCommitKey, OffsetCommitValue, GroupMetadataKey, GroupMetadataValue):
every key is an int16 record type followed by the key fields, every value an int16 version
followed by that version's fields, and a null value is a tombstone.
"""

from __future__ import annotations

import logging
import struct
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from kafka_admin.config import ClusterConfig

log = logging.getLogger(__name__)

OFFSETS_TOPIC = "__consumer_offsets"
ENDS_REFRESH_S = 2.0  # how often the thread reads the end offsets cached from fetch responses
READER_GROUP_ID = "kafka-dashboard.offsets-reader"  # librdkafka wants one; never joined, never committed

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
    """Any other record type: the new coordinator's consumer, share and streams group records."""

    record_type: int


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
    return OtherKey(record_type)


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


@dataclass
class OffsetsState:
    """Latest committed offset per (group, topic, partition), plus the classic groups' protocol types.

    Not thread-safe by itself: OffsetsTopicReader guards it with a lock.

    Tombstones: an offset-commit tombstone removes that partition's offset (offset expiry,
    DeleteGroups, kafka-consumer-groups --delete-offsets, a deleted topic). A group-metadata
    tombstone forgets the group's metadata but not its offsets: both coordinators write an offset
    tombstone for every offset they delete, and the new coordinator also writes a group tombstone
    *without* deleting the offsets when an empty classic group becomes a consumer ("KIP-848")
    group, so dropping the offsets there would lose offsets the broker still serves.
    """

    offsets: dict[str, dict[TP, tuple[int, int]]] = field(default_factory=dict)
    group_types: dict[str, str] = field(default_factory=dict)
    records: int = 0
    malformed: int = 0
    skipped: int = 0
    tombstones: int = 0
    last_malformed: str | None = None

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """Apply one record; a malformed one is counted and skipped, never raised."""
        self.records += 1
        try:
            decoded = decode_key(key)
            if isinstance(decoded, OffsetCommitKey):
                self._apply_offset(decoded, value)
            elif isinstance(decoded, GroupMetadataKey):
                self._apply_group(decoded, value)
            else:
                self.skipped += 1
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

    def _apply_group(self, key: GroupMetadataKey, value: bytes | None) -> None:
        if value is None:
            self.tombstones += 1
            self.group_types.pop(key.group, None)
            return
        self.group_types[key.group] = sys.intern(decode_group_value(value).protocol_type)

    def committed(self, group: str) -> dict[TP, int]:
        return {tp: offset for tp, (offset, _) in self.offsets.get(group, {}).items()}

    def groups(self) -> set[str]:
        return set(self.offsets) | set(self.group_types)

    @property
    def group_partitions(self) -> int:
        return sum(len(p) for p in self.offsets.values())


# --- the reader ------------------------------------------------------------------------------------


def _text(exc: BaseException) -> str:
    if isinstance(exc, KafkaException) and exc.args:
        err = exc.args[0]
        return err.str() if hasattr(err, "str") else str(err)
    return f"{type(exc).__name__}: {exc}"


class OffsetsTopicReader:
    """Consumes __consumer_offsets from the beginning into an OffsetsState, in a thread of its own.

    - start-up: assigns every partition at OFFSET_BEGINNING; `wait_caught_up()` is True once the
      reader has reached the end offsets it saw when it assigned (or the topic does not exist:
      no group ever committed, and the assignment is retried every `retry_interval_s`);
    - read_committed: transactional offset commits (send_offsets_to_transaction) count only once
      their transaction commits; aborted ones never do;
    - `wait_for({partition: end})` waits until the reader has read up to given end offsets, so a
      snapshot can be as fresh as the watermarks it was collected with.
    """

    def __init__(
        self,
        config: ClusterConfig,
        *,
        topic: str = OFFSETS_TOPIC,
        retry_interval_s: float = 5.0,
        batch: int = 1000,
    ) -> None:
        self.config = config
        self.topic = topic
        self.retry_interval_s = retry_interval_s
        self.batch = batch
        self._state = OffsetsState()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._assigned = False
        self._absent = False  # the topic was looked up and does not exist
        self._start: dict[int, int] = {}  # log start offset per partition at assignment
        self._targets: dict[int, int] = {}  # end offsets at assignment: the start-up catch-up
        self._positions: dict[int, int] = {}  # next offset to read per partition
        self._ends: dict[int, int] = {}  # newest end offset known per partition
        self._eof_at: dict[int, float] = {}  # monotonic time the reader last reached a partition's end
        self._caught_up = False
        self._created = time.monotonic()
        self._catch_up_s: float | None = None
        self._errors = 0
        self._last_error: str | None = None
        self._ends_refreshed = 0.0
        conf = config.client_config(
            **{
                "group.id": READER_GROUP_ID,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed",
                "enable.partition.eof": True,
                "client.id": f"kafka-dashboard-offsets-reader-{config.name}",
            }
        )
        conf["logger"] = logging.getLogger("kafka_admin.librdkafka")
        self._consumer = Consumer(conf)
        self._thread = threading.Thread(target=self._run, name=f"offsets-reader-{config.name}", daemon=True)
        self._thread.start()

    # --- what the collector asks ---

    @property
    def caught_up(self) -> bool:
        with self._cond:
            return self._caught_up

    def wait_caught_up(self, timeout: float) -> bool:
        """True once the start-up catch-up is done (waits up to `timeout` seconds for it)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._caught_up or self._stop.is_set(), timeout) and self._caught_up

    def wait_for(self, ends: Mapping[int, int], timeout: float) -> bool:
        """Wait until the start-up catch-up is done and every partition is read up to `ends`.

        A partition also counts as read when the reader reached its readable end after this call
        began: under read_committed an open transaction holds that end below the high watermark.
        """
        asked_at = time.monotonic()
        if ends and self._absent:
            self._wake.set()  # the topic exists now: assign without waiting for the retry interval

        def done() -> bool:
            if self._stop.is_set():
                return True
            if not self._caught_up or (ends and not self._assigned):
                return False
            return all(
                self._positions.get(p, 0) >= end or self._eof_at.get(p, 0.0) >= asked_at for p, end in ends.items()
            )

        with self._cond:
            for p, end in ends.items():
                self._ends[p] = max(self._ends.get(p, 0), end)
            return self._cond.wait_for(done, timeout) and not self._stop.is_set()

    def committed(self, group: str) -> dict[TP, int]:
        with self._cond:
            return self._state.committed(group)

    def committed_many(self, groups: Iterable[str]) -> dict[str, dict[TP, int]]:
        """committed() for many groups under one lock acquisition."""
        with self._cond:
            return {g: self._state.committed(g) for g in groups}

    def commits(self, group: str) -> dict[TP, tuple[int, int]]:
        """(offset, commit timestamp in ms) per partition: the commit history lag evaluation can use."""
        with self._cond:
            return dict(self._state.offsets.get(group, {}))

    def groups(self) -> set[str]:
        with self._cond:
            return self._state.groups()

    def group_type(self, group: str) -> str | None:
        """A classic group's protocol type ("consumer", "connect", ...) from its metadata record."""
        with self._cond:
            return self._state.group_types.get(group)

    def progress(self) -> tuple[int, int]:
        """(records read, records to read) of the start-up catch-up, counted in offsets."""
        with self._cond:
            total = sum(max(0, end - self._start.get(p, 0)) for p, end in self._targets.items())
            done = sum(
                min(max(0, self._positions.get(p, 0) - self._start.get(p, 0)), max(0, end - self._start.get(p, 0)))
                for p, end in self._targets.items()
            )
            return done, total

    @property
    def stats(self) -> dict[str, Any]:
        with self._cond:
            state = self._state
            return {
                "records": state.records,
                "malformed": state.malformed,
                "last_malformed": state.last_malformed,
                "skipped": state.skipped,
                "tombstones": state.tombstones,
                "groups": len(state.groups()),
                "group_partitions": state.group_partitions,
                "lag": sum(max(0, end - self._positions.get(p, 0)) for p, end in self._ends.items()),
                "assigned": self._assigned,
                "topic_absent": self._absent,
                "caught_up": self._caught_up,
                "catch_up_s": self._catch_up_s,
                "errors": self._errors,
                "last_error": self._last_error,
            }

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread; it closes its consumer on the way out (never commits: nothing to leave)."""
        self._stop.set()
        self._wake.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def __enter__(self) -> OffsetsTopicReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the thread ---

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    if not self._assigned:
                        if not self._assign():
                            self._wake.wait(self.retry_interval_s)
                            self._wake.clear()
                        continue
                    self._consume_once()
                except Exception as exc:  # noqa: BLE001 - the reader thread must survive anything
                    self._note_error(exc)
                    self._stop.wait(1.0)
        finally:
            try:
                self._consumer.close()
            except Exception as exc:  # noqa: BLE001 - closing is best effort
                log.debug("offsets reader close: %s", _text(exc))
            with self._cond:
                self._cond.notify_all()

    def _note_error(self, exc: BaseException | str) -> None:
        message = exc if isinstance(exc, str) else _text(exc)
        with self._cond:
            self._errors += 1
            self._last_error = message
        log.warning("offsets reader (%s): %s", self.config.name, message)

    def _assign(self) -> bool:
        timeout = self.config.request_timeout_s
        metadata = self._consumer.list_topics(self.topic, timeout=timeout)
        tmeta = metadata.topics.get(self.topic)
        missing = tmeta is None or (tmeta.error is not None and tmeta.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART)
        if not missing and (tmeta.error is not None or not tmeta.partitions):
            raise KafkaException(tmeta.error or KafkaError(KafkaError._UNKNOWN_PARTITION))  # retried by _run
        if missing:
            with self._cond:
                self._absent = True
                self._mark_caught_up()  # nothing committed yet: the empty state is the whole truth
                self._cond.notify_all()
            return False
        start: dict[int, int] = {}
        targets: dict[int, int] = {}
        for p in sorted(tmeta.partitions):
            low, high = self._consumer.get_watermark_offsets(TopicPartition(self.topic, p), timeout=timeout)
            start[p], targets[p] = low, high
        self._consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in targets])
        with self._cond:
            self._start, self._targets = start, targets
            self._positions = {p: max(low, self._positions.get(p, 0)) for p, low in start.items()}
            for p, high in targets.items():
                self._ends[p] = max(self._ends.get(p, 0), high)
            self._assigned = True
            self._absent = False
            self._check_caught_up()
            self._cond.notify_all()
        log.info("offsets reader (%s): assigned %d partitions of %s", self.config.name, len(targets), self.topic)
        return True

    def _consume_once(self) -> None:
        messages = self._consumer.consume(self.batch, timeout=0.5)
        if time.monotonic() - self._ends_refreshed > ENDS_REFRESH_S:
            self._refresh_ends()
        if not messages:
            return
        errors: list[str] = []
        now = time.monotonic()
        with self._cond:
            for msg in messages:
                err = msg.error()
                p = msg.partition()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        self._positions[p] = max(self._positions.get(p, 0), msg.offset())
                        self._ends[p] = max(self._ends.get(p, 0), msg.offset())
                        self._eof_at[p] = now
                    else:
                        errors.append(err.str())
                    continue
                self._state.apply(msg.key(), msg.value())
                self._positions[p] = msg.offset() + 1
                if self._positions[p] > self._ends.get(p, 0):
                    self._ends[p] = self._positions[p]
            if not self._caught_up:
                self._check_caught_up()
            self._cond.notify_all()
        for message in errors:
            self._note_error(message)

    def _refresh_ends(self) -> None:
        """End offsets from the last fetch responses (no request), for the lag in `stats`."""
        self._ends_refreshed = time.monotonic()
        ends = {}
        for p in self._targets:
            try:
                _, high = self._consumer.get_watermark_offsets(TopicPartition(self.topic, p), cached=True)
            except KafkaException:
                continue
            if high >= 0:
                ends[p] = high
        with self._cond:
            for p, high in ends.items():
                self._ends[p] = max(self._ends.get(p, 0), high)

    def _check_caught_up(self) -> None:
        if all(self._positions.get(p, 0) >= end or p in self._eof_at for p, end in self._targets.items()):
            self._mark_caught_up()

    def _mark_caught_up(self) -> None:
        if not self._caught_up:
            self._caught_up = True
            self._catch_up_s = time.monotonic() - self._created
            log.info(
                "offsets reader (%s): caught up in %.1f s, %d records, %d group-partitions",
                self.config.name,
                self._catch_up_s,
                self._state.records,
                self._state.group_partitions,
            )
