"""reprocess(): one run, page by page and transaction by transaction (see the package docstring)."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import accumulate

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from kafka_admin.clients import error_text
from kafka_admin.config import ClusterConfig
from kafka_admin.records.read import FromOffset, Record, read_records
from kafka_admin.reprocess.classify import Accept, Classifier, Decision, Targets
from kafka_admin.reprocess.errors import Halt, kafka_error, note
from kafka_admin.reprocess.gc_threshold import fewer_collections
from kafka_admin.reprocess.ledger import Ledger, PendingEntry, RecordKey
from kafka_admin.reprocess.limits import BATCH_BYTES, DEFAULT_BATCH_SIZE, RATE_LIMITED_TRANSACTION_S
from kafka_admin.reprocess.recovery import settle
from kafka_admin.reprocess.reports import Progress, ReprocessReport
from kafka_admin.reprocess.republish import RepublishHeaders
from kafka_admin.reprocess.scan import Page, Scanner
from kafka_admin.reprocess.selection import OffsetRange, Selection, check_arguments
from kafka_admin.reprocess.sender import DEFAULT_PARTITIONER, RECORD_ERRORS, Abortable, Pacer, ProducerShape, Sender
from kafka_admin.reprocess.sizing import record_size
from kafka_admin.reprocess.transactional_id import transactional_id_for

log = logging.getLogger(__name__)

_tuple_new = tuple.__new__


def reprocess(
    config: ClusterConfig,
    dlq_topic: str,
    selection: Selection,
    *,
    targets: Targets,
    ledger: Ledger,
    actor: str,
    run_id: str,
    force: bool = False,
    accept: Accept | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    rate_limit: float | None = None,
    range_group: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
    transactional_id: str | None = None,
    partitioner: str = DEFAULT_PARTITIONER,
) -> ReprocessReport:
    """Re-publish the selected DLQ records to their targets, exactly once (see the docstring of kafka_admin.reprocess).

    `rate_limit`: at most that many records a second. `range_group`: with an OffsetRange, the
    consumer group whose offset on the DLQ partition is committed in each transaction (ignored for
    Offsets). Never raises for Kafka or ledger problems: the report says what happened.
    """
    run = _Run(
        config=config,
        dlq_topic=dlq_topic,
        selection=selection,
        targets=targets,
        ledger=ledger,
        actor=actor,
        run_id=run_id,
        force=force,
        accept=accept,
        batch_size=batch_size,
        rate_limit=rate_limit,
        range_group=range_group if isinstance(selection, OffsetRange) else None,
        on_progress=on_progress,
        stop=stop or threading.Event(),
        transactional_id=transactional_id or transactional_id_for(config.name, dlq_topic),
        partitioner=partitioner,
    )
    with fewer_collections():
        return run.execute()


def _prepended(first: Page, rest: Iterator[Page]) -> Iterator[Page]:
    """`first`, then `rest`, holding `first` only until the next page is asked for (chain() keeps
    its arguments for as long as it lives: a page of 10,000 records for the whole run)."""
    page: Page | None = first
    del first
    yield page
    page = None
    yield from rest


class _Ahead:
    """The pages of a run, each read and classified one step ahead: fetch() is called while a
    transaction's records are on their way to the broker (between produce and flush), so that the
    Python work of the next page overlaps the wait for acknowledgements. An exception raised then
    (a Halt, or one of the targets or accept callables) is kept, and raised by take(), after that
    transaction is settled, as it was before the read ahead."""

    def __init__(self, pages: Iterator[Page], classify: Classifier) -> None:
        self.pages = pages
        self.classify = classify
        self.fetched = False
        self.item: tuple[Page, list[Decision]] | None = None
        self.error: Exception | None = None

    def fetch(self) -> None:
        if self.fetched:
            return
        self.fetched = True
        try:
            page = next(self.pages, None)
            self.item = None if page is None else (page, self.classify(page))
        except Exception as exc:  # noqa: BLE001 (raised again by take(), in order)
            self.error = exc

    def take(self) -> tuple[Page, list[Decision]] | None:
        """The next page and its decisions (None after the last page)."""
        self.fetch()
        item, error = self.item, self.error
        self.fetched, self.item, self.error = False, None, None
        if error is not None:
            raise error
        return item


@dataclass
class _Run:
    config: ClusterConfig
    dlq_topic: str
    selection: Selection
    targets: Targets
    ledger: Ledger
    actor: str
    run_id: str
    force: bool
    accept: Accept | None
    batch_size: int
    rate_limit: float | None
    range_group: str | None
    on_progress: Callable[[Progress], None] | None
    stop: threading.Event
    transactional_id: str
    partitioner: str
    report: ReprocessReport = field(default_factory=ReprocessReport)
    started: float = field(default_factory=time.monotonic)
    committed_position: int | None = None
    position: int | None = None
    inflight: list[RecordKey] = field(default_factory=list)
    ahead: _Ahead | None = None

    def execute(self) -> ReprocessReport:
        report = self.report
        problem = check_arguments(self.selection, self.batch_size, self.rate_limit)
        if problem:
            report.errors.append(problem)
            report.stopped = problem
            return report
        self.sender = Sender(self.config, self.transactional_id, self.partitioner)
        self.scanner = Scanner(self.config, self.dlq_topic, self.selection, self.batch_size)
        self.pacer = Pacer(self.rate_limit, self.stop)
        self.headers = RepublishHeaders(self.dlq_topic, self.actor)
        self.group_consumer: Consumer | None = None
        self.classify: Classifier | None = None
        self.inflight = []
        try:
            pages = self.scanner.pages()
            first = self._first_page_while_starting(pages)
            if first is not None:
                pages, first = _prepended(first, pages), None
            report.recovery = settle(self.config, self.dlq_topic, self.ledger, None)
            report.errors.extend(report.recovery.errors)
            unsettled = {e.key for e in report.recovery.undecided}
            self.classify = Classifier(
                self.config, self.dlq_topic, self.targets, self.ledger, self.force, self.accept, unsettled, self.actor
            )
            if self.range_group:
                self.group_consumer = self._group_consumer()
            self._pages(pages)
            if report.stopped is None and self.position != self.committed_position:
                self._offsets_only()
        except Halt as halt:
            report.stopped = str(halt)
            note(report.errors, str(halt))
            if self.inflight:
                unknown = len(self.inflight)
                note(
                    report.errors,
                    f"{unknown} records of the last batch have an unknown outcome; the next run settles them",
                )
        finally:
            self.scanner.close()
            self.sender.close()
            if self.group_consumer is not None:
                self.group_consumer.close()
        for message in self.scanner.notes:
            note(report.notes, message)
        report.not_found += self.scanner.outside_selected
        report.elapsed_s = time.monotonic() - self.started
        self._progress()
        return report

    def _group_consumer(self) -> Consumer:
        try:
            return Consumer(
                self.config.client_config(
                    **{
                        "group.id": self.range_group,
                        "enable.auto.commit": False,
                        "logger": logging.getLogger("kafka_admin.librdkafka"),
                    }
                )
            )
        except KafkaException as exc:
            raise Halt(f"could not create the consumer for group {self.range_group}: {error_text(exc)}") from None

    def _progress(self) -> None:
        if self.on_progress is not None:
            r = self.report
            elapsed = time.monotonic() - self.started
            self.on_progress(Progress(r.sent, r.skipped, r.failed, self.scanner.total, elapsed))

    def _fail(self, key: RecordKey, reason: str) -> None:
        self.report.failed += 1
        self.report.failed_keys.append((key, reason))
        note(self.report.errors, f"{key[0]} partition {key[1]} offset {key[2]}: {reason}")

    # -- pages and batches

    def _first_page_while_starting(self, pages: Iterator[Page]) -> Page | None:
        """The selection's first page, read while the producer starts in a thread of its own.

        Starting it (metadata, FindCoordinator, InitProducerId: ~60 ms of round trips, spent in
        librdkafka without the GIL) and reading the first page (~70 ms of Python at 10,000
        records) do not depend on each other; the read does not need the fencing either, which
        concerns the target topics. Raises the producer's Halt before the read's."""
        failed: list[BaseException] = []

        def start() -> None:
            try:
                self.sender.start(ProducerShape.default())
            except BaseException as exc:  # noqa: BLE001 (raised again below, in this thread)
                failed.append(exc)

        starting = threading.Thread(target=start, name=f"reprocess-start-{self.run_id[:8]}", daemon=True)
        starting.start()
        try:
            first = next(pages, None)
        finally:
            starting.join()
            if failed:
                raise failed[0]
        return first

    def _pages(self, pages: Iterator[Page]) -> None:
        assert self.classify is not None
        report = self.report
        self.ahead = ahead = _Ahead(pages, self.classify)
        while (item := ahead.take()) is not None:
            page, decisions = item
            if self.stop.is_set():
                report.stopped = "stopped on request"
                return
            report.not_found += page.missing
            sending = [d for d in decisions if d.kind == "send"]
            if len(sending) < len(decisions):
                self._count_not_sent(decisions)
            if self.sender.shape != (shape := ProducerShape.for_limits(self.classify.limits())) and sending:
                self.sender.reshape(shape)
            batches = self._batches(sending, page)
            for i, batch in enumerate(batches):
                if self.stop.is_set():
                    report.stopped = "stopped on request"
                    return
                position = batches[i + 1][0].record.offset if i + 1 < len(batches) else page.position
                self._send(batch, page, position)
                if report.stopped is not None:
                    return
                self._progress()
            if not batches:
                self.position = page.position
                self._progress()

    def _count_not_sent(self, decisions: list[Decision]) -> None:
        report = self.report
        for d in decisions:
            match d.kind:
                case "send":
                    pass
                case "done":
                    report.skipped_done += 1
                case "unmapped":
                    report.skipped_unmapped.append((d.key, d.reason))
                case "filtered":
                    report.skipped_filtered += 1
                case _:
                    self._fail(d.key, d.reason)

    def _batches(self, sending: list[Decision], page: Page) -> list[list[Decision]]:
        limit = self.batch_size
        if self.rate_limit:
            limit = max(1, min(limit, int(self.rate_limit * RATE_LIMITED_TRANSACTION_S)))
        batches: list[list[Decision]] = []
        current: list[Decision] = []
        size = 0
        for d in sending:
            if current and (len(current) >= limit or size + d.size > BATCH_BYTES):
                batches.append(current)
                current, size = [], 0
            current.append(d)
            size += d.size
        if current:
            batches.append(current)
        return batches

    def _whole(self, batch: list[Decision], page: Page) -> dict[int, Record]:
        """The batch's records that were cut, read again whole, BATCH_BYTES at a time (by offset)."""
        whole: dict[int, Record] = {}
        need = [d.record.offset for d in batch if d.record.offset in page.cut] if page.cut else []
        if not need:
            return whole
        index = {r.offset: i for i, r in enumerate(page.read)}
        sums = [0, *accumulate(record_size(r) for r in page.read)]
        runs: list[tuple[int, int]] = []
        for offset in need:
            i = index[offset]
            if runs and sums[i + 1] - sums[runs[-1][0]] <= BATCH_BYTES:
                runs[-1] = (runs[-1][0], i)
            else:
                runs.append((i, i))
        for first, last in runs:
            wanted = {page.read[i].offset for i in range(first, last + 1)} & set(need)
            for attempt in range(2):
                result = read_records(
                    self.config,
                    self.dlq_topic,
                    page.partition,
                    FromOffset(page.read[first].offset),
                    limit=last - first + 1,
                    max_value_bytes=None,
                    read_committed=True,
                    timeout_s=self.sender.timeout_s,
                )
                got = {r.offset: r for r in result.records if r.offset in wanted}
                whole.update(got)
                wanted -= set(got)
                if not wanted:
                    break
                if attempt == 1:
                    raise Halt(
                        f"could not read {len(wanted)} records of {self.dlq_topic} partition {page.partition}"
                        f" whole (from offset {min(wanted)}): {result.error or 'not found'}"
                    )
        return whole

    def _send(self, batch: list[Decision], page: Page, position: int) -> None:
        """Send one batch in a transaction; after an abortable failure it is tried once more, without
        the records the broker refused as such (too large, invalid)."""
        whole = self._whole(batch, page)
        for attempt in range(2):
            try:
                self._transaction(batch, whole, page.partition, position)
                return
            except Abortable as exc:
                for d in batch:
                    if d.key in exc.refused:
                        self._fail(d.key, exc.refused[d.key])
                batch = [d for d in batch if d.key not in exc.refused]
                if attempt == 0:
                    log.info("reprocess %s: transaction aborted (%s); trying once more", self.run_id, exc)
                    continue
                for d in batch:
                    self._fail(d.key, f"not sent: the transaction failed twice ({exc})")
                self.report.stopped = f"stopped: a transaction failed twice ({exc})"

    def _transaction(self, batch: list[Decision], whole: dict[int, Record], partition: int, position: int) -> None:
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
        paced = self.rate_limit is not None
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
                # Positional, in cimpl's order (topic, value, key, partition, callback, on_delivery,
                # timestamp, headers); -1: the partitioner decides, 0: no timestamp (now). Keywords cost
                # 0.6 µs more per call (confluent-kafka 2.16, pinned; the byte-exact tests hold it).
                queue(d.target, record.value, record.key, -1, on_delivery(i), None, 0, headers)
            except (BufferError, KafkaException):
                try:
                    produce(d.target, record, headers, on_delivery(i))
                except KafkaException as exc:  # refused locally (too large for the producer)
                    failures[i] = kafka_error(exc) or KafkaError(KafkaError._FAIL)
        if self.ahead is not None and self.report.stopped is None:
            self.ahead.fetch()  # the next page, while these records are on their way
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
        if self.group_consumer is not None:
            self.position = self.committed_position = position
        try:
            self.ledger.confirm(keys, self.run_id)
        except Exception as exc:
            raise Halt(
                f"the records were committed but the ledger could not confirm them ({type(exc).__name__}: {exc});"
                " the next run confirms them"
            ) from exc

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

    def _offsets_only(self) -> None:
        """Commit the group's offset past records that needed no sending (skipped at the end of the range)."""
        if self.group_consumer is None or self.position is None:
            return
        assert isinstance(self.selection, OffsetRange)
        self.sender.begin()
        try:
            tp = TopicPartition(self.dlq_topic, self.selection.partition, self.position)
            self.sender.send_offsets([tp], self.group_consumer.consumer_group_metadata())
            self.sender.commit()
        except Abortable as exc:
            self.sender.abort()
            note(self.report.errors, f"could not commit the offset of group {self.range_group}: {exc}")
            return
        self.committed_position = self.position
