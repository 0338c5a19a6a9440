"""The demo's clients: producers and consumers built from a ClusterConfig, quiet about the
connection errors a broker restart brings, plus topic creation and the call helpers workers share."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from kafka_admin.config import ClusterConfig
from kafka_admin.demo.workload import TOPIC_CONFIGS, TOPICS

logger = logging.getLogger(__name__)
# The name docs/demo.md gives for librdkafka's own log lines.
CLIENT_LOGGER = "kafka_admin.demo.librdkafka"

T = TypeVar("T")


def describe_error(exc: BaseException) -> str:
    """One line for a log: librdkafka's error text, else the exception's class and message."""
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return exc.args[0].str()
    return f"{type(exc).__name__}: {exc}"


class ClientStuckError(RuntimeError):
    """A client call that did not return by our deadline; its client is abandoned, not closed."""


def bounded(call: Callable[[], T], seconds: float, what: str) -> T:
    """Run a blocking client call in a helper thread and give up on it after `seconds`.

    Why: after a broker restart librdkafka's send_offsets_to_transaction() can wait forever for
    the group coordinator, whatever its timeout says (docs/demo.md, Failures). A worker stuck in C
    can neither stop nor recover; with a deadline of our own it raises, and the supervisor starts
    over with new clients.
    """
    outcome: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            outcome.append((True, call()))
        except Exception as exc:  # noqa: BLE001 -- re-raised in the caller's thread below
            outcome.append((False, exc))

    helper = threading.Thread(target=run, name=f"demo:{what}", daemon=True)
    helper.start()
    helper.join(seconds)
    if not outcome:
        raise ClientStuckError(f"{what} did not return within {seconds:g} s")
    ok, value = outcome[0]
    if ok:
        return value
    raise value


def next_offsets(messages: Iterable[Message]) -> list[TopicPartition]:
    """The offsets to commit after `messages`: per partition, the highest offset + 1."""
    highest: dict[tuple[str, int], int] = {}
    for msg in messages:
        tp = (msg.topic(), msg.partition())
        highest[tp] = max(highest.get(tp, -1), msg.offset())
    return [TopicPartition(topic, partition, offset + 1) for (topic, partition), offset in highest.items()]


class _QuietLog:
    """Hands librdkafka's log lines to Python logging at DEBUG, whatever level librdkafka gives them.

    Why: during a broker restart every client reports "connection refused" at error level; that
    is expected and recovered from, and must not flood the terminal of whoever runs the demo.
    Errors that matter surface as exceptions, which restart the worker and are reported.
    """

    def __init__(self, logger_: logging.Logger) -> None:
        self._logger = logger_

    def log(self, _level: int, msg: str, *args: Any) -> None:
        self._logger.debug(msg, *args)


def _client_extras(name: str) -> dict[str, Any]:
    """client.id for the dashboard's member list; librdkafka's logs and errors to DEBUG logging."""
    client_log = logging.getLogger(CLIENT_LOGGER)

    def on_error(err: KafkaError) -> None:
        client_log.debug("%s: %s", name, err.str())

    return {"client.id": name, "logger": _QuietLog(client_log), "error_cb": on_error}


def make_producer(config: ClusterConfig, name: str, overrides: Mapping[str, Any] | None = None) -> Producer:
    """A producer that batches (linger.ms) so a few messages a second cost a few requests a second."""
    conf = {"linger.ms": 100, "acks": "all", "enable.idempotence": True, **_client_extras(name), **(overrides or {})}
    return Producer(config.client_config(**conf))


def make_consumer(config: ClusterConfig, group: str, overrides: Mapping[str, Any] | None = None) -> Consumer:
    """A consumer of `group` that starts at the beginning and prefetches little (the demo is small)."""
    conf = {
        "group.id": group,
        "auto.offset.reset": "earliest",
        "queued.max.messages.kbytes": 1024,
        # A member that vanished without leaving (killed demo, broker restart) is evicted after
        # 10 s instead of 45, so the group's next consumer is not kept waiting in a rebalance.
        "session.timeout.ms": 10000,
        **_client_extras(group),
        **(overrides or {}),
    }
    return Consumer(config.client_config(**conf))


def consume(consumer: Consumer, max_records: int, timeout: float) -> list[Message]:
    """Records from one consume() call; client errors are logged, and raised only when fatal.

    Why: transport errors during a broker restart are reported here but librdkafka reconnects
    by itself; only a fatal error needs a new client.
    """
    records = []
    for msg in consumer.consume(max_records, timeout):
        err = msg.error()
        if err is None:
            records.append(msg)
        elif err.fatal():
            raise KafkaException(err)
        else:
            logger.debug("consumer error: %s", err.str())
    return records


def log_failed_commit(err: KafkaError | None, partitions: list[TopicPartition]) -> None:
    """Asynchronous commit results: a failed commit only means some records are read again."""
    if err is not None and err.code() != KafkaError._NO_OFFSET:
        logger.debug("commit failed: %s", err.str())


def ensure_topics(config: ClusterConfig, topics: Mapping[str, int] | None = None) -> list[str]:
    """Create the demo topics that do not exist yet (existing ones are kept as they are).

    Returns the names created. Waits until every topic has a leader for every partition, because
    a consumer that subscribes to a topic its client has not seen yet waits for the next metadata
    refresh (minutes) before reading it.
    """
    topics = dict(TOPICS if topics is None else topics)
    admin = AdminClient(config.client_config(**_client_extras("demo-admin")))
    new = [
        NewTopic(name, num_partitions=count, replication_factor=-1, config=TOPIC_CONFIGS.get(name, {}))
        for name, count in topics.items()
    ]
    futures = admin.create_topics(new, request_timeout=config.request_timeout_s)
    created = []
    for name, future in futures.items():
        try:
            future.result(timeout=config.request_timeout_s * 2)
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    _wait_for_leaders(admin, topics, timeout=config.request_timeout_s * 3)
    return created


def _wait_for_leaders(admin: AdminClient, topics: Mapping[str, int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        metadata = admin.list_topics(timeout=min(5.0, timeout))
        missing = [
            name
            for name in topics
            if name not in metadata.topics
            or metadata.topics[name].error is not None
            or not metadata.topics[name].partitions
            or any(p.leader < 0 for p in metadata.topics[name].partitions.values())
        ]
        if not missing:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"topics without leaders: {', '.join(missing)}")
        time.sleep(0.2)
