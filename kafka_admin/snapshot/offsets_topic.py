"""Committed offsets read from the __consumer_offsets topic, as Burrow does (see docs/offsets-source.md).

The group coordinator writes every offset commit and every classic group's metadata to this
compacted topic. Reading it from the beginning and keeping the latest value per key gives the
committed offsets of every group without one OffsetFetch request per group and per cycle.

Two layers:

- pure decoders and `OffsetsState`, which applies records in log order (offsets_codec.py; no
  broker, unit-tested with hand-built bytes);
- `OffsetsTopicReader` (here): one Consumer assigned to every partition of the topic (no group
  membership, never commits, read_committed) and a background thread feeding `OffsetsState`.

Record layouts follow Apache Kafka's message schemas in the group-coordinator module
(LegacyOffsetCommitKey / OffsetCommitKey, OffsetCommitValue, GroupMetadataKey, GroupMetadataValue):
every key is an int16 record type followed by the key fields, every value an int16 version
followed by that version's fields, and a null value is a tombstone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, IsolationLevel, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from kafka_admin.config import ClusterConfig
from kafka_admin.snapshot.offsets_codec import TP, ClassicMembers, OffsetsState

log = logging.getLogger(__name__)

OFFSETS_TOPIC = "__consumer_offsets"
ENDS_REFRESH_S = 2.0  # how often the thread reads the end offsets cached from fetch responses
READER_GROUP_ID = "kafka-dashboard.offsets-reader"  # librdkafka wants one; never joined, never committed
_DENIED = frozenset({KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.CLUSTER_AUTHORIZATION_FAILED})

# --- the reader ------------------------------------------------------------------------------------


def _text(exc: BaseException) -> str:
    if isinstance(exc, KafkaException) and exc.args:
        err = exc.args[0]
        return err.str() if hasattr(err, "str") else str(err)
    return f"{type(exc).__name__}: {exc}"


def batched_watermarks(
    admin: AdminClient, topic: str, partitions: list[int], timeout: float
) -> dict[int, tuple[int, int]]:
    """(log start, last stable offset) of each partition: two batched list_offsets calls, which
    librdkafka sends as one ListOffsets per leader each. read_committed, as the reader reads."""
    asked = [TopicPartition(topic, p) for p in partitions]
    answers = []
    for spec in (OffsetSpec.earliest(), OffsetSpec.latest()):
        futures = admin.list_offsets(
            {tp: spec for tp in asked}, isolation_level=IsolationLevel.READ_COMMITTED, request_timeout=timeout
        )
        answers.append({tp.partition: fut.result(timeout=timeout).offset for tp, fut in futures.items()})
    lows, highs = answers
    return {p: (lows[p], highs[p]) for p in partitions}


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
        client_overrides: Mapping[str, Any] | None = None,
        admin: Callable[[], AdminClient] | None = None,
    ) -> None:
        self.config = config
        self._admin = admin  # the collector's current client: both ends of every partition at once
        self.watermark_reads: str | None = None  # how the start-up end offsets were read
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
        self._readable = False  # a fetch answered (a record or the end), or the topic is absent
        self._denied: str | None = None  # the broker refused to describe or read the topic
        self._group_denied = False  # no Describe on READER_GROUP_ID (harmless to reading, see below)
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
                **(client_overrides or {}),
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

    def probe(self, timeout: float) -> str | None:
        """Why the topic cannot be read (an ACL refused it), or None: it can (`readable`), or that is
        not known yet within `timeout`. A refusal after records were read (an ACL revoked) counts too."""
        with self._cond:
            self._cond.wait_for(lambda: self._readable or self._denied is not None or self._stop.is_set(), timeout)
            return self._denied

    @property
    def readable(self) -> bool:
        """A fetch answered (or the topic is absent) and no refusal came since."""
        with self._cond:
            return self._readable and self._denied is None

    @property
    def denied(self) -> str | None:
        """The broker's refusal to describe or read the topic, if it refused."""
        with self._cond:
            return self._denied

    def wait_caught_up(self, timeout: float) -> bool:
        """True once the start-up catch-up is done (waits up to `timeout` seconds for it, less when
        the broker refuses the topic: a refused reader never catches up)."""
        with self._cond:
            self._cond.wait_for(lambda: self._caught_up or self._denied is not None or self._stop.is_set(), timeout)
            return self._caught_up

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

    def changes(self, since: int) -> tuple[int, set[str]]:
        """(the state's sequence now, the groups whose membership records came after `since`)."""
        with self._cond:
            return self._state.sequence, self._state.changed_since(since)

    def groups(self) -> set[str]:
        with self._cond:
            return self._state.groups()

    def group_type(self, group: str) -> str | None:
        """A classic group's protocol type ("consumer", "connect", ...) from its metadata record."""
        with self._cond:
            return self._state.group_type(group)

    def classic_members(self, groups: Iterable[str]) -> dict[str, ClassicMembers]:
        """The latest GroupMetadata record of those of `groups` that have one, under one lock."""
        with self._cond:
            classic = self._state.classic
            return {g: classic[g] for g in groups if g in classic}

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
                "classic_records": len(state.classic),  # GroupMetadata kept to build descriptions from
                "group_partitions": state.group_partitions,
                "lag": sum(max(0, end - self._positions.get(p, 0)) for p, end in self._ends.items()),
                "assigned": self._assigned,
                "topic_absent": self._absent,
                "caught_up": self._caught_up,
                "catch_up_s": self._catch_up_s,
                "errors": self._errors,
                "last_error": self._last_error,
                "group_denied": self._group_denied,
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

    def _deny(self, message: str) -> None:
        with self._cond:
            first = self._denied is None
            self._denied = message
            self._cond.notify_all()
        if first:
            log.warning("offsets reader (%s): %s cannot be read: %s", self.config.name, self.topic, message)

    def _assign(self) -> bool:
        timeout = self.config.request_timeout_s
        metadata = self._consumer.list_topics(self.topic, timeout=timeout)
        tmeta = metadata.topics.get(self.topic)
        if tmeta is not None and tmeta.error is not None and tmeta.error.code() in _DENIED:
            self._deny(tmeta.error.str())
            return False
        missing = tmeta is None or (tmeta.error is not None and tmeta.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART)
        if not missing and (tmeta.error is not None or not tmeta.partitions):
            raise KafkaException(tmeta.error or KafkaError(KafkaError._UNKNOWN_PARTITION))  # retried by _run
        if missing:
            with self._cond:
                self._absent = True
                self._readable = True
                self._mark_caught_up()  # nothing committed yet: the empty state is the whole truth
                self._cond.notify_all()
            return False
        ends = self._watermarks(sorted(tmeta.partitions), timeout)
        start = {p: low for p, (low, _) in ends.items()}
        targets = {p: high for p, (_, high) in ends.items()}
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

    def _watermarks(self, partitions: list[int], timeout: float) -> dict[int, tuple[int, int]]:
        """(log start, end) per partition: through the admin client, two ListOffsets per leader for
        all partitions; without one (or when it fails), two requests per partition."""
        if self._admin is not None:
            try:
                ends = batched_watermarks(self._admin(), self.topic, partitions, timeout)
                self.watermark_reads = "batched"
                return ends
            except KafkaException as exc:
                log.info("offsets reader (%s): batched end offsets failed (%s)", self.config.name, _text(exc))
        self.watermark_reads = "per partition"
        return {
            p: self._consumer.get_watermark_offsets(TopicPartition(self.topic, p), timeout=timeout) for p in partitions
        }

    def _consume_once(self) -> None:
        messages = self._consumer.consume(self.batch, timeout=0.5)
        if time.monotonic() - self._ends_refreshed > ENDS_REFRESH_S:
            self._refresh_ends()
        if not messages:
            return
        errors: list[str] = []
        denied: str | None = None
        group_denied = False  # first heard of in this batch
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
                        self._readable = True
                    elif err.code() in _DENIED:  # also after reads: the ACL was revoked
                        denied = err.str()
                    elif err.code() == KafkaError.GROUP_AUTHORIZATION_FAILED:
                        group_denied = not self._group_denied
                        self._group_denied = True
                    else:
                        errors.append(err.str())
                    continue
                self._readable = True
                self._state.apply(msg.key(), msg.value(), p)
                self._positions[p] = msg.offset() + 1
                if self._positions[p] > self._ends.get(p, 0):
                    self._ends[p] = self._positions[p]
            if not self._caught_up:
                self._check_caught_up()
            self._cond.notify_all()
        if denied is not None:
            self._deny(denied)  # logged once; librdkafka repeats the refusal at every fetch
        if group_denied and denied is None:  # a refused reader is closed: its group does not matter
            # librdkafka looks up the coordinator of the consumer's group.id although the reader
            # never joins it, and asks again about once a second while that is refused.
            log.warning(
                "offsets reader (%s): no Describe on the group %s: reading %s is not affected, but the "
                "client asks for that group's coordinator about once a second; grant Describe on it "
                "(docs/offsets-source.md)",
                self.config.name,
                READER_GROUP_ID,
                self.topic,
            )
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
