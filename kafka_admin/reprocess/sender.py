"""The transactional producer of a run, its transaction calls with Kafka's error rules, and its pace."""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer, TopicPartition

from kafka_admin.clients import error_text
from kafka_admin.config import ClusterConfig
from kafka_admin.records.read import Record
from kafka_admin.reprocess.errors import Halt, kafka_error
from kafka_admin.reprocess.ledger import RecordKey
from kafka_admin.reprocess.topics import DEFAULT_MAX_MESSAGE_BYTES
from kafka_admin.reprocess.transactional_id import TRANSACTIONAL_ID_PREFIX

log = logging.getLogger(__name__)


TRANSACTION_TIMEOUT_MS = 60_000
LINGER_MS = 10
DEFAULT_PARTITIONER = "murmur2_random"
# librdkafka's default batch.size; smaller when a target topic takes less.
PRODUCER_BATCH_BYTES = 1_000_000

# Delivery errors that belong to one record (retrying it cannot help), not to the transaction.
RECORD_ERRORS = frozenset(
    {
        KafkaError.MSG_SIZE_TOO_LARGE,
        KafkaError.INVALID_RECORD,
        KafkaError.RECORD_LIST_TOO_LARGE,
        KafkaError.INVALID_MSG_SIZE,
        KafkaError.INVALID_MSG,
    }
)
_FENCED = frozenset({KafkaError._FENCED, KafkaError.PRODUCER_FENCED})


@dataclass(frozen=True)
class ProducerShape:
    """The producer's size settings: what the target topics allow."""

    message_max: int
    batch_bytes: int

    @classmethod
    def default(cls) -> ProducerShape:
        return cls.for_limits([])

    @classmethod
    def for_limits(cls, limits: Sequence[int]) -> ProducerShape:
        biggest = max([DEFAULT_MAX_MESSAGE_BYTES, *limits])
        smallest = min([DEFAULT_MAX_MESSAGE_BYTES, *limits])
        message_max = min(1_000_000_000, biggest + 64 * 1024)
        return cls(message_max, max(1, min(PRODUCER_BATCH_BYTES, smallest - 512)))


class Abortable(Exception):
    """The transaction must be aborted; the batch may be tried again without the `refused` records."""

    def __init__(self, message: str, refused: dict[RecordKey, str] | None = None) -> None:
        super().__init__(message)
        self.refused = refused or {}


