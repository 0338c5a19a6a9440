"""Writing a consumer group's committed offsets with the admin API, and checking what Kafka stored.

alter_consumer_group_offsets can answer "done" with an error on each partition: the coordinator
moved (NOT_COORDINATOR), is still loading its __consumer_offsets partition after a restart
(COORDINATOR_LOAD_IN_PROGRESS) or is not there yet (COORDINATOR_NOT_AVAILABLE), or the request timed
out. Those are worth another try; writing an absolute offset again is harmless. Whatever the answer
said, the offsets are then read back (list_consumer_group_offsets, require_stable) and compared
with what was asked, so a caller can say per partition that Kafka holds the new offset.

No Django here; offset_reset.apply_reset is the caller.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from kafka_admin.clients import error_text

TP = tuple[str, int]

ATTEMPTS = 5
BACKOFF_S = 0.2  # doubled after each attempt, at most MAX_BACKOFF_S
MAX_BACKOFF_S = 2.0

# What Kafka calls retriable for a group's offsets; librdkafka's own retriable() flag adds to these.
RETRIABLE = frozenset(
    {
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.REQUEST_TIMED_OUT,
        KafkaError.NETWORK_EXCEPTION,
        KafkaError.UNSTABLE_OFFSET_COMMIT,
        KafkaError._TIMED_OUT,
        KafkaError._TRANSPORT,
        KafkaError._WAIT_COORD,
    }
)
# The group has members: trying again only repeats the refusal (the caller says to stop them).
MEMBER_ERRORS = frozenset(
    {
        KafkaError.UNKNOWN_MEMBER_ID,
        KafkaError.ILLEGAL_GENERATION,
        KafkaError.REBALANCE_IN_PROGRESS,
        KafkaError.FENCED_MEMBER_EPOCH,
    }
)


def is_retriable(err: Any) -> bool:
    """True for an error that another identical request may not get (see RETRIABLE)."""
    if not isinstance(err, KafkaError):
        return isinstance(err, FutureTimeout)
    if err.code() in MEMBER_ERRORS:
        return False
    return err.code() in RETRIABLE or bool(err.retriable())


def _kafka_error(exc: BaseException) -> Any:
    """The KafkaError inside a KafkaException, else the exception itself."""
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return exc.args[0]
    return exc


def backoffs(attempts: int = ATTEMPTS, first_s: float = BACKOFF_S) -> list[float]:
    """The pauses between attempts: doubling from first_s, capped."""
    return [min(MAX_BACKOFF_S, first_s * 2**i) for i in range(max(0, attempts - 1))]


@dataclass(frozen=True)
class WriteAnswer:
    """Kafka's answer to a write, after the retries.

    written: the partitions answered without an error. failed: the ones answered with an error that
    is final (or still retriable when the attempts ran out): a KafkaError, or the exception of a
    retry that failed as a whole. error: the first request failed as a whole (a KafkaError or
    another exception) and no retry got anything through.
    """

    written: frozenset[TP]
    failed: Mapping[TP, Any] = field(default_factory=dict)
    error: Any = None
    attempts: int = 1


def write_offsets(
    admin: AdminClient,
    group_id: str,
    offsets: Mapping[TP, int],
    timeout_s: float,
    *,
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> WriteAnswer:
    """alter_consumer_group_offsets, retrying the partitions (or the whole request) Kafka answered
    with a retriable error, up to `attempts` times with a doubling pause."""
    pending = dict(offsets)
    written: set[TP] = set()
    failed: dict[TP, Any] = {}
    pauses = backoffs(attempts)
    attempt = 0
    while True:
        attempt += 1
        last = attempt >= attempts
        request = ConsumerGroupTopicPartitions(group_id, [TopicPartition(t, p, o) for (t, p), o in pending.items()])
        try:
            future = admin.alter_consumer_group_offsets([request], request_timeout=timeout_s)[group_id]
            answer = future.result(timeout=timeout_s + 5)
        except Exception as exc:  # noqa: BLE001 - a Kafka error, a timeout or a local error: classified below
            err = _kafka_error(exc)
            if not last and is_retriable(err):
                sleep(pauses[attempt - 1])
                continue
            if not written and not failed:
                return WriteAnswer(frozenset(), {}, err, attempt)
            failed.update({tp: err for tp in pending})  # a retry of some partitions failed as a whole
            return WriteAnswer(frozenset(written), failed, None, attempt)
        retry: dict[TP, int] = {}
        unanswered = set(pending)
        for tp in answer.topic_partitions or []:
            key = (tp.topic, tp.partition)
            if key not in unanswered:
                continue
            unanswered.discard(key)
            if tp.error is None:
                written.add(key)
                failed.pop(key, None)
            elif is_retriable(tp.error) and not last:
                retry[key] = pending[key]
            else:
                failed[key] = tp.error
        for key in unanswered:
            failed[key] = RuntimeError("Kafka's answer did not name this partition")
        if not retry:
            return WriteAnswer(frozenset(written), failed, None, attempt)
        pending = retry
        sleep(pauses[attempt - 1])


def read_back(
    admin: AdminClient,
    group_id: str,
    partitions: list[TP],
    timeout_s: float,
    *,
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[dict[TP, int | None], str | None]:
    """The committed offsets Kafka holds now for these partitions (None: none committed), and why
    some could not be read (None when all were). Retried like the write."""
    stored: dict[TP, int | None] = {}
    pending = list(partitions)
    problem: str | None = None
    pauses = backoffs(attempts)
    for attempt in range(1, attempts + 1):
        request = ConsumerGroupTopicPartitions(group_id, [TopicPartition(t, p) for t, p in pending])
        retry: list[TP] = []
        try:
            future = admin.list_consumer_group_offsets([request], require_stable=True, request_timeout=timeout_s)[
                group_id
            ]
            answer = future.result(timeout=timeout_s + 5)
        except Exception as exc:  # noqa: BLE001 - classified like the write's errors
            err = _kafka_error(exc)
            problem = explain(err)
            if not is_retriable(err):
                return stored, problem
            retry = pending
        else:
            problem = None
            for tp in answer.topic_partitions or []:
                key = (tp.topic, tp.partition)
                if tp.error is None:
                    stored[key] = tp.offset if tp.offset >= 0 else None
                elif is_retriable(tp.error):
                    retry.append(key)
                    problem = explain(tp.error)
                else:
                    problem = explain(tp.error)
        if not retry:
            return stored, problem
        pending = retry
        if attempt < attempts:
            sleep(pauses[attempt - 1])
    return stored, problem


def explain(err: Any) -> str:
    """Kafka's error (a KafkaError, or an exception such as a timeout) as a sentence for the operator."""
    if not isinstance(err, KafkaError):
        return error_text(err) if isinstance(err, BaseException) else str(err)
    name, text = err.name(), err.str()
    if err.code() in MEMBER_ERRORS:
        return f"the group has active members again ({name}: {text}); stop them and preview again"
    if name == "UNKNOWN_TOPIC_OR_PART":
        return f"unknown topic or partition ({text})"
    if name == "GROUP_AUTHORIZATION_FAILED" or name == "TOPIC_AUTHORIZATION_FAILED":
        return f"not authorized ({text})"
    return f"{text} ({name})" if name and name not in text else text


@dataclass(frozen=True)
class StoredCheck:
    """One partition's read-back: the offset asked for and the one Kafka holds (None: none read)."""

    topic: str
    partition: int
    planned: int
    stored: int | None

    @property
    def verified(self) -> bool:
        return self.stored == self.planned

    def describe(self) -> str:
        where = f"{self.topic}/{self.partition}"
        if self.verified:
            return f"{where}: {self.planned}"
        if self.stored is None:
            return f"{where}: no committed offset read back (asked for {self.planned})"
        return f"{where}: Kafka holds {self.stored}, not {self.planned}"


def compare(planned: Mapping[TP, int], stored: Mapping[TP, int | None]) -> tuple[StoredCheck, ...]:
    """Per planned partition, in order: what was asked and what the read-back found."""
    return tuple(StoredCheck(t, p, offset, stored.get((t, p))) for (t, p), offset in sorted(planned.items()))
