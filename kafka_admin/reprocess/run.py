"""reprocess(): one run, page by page and transaction by transaction (see the package docstring)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from confluent_kafka import Consumer, KafkaException, TopicPartition

from kafka_admin.clients import error_text
from kafka_admin.config import ClusterConfig
from kafka_admin.reprocess.classify import Accept, Classifier, Decision, Targets
from kafka_admin.reprocess.errors import Halt, note
from kafka_admin.reprocess.gc_threshold import fewer_collections
from kafka_admin.reprocess.ledger import Ledger
from kafka_admin.reprocess.limits import BATCH_BYTES, DEFAULT_BATCH_SIZE, RATE_LIMITED_TRANSACTION_S
from kafka_admin.reprocess.recovery import settle
from kafka_admin.reprocess.reports import Progress, ReprocessReport
from kafka_admin.reprocess.republish import RepublishHeaders
from kafka_admin.reprocess.scan import Page, Scanner
from kafka_admin.reprocess.selection import OffsetRange, Selection, check_arguments
from kafka_admin.reprocess.sender import DEFAULT_PARTITIONER, Abortable, Pacer, ProducerShape, Sender
from kafka_admin.reprocess.transaction import Transactions
from kafka_admin.reprocess.transactional_id import transactional_id_for


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
    """One reprocess(): the selection's pages, classified one ahead, cut into batches for Transactions."""

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
        self.transactions: Transactions | None = None
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
            self.transactions = Transactions(
                config=self.config,
                dlq_topic=self.dlq_topic,
                run_id=self.run_id,
                sender=self.sender,
                ledger=self.ledger,
                headers=self.headers,
                pacer=self.pacer,
                paced=self.rate_limit is not None,
                stop=self.stop,
                group_consumer=self.group_consumer,
                force=self.force,
                report=report,
                read_ahead=self._read_ahead,
            )
            self._pages(pages)
            if report.stopped is None and self.position != self.committed_position:
                self._offsets_only()
        except Halt as halt:
            report.stopped = str(halt)
            note(report.errors, str(halt))
            if self.transactions is not None and self.transactions.inflight:
                unknown = len(self.transactions.inflight)
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

    def _read_ahead(self) -> None:
        if self.ahead is not None:
            self.ahead.fetch()

    # -- pages and batches

    def _first_page_while_starting(self, pages: Iterator[Page]) -> Page | None:
        """The selection's first page, read while the producer starts in a thread of its own.

        Starting it (round trips, spent in librdkafka without the GIL) and reading the first page
        (Python) do not depend on each other; the read does not need the fencing either, which
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
        assert self.classify is not None and self.transactions is not None
        report, transactions = self.report, self.transactions
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
                committed = transactions.send(batch, page, position)
                if committed is not None:
                    self.position = self.committed_position = committed
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
                    report.add_failure(d.key, d.reason)

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