class Sender:
    """The transactional producer of a run, and its transaction calls with Kafka's error rules."""

    def __init__(self, config: ClusterConfig, transactional_id: str, partitioner: str) -> None:
        self.config = config
        self.transactional_id = transactional_id
        self.partitioner = partitioner
        self.producer: Producer | None = None
        self.shape: ProducerShape | None = None
        self.in_transaction = False
        self.timeout_s = max(30.0, config.request_timeout_s * 3)

    def start(self, shape: ProducerShape) -> None:
        conf = self.config.client_config(
            **{
                "transactional.id": self.transactional_id,
                "client.id": TRANSACTIONAL_ID_PREFIX,
                "enable.idempotence": True,
                "acks": "all",
                "transaction.timeout.ms": TRANSACTION_TIMEOUT_MS,
                "linger.ms": LINGER_MS,
                "compression.type": "none",
                "partitioner": self.partitioner,
                "message.max.bytes": shape.message_max,
                "batch.size": shape.batch_bytes,
                "logger": logging.getLogger("kafka_admin.librdkafka"),
            }
        )
        try:
            self.producer = Producer(conf)
        except KafkaException as exc:
            raise Halt(f"could not create the producer: {error_text(exc)}") from None
        self.shape = shape
        deadline = time.monotonic() + self.timeout_s
        self._meet_brokers()
        while True:
            try:
                self.producer.init_transactions(self._left(deadline))
                return
            except KafkaException as exc:
                err = kafka_error(exc)
                if err is not None and err.retriable() and time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
                raise Halt(f"could not initialise transactions ({self.transactional_id}): {error_text(exc)}") from None

    def _meet_brokers(self) -> None:
        """One metadata request before init_transactions: librdkafka then knows the brokers by id,
        and init_transactions' FindCoordinator is not lost to the bootstrap connection being
        replaced (see docs/dlq.md). A failure here is left to init_transactions to report."""
        assert self.producer is not None
        try:
            self.producer.list_topics(timeout=self.config.request_timeout_s)
        except KafkaException as exc:
            log.debug("metadata before init_transactions: %s", error_text(exc))

    def reshape(self, shape: ProducerShape) -> None:
        if shape != self.shape:
            self.close()
            self.start(shape)

    def close(self) -> None:
        if self.producer is None:
            return
        if self.in_transaction:
            try:
                self.abort()
            except Halt as halt:
                log.warning("closing the reprocess producer: %s", halt)
                # close() would abort again and flush, neither bounded: drop what is queued (none of
                # it is in the ledger; the broker aborts the open transaction on its time-out or
                # when the next run's init_transactions fences this producer).
                self._purge()
        producer, self.producer, self.in_transaction = self.producer, None, False
        try:
            with warnings.catch_warnings():  # a fenced producer warns that it cannot abort: known, and logged above
                warnings.simplefilter("ignore", RuntimeWarning)
                producer.close()
        except KafkaException as exc:
            log.info("closing the reprocess producer: %s", error_text(exc))

    def _purge(self) -> None:
        assert self.producer is not None
        try:
            self.producer.purge(in_queue=True, in_flight=True, blocking=False)
        except (KafkaException, RuntimeError) as exc:
            log.info("purging the reprocess producer: %s", error_text(exc))

    def _left(self, deadline: float) -> float:
        return max(0.1, deadline - time.monotonic())

    def begin(self) -> None:
        assert self.producer is not None
        try:
            self.producer.begin_transaction()
        except KafkaException as exc:
            raise Halt(self._fatal("starting a transaction", exc)) from None
        self.in_transaction = True

    def produce(self, topic: str, record: Record, headers: list, on_delivery: Callable, partition: int = -1) -> None:
        """Queue one record; a KafkaException means this record was refused, Halt that the producer is dead.

        Delivery reports are served by flush() (or here, while the local queue is full)."""
        assert self.producer is not None
        try:
            while True:
                try:
                    self.producer.produce(
                        topic,
                        key=record.key,
                        value=record.value,
                        partition=partition,
                        headers=headers,
                        on_delivery=on_delivery,
                    )
                    return
                except BufferError:  # the local queue is full: let deliveries drain it
                    self._serving(self.producer.poll, 0.05)
        except KafkaException as exc:
            err = kafka_error(exc)
            if err is None or err.fatal():
                raise Halt(self._fatal("producing", exc)) from None
            raise

    def flush(self) -> int:
        assert self.producer is not None
        try:
            return self._serving(self.producer.flush, self.timeout_s)
        except KafkaException as exc:  # a fatal error (fenced) surfaces here
            raise Halt(self._fatal("waiting for acknowledgements", exc)) from None

    @staticmethod
    def _serving(call: Callable[..., Any], *args: object) -> Any:
        """A call that serves librdkafka's callbacks. A fatal error (fenced) is raised from it as a
        KafkaException; when a log line follows it within the same call, confluent-kafka calls the
        logger with that exception still pending, and Python reports a SystemError caused by it:
        that is the KafkaException again."""
        try:
            return call(*args)
        except SystemError as exc:
            if isinstance(exc.__cause__, KafkaException):
                raise exc.__cause__ from None
            raise

    def send_offsets(self, offsets: list[TopicPartition], metadata: object) -> None:
        assert self.producer is not None
        self._retrying(
            "committing the reprocessor group's offset", self.producer.send_offsets_to_transaction, offsets, metadata
        )

    def commit(self) -> None:
        assert self.producer is not None
        self._retrying("committing the transaction", self.producer.commit_transaction)
        self.in_transaction = False

    def abort(self) -> None:
        assert self.producer is not None
        try:
            self._retrying("aborting the transaction", self.producer.abort_transaction)
        except Abortable as exc:
            raise Halt(f"aborting the transaction failed: {exc}") from None
        self.in_transaction = False

    def _retrying(self, what: str, call: Callable, *args: object) -> None:
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                self._serving(call, *args, self._left(deadline))
                return
            except KafkaException as exc:
                err = kafka_error(exc)
                if err is not None and err.retriable() and not err.txn_requires_abort() and time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                if err is not None and err.txn_requires_abort():
                    raise Abortable(f"{what}: {error_text(exc)}") from None
                raise Halt(self._fatal(what, exc)) from None

    def _fatal(self, what: str, exc: KafkaException) -> str:
        err = kafka_error(exc)
        if err is not None and err.code() in _FENCED:
            return (
                f"{what} failed: another reprocess of this DLQ topic started (transactional.id"
                f" {self.transactional_id}) and fenced this one"
            )
        return f"{what} failed: {error_text(exc)}"


class Pacer:
    """At most `rate` records a second; never bursts to catch up after a pause."""

    def __init__(self, rate: float | None, stop: threading.Event) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.stop = stop
        self.next: float | None = None

    def wait(self) -> bool:
        """Wait for the next slot; False when stop was set."""
        if self.stop.is_set():
            return False
        if not self.interval:
            return True
        now = time.monotonic()
        if self.next is not None and self.next > now and self.stop.wait(self.next - now):
            return False
        self.next = max(self.next or 0.0, time.monotonic()) + self.interval
        return True
