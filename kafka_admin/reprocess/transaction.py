"""One batch in one transaction: produce, flush, ledger pending, [group offset], commit, ledger confirm."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from kafka_admin.config import ClusterConfig
from kafka_admin.records.read import Record
from kafka_admin.reprocess.classify import Decision
from kafka_admin.reprocess.errors import Halt, kafka_error
from kafka_admin.reprocess.ledger import Ledger, PendingEntry, RecordKey
from kafka_admin.reprocess.reading import read_whole
from kafka_admin.reprocess.reports import ReprocessReport
from kafka_admin.reprocess.republish import RepublishHeaders
from kafka_admin.reprocess.scan import Page
from kafka_admin.reprocess.sender import RECORD_ERRORS, Abortable, Pacer, Sender

log = logging.getLogger(__name__)

_tuple_new = tuple.__new__


class Transactions:
    """Sends a run's batches, each in a Kafka transaction of its own, and keeps the ledger in step.

    `read_ahead` is called while a transaction's records are on their way (between produce and
    flush). `inflight` holds the keys recorded pending whose transaction has not settled yet.
    """

    def __init__(
        self,
        *,
        config: ClusterConfig,
        dlq_topic: str,
        run_id: str,
        sender: Sender,
        ledger: Ledger,
        headers: RepublishHeaders,
        pacer: Pacer,
        paced: bool,
        stop: threading.Event,
        group_consumer: Consumer | None,
        force: bool,
        report: ReprocessReport,
        read_ahead: Callable[[], None],
    ) -> None:
        self.config = config
        self.dlq_topic = dlq_topic
        self.run_id = run_id
        self.sender = sender
        self.ledger = ledger
        self.headers = headers
        self.pacer = pacer
        self.paced = paced
        self.stop = stop
        self.group_consumer = group_consumer
        self.force = force
        self.report = report
        self.read_ahead = read_ahead
        self.inflight: list[RecordKey] = []

    def send(self, batch: list[Decision], page: Page, position: int) -> int | None:
        """Send one batch in a transaction; after an abortable failure it is tried once more, without
        the records the broker refused as such (too large, invalid).

        Returns the DLQ position committed as the group's offset with the transaction (None: no
        group, or nothing committed)."""
        need = [d.record.offset for d in batch if d.record.offset in page.cut] if page.cut else []
        whole = read_whole(self.config, self.dlq_topic, page.partition, page.read, need, self.sender.timeout_s)
        for attempt in range(2):
            try:
                return self._transaction(batch, whole, page.partition, position)
            except Abortable as exc:
                for d in batch:
                    if d.key in exc.refused:
                        self.report.add_failure(d.key, exc.refused[d.key])
                batch = [d for d in batch if d.key not in exc.refused]
                if attempt == 0:
                    log.info("reprocess %s: transaction aborted (%s); trying once more", self.run_id, exc)
                    continue
                for d in batch:
                    self.report.add_failure(d.key, f"not sent: the transaction failed twice ({exc})")
                self.report.stopped = f"stopped: a transaction failed twice ({exc})"
        return None

    def _transaction(
        self, batch: list[Decision], whole: dict[int, Record], partition: int, position: int
    ) -> int | None:
        sender = self.sender
        acks: list[tuple[int, int] | None] = [None] * len(batch)
        failures: dict[int, KafkaError] = {}

        def on_delivery(i: int) -> Callable[[KafkaError | None, Message], None]:
            def done(err: KafkaError | None, msg: Message) -> None:
                if err is None:
                    acks[i] = (msg.partition(), msg.offset())
                else:
                    failures[i] = err

            return done

        headers_for = self.headers
        headers_for.start(partition, datetime.now(UTC))
        wait = self.pacer.wait
        paced = self.paced
        stop = self.stop
        produce = sender.produce
        sender.begin()
        queue = sender.producer.produce  # type: ignore[union-attr]  # begin() succeeded: there is one
        for i, d in enumerate(batch):
            # stop requested: commit what was produced, up to this record (checked every 100 records
            # unless paced: the pacer checks it on every one)
            if not wait() if paced else (i % 100 == 0 and stop.is_set()):
                self.report.stopped = "stopped on request"
                position = d.record.offset
                break
            record = whole.get(d.record.offset, d.record) if whole else d.record
            headers = headers_for(record.headers, record.offset)
            try:  # the plain call first; sender.produce (which waits while the queue is full) on trouble
                # Positional (quicker than keywords), in cimpl's order: topic, value, key, partition (-1:
                # the partitioner), callback, on_delivery, timestamp (0: now), headers; the byte-exact
                # tests hold the order (confluent-kafka is pinned).
                queue(d.target, record.value, record.key, d.partition, on_delivery(i), None, 0, headers)
            except (BufferError, KafkaException):
                try:
                    produce(d.target, record, headers, on_delivery(i), d.partition)
                except KafkaException as exc:  # refused locally (too large for the producer)
                    failures[i] = kafka_error(exc) or KafkaError(KafkaError._FAIL)
        if self.report.stopped is None:
            self.read_ahead()  # the next page, while these records are on their way
        remaining = sender.flush()
        if remaining or failures:
            self._abort([])
            why = f"{remaining} records not acknowledged in time" if remaining else self._describe(failures, batch)
            refused = {
                batch[i].key: f"refused: {err.str()}" for i, err in failures.items() if err.code() in RECORD_ERRORS
            }
            raise Abortable(why, refused)
        run_id = self.run_id
        entries = [  # PendingEntry(...) without its Python-level __new__: one per record
            _tuple_new(PendingEntry, (d.key, d.target, *ack, run_id))
            for d, ack in zip(batch, acks, strict=True)
            if ack is not None
        ]
        keys = [e.key for e in entries]
        if entries:
            try:
                self.ledger.record_pending(entries)
            except Exception as exc:
                self._abort([])
                raise Halt(f"the ledger could not record the batch: {type(exc).__name__}: {exc}") from exc
            self.inflight = keys
        try:
            if self.group_consumer is not None:
                offsets = [TopicPartition(self.dlq_topic, partition, position)]
                sender.send_offsets(offsets, self.group_consumer.consumer_group_metadata())
            sender.commit()
        except Abortable:
            self._abort(keys)
            raise
        self.inflight = []
        self._count_sent(batch, entries)
        try:
            self.ledger.confirm(keys, self.run_id)
        except Exception as exc:
            raise Halt(
                f"the records were committed but the ledger could not confirm them ({type(exc).__name__}: {exc});"
                " the next run confirms them"
            ) from exc
        return position if self.group_consumer is not None else None

    def _count_sent(self, batch: list[Decision], entries: list[PendingEntry]) -> None:
        report = self.report
        report.sent += len(entries)
        per_target = Counter(e.target_topic for e in entries)
        for topic, count in per_target.items():
            report.per_target[topic] = report.per_target.get(topic, 0) + count
        forced = {d.key for d in batch if d.forced} if self.force else None
        if forced:
            report.forced_keys.extend(e.key for e in entries if e.key in forced)

    def _abort(self, keys: list[RecordKey]) -> None:
        """Abort the open transaction; once that succeeded, the ledger forgets the batch's pending entries."""
        self.sender.abort()
        self.inflight = []
        if keys:
            try:
                self.ledger.abandon(keys, self.run_id)
            except Exception as exc:
                raise Halt(
                    f"the ledger could not forget an aborted batch ({type(exc).__name__}: {exc});"
                    " the next run settles it"
                ) from exc

    @staticmethod
    def _describe(failures: dict[int, KafkaError], batch: list[Decision]) -> str:
        i, err = min(failures.items())
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        return f"delivery to {batch[i].target} failed: {err.str()}{more}"
