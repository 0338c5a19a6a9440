"""A small, steady demo workload, so that every page of the dashboard has something true to show.

Three producers write orders, payments and shipments at steady rates. Six consumer groups read
them side by side, each showing one thing a user should be able to see on the dashboard:
the three delivery guarantees on the same topic, a group falling further and further behind,
a group with committed offsets and no members (stopped), and an order processor that retries
poison records and then writes them to ``orders-dlq`` with Spring-compatible and the project's
own failure headers. See docs/demo.md.

Everything here is plain Python on confluent-kafka, built from a ClusterConfig. Each worker runs
in its own daemon thread with its own client; a worker that fails (a fatal client error, a broker
that stays away) is restarted with backoff, so a broker restart never ends the demo.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import os
import random
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from kafka_admin.config import ClusterConfig
from kafka_admin.dlq import headers as dh

logger = logging.getLogger(__name__)

T = TypeVar("T")
Log = Callable[[str], None]
Headers = list[tuple[str, bytes]]

ORDERS = "orders"
PAYMENTS = "payments"
SHIPMENTS = "shipments"
ORDERS_DLQ = "orders-dlq"
ORDERS_ENRICHED = "orders-enriched"

# name -> partitions. Replication factor: the broker's default (a local cluster has one broker).
TOPICS: dict[str, int] = {ORDERS: 6, PAYMENTS: 3, SHIPMENTS: 3, ORDERS_DLQ: 3, ORDERS_ENRICHED: 3}
# A day of demo data is plenty and keeps a laptop's disk small; the DLQ keeps the broker default.
_ONE_DAY_MS = str(24 * 3600 * 1000)
TOPIC_CONFIGS: dict[str, dict[str, str]] = {
    name: {"retention.ms": _ONE_DAY_MS} for name in (ORDERS, PAYMENTS, SHIPMENTS, ORDERS_ENRICHED)
}

GROUP_AT_MOST_ONCE = "demo-at-most-once"
GROUP_AT_LEAST_ONCE = "demo-at-least-once"
GROUP_EXACTLY_ONCE = "demo-exactly-once"
GROUP_SLOW = "demo-slow"
GROUP_STOPPED = "demo-stopped"
GROUP_ORDER_PROCESSOR = "demo-order-processor"  # the worker is called demo-dlq-writer
TRANSACTIONAL_ID = "demo-exactly-once-1"

# Messages per second at rate scale 1.
RATES: dict[str, float] = {ORDERS: 20.0, PAYMENTS: 10.0, SHIPMENTS: 5.0}
SLOW_RATE = 3.0  # demo-slow processes payments at 3/s while 10/s arrive: its lag grows by ~7/s
POISON_EVERY = 100  # one order in a hundred is poison (alternately a NaN amount and non-JSON bytes)
MAX_RETRIES = 3  # the order processor retries a failing record 3 times before dead-lettering it
RETRY_BACKOFF_S = 0.05  # 0.05, 0.1, 0.2 s between attempts
STOPPED_PER_PARTITION = 10  # demo-stopped reads this many shipments per partition, commits, leaves
EOS_MAX_RECORDS = 500  # one transaction per this many records ...
EOS_INTERVAL_S = 0.2  # ... or per 200 ms, whichever comes first
COMMIT_ATTEMPTS = 2  # commit_transaction is retried once when librdkafka calls the error retriable
POLL_TIMEOUT_S = 0.5
PRODUCE_TICK_S = 0.2
RESTART_MIN_S = 1.0
RESTART_MAX_S = 30.0
BUG_FIXED_ENV = "DEMO_BUG_FIXED"
BUG_FIXED_FILE = "bug-fixed"
STATE_DIR_ENV = "DEMO_STATE_DIR"
DEFAULT_STATE_DIR = Path("var") / "demo"

# Seed batch produced by seed_once(): enough for every group to have something to read.
SEED_COUNTS: dict[str, int] = {ORDERS: 200, PAYMENTS: 100, SHIPMENTS: 50}


class InvalidOrderError(ValueError):
    """An order the processor cannot handle: the demo's poison."""


class Record(NamedTuple):
    key: str
    value: bytes
    headers: Headers


@dataclass
class WorkerStats:
    """Counters of one worker; written only by its own thread, read after it has stopped."""

    name: str
    produced: int = 0
    consumed: int = 0
    dead_lettered: int = 0
    transactions: int = 0
    aborted: int = 0
    skipped: int = 0
    delivery_errors: int = 0
    restarts: int = 0
    last_error: str | None = None

    def summary(self) -> str:
        counts = {
            "produced": self.produced,
            "consumed": self.consumed,
            "dead-lettered": self.dead_lettered,
            "transactions": self.transactions,
            "aborted": self.aborted,
            "skipped": self.skipped,
            "delivery errors": self.delivery_errors,
            "restarts": self.restarts,
        }
        text = ", ".join(f"{label} {n}" for label, n in counts.items() if n) or "nothing"
        return f"{self.name}: {text}" + (f" (last error: {self.last_error})" if self.last_error else "")


@dataclass
class Worker:
    """What a worker body gets: its cluster, the shared stop flag, its own stats and state."""

    name: str
    config: ClusterConfig
    stop: threading.Event
    log: Log
    state_dir: Path
    stats: WorkerStats
    state: dict[str, Any] = field(default_factory=dict)  # survives restarts (e.g. the next sequence)


@dataclass(frozen=True)
class WorkerSpec:
    name: str
    description: str
    body: Callable[[Worker], None]
    one_shot: bool = False


# ---------------------------------------------------------------------------------------- helpers


def is_local_bootstrap(bootstrap_servers: str) -> bool:
    """True when every bootstrap server is on loopback (127.0.0.0/8, ::1, localhost), without DNS.

    Why: the demo writes data and commits offsets; it must never run against a cluster the user
    merely pointed the dashboard at.
    """
    hosts = [_host_of(entry) for entry in bootstrap_servers.split(",") if entry.strip()]
    return bool(hosts) and all(_is_loopback_host(host) for host in hosts)


def _host_of(entry: str) -> str:
    entry = entry.strip()
    if "://" in entry:
        entry = entry.split("://", 1)[1]
    if entry.startswith("["):  # [::1]:9092
        return entry[1 : entry.find("]")] if "]" in entry else entry[1:]
    if entry.count(":") > 1:  # a bare IPv6 address without a port
        return entry
    return entry.rsplit(":", 1)[0] if ":" in entry else entry


def _is_loopback_host(host: str) -> bool:
    host = host.strip().rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_state_dir(state_dir: Path | str | None = None) -> Path:
    """Where the demo's switch files live: the argument, else $DEMO_STATE_DIR, else ./var/demo."""
    if state_dir is not None:
        return Path(state_dir)
    return Path(os.environ.get(STATE_DIR_ENV) or DEFAULT_STATE_DIR)


def bug_fixed(state_dir: Path) -> bool:
    """The "fixed" switch: DEMO_BUG_FIXED=1 or a file <state dir>/bug-fixed. Read on every failure,
    so it can be flipped while the demo runs and reprocessed DLQ records then succeed."""
    if os.environ.get(BUG_FIXED_ENV, "").strip().lower() in {"1", "true", "yes", "on"}:
        return True
    return (state_dir / BUG_FIXED_FILE).exists()


def exception_class_name(exc: BaseException) -> str:
    """Fully qualified class name, as Spring's exception-fqcn; builtins without their module."""
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def _describe(exc: BaseException) -> str:
    """One line for a log: librdkafka's error text, else the exception's class and message."""
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return exc.args[0].str()
    return f"{type(exc).__name__}: {exc}"


class ClientStuckError(RuntimeError):
    """A client call that did not return by our deadline; its client is abandoned, not closed."""


def _bounded(call: Callable[[], T], seconds: float, what: str) -> T:
    """Run a blocking client call in a helper thread and give up on it after `seconds`.

    Why: after a broker restart librdkafka's send_offsets_to_transaction() can wait forever for
    the group coordinator, whatever its timeout says (it was seen here with librdkafka 2.16;
    compare librdkafka issue 5511). A worker stuck in C can neither stop nor recover; with a
    deadline of our own it raises, and the supervisor starts over with new clients.
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


def _utc_iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _next_offsets(messages: Iterable[Message]) -> list[TopicPartition]:
    """The offsets to commit after `messages`: per partition, the highest offset + 1."""
    highest: dict[tuple[str, int], int] = {}
    for msg in messages:
        tp = (msg.topic(), msg.partition())
        highest[tp] = max(highest.get(tp, -1), msg.offset())
    return [TopicPartition(topic, partition, offset + 1) for (topic, partition), offset in highest.items()]


# ---------------------------------------------------------------------------------------- clients


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
    client_log = logging.getLogger(f"{__name__}.librdkafka")

    def on_error(err: KafkaError) -> None:
        client_log.debug("%s: %s", name, err.str())

    return {"client.id": name, "logger": _QuietLog(client_log), "error_cb": on_error}


def _producer(config: ClusterConfig, name: str, overrides: Mapping[str, Any] | None = None) -> Producer:
    """A producer that batches (linger.ms) so a few messages a second cost a few requests a second."""
    conf = {"linger.ms": 100, "acks": "all", "enable.idempotence": True, **_client_extras(name), **(overrides or {})}
    return Producer(config.client_config(**conf))


def _consumer(config: ClusterConfig, group: str, overrides: Mapping[str, Any] | None = None) -> Consumer:
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


def _consume(consumer: Consumer, max_records: int, timeout: float) -> list[Message]:
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


def _on_commit(err: KafkaError | None, partitions: list[TopicPartition]) -> None:
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


# ---------------------------------------------------------------------------------------- records


def _business_headers(rng: random.Random, event_type: str, content_type: str = "application/json") -> Headers:
    return [
        ("trace-id", f"{rng.getrandbits(128):032x}".encode()),
        ("content-type", content_type.encode()),
        ("event-type", event_type.encode()),
    ]


def _json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def order_record(seq: int, rng: random.Random, run: str) -> Record:
    """Order number `seq`; every POISON_EVERY-th is poison, alternately a NaN amount and raw bytes."""
    order_id = f"{run}-{seq:07d}"
    key = f"customer-{seq % 40:02d}"
    headers = _business_headers(rng, "OrderCreated")
    if seq % POISON_EVERY == POISON_EVERY - 1:
        if (seq // POISON_EVERY) % 2 == 0:
            return Record(key, _json({"order_id": order_id, "amount": "NaN", "currency": "EUR"}), headers)
        # A producer that claims JSON and sends something else (a stray protobuf, say).
        return Record(key, b"\x08\x96\x01\x12\x04\xff\xfeord" + order_id.encode(), headers)
    value = {
        "order_id": order_id,
        "customer": key,
        "amount": round(rng.uniform(5, 500), 2),
        "currency": rng.choice(("EUR", "USD", "GBP")),
        "items": rng.randint(1, 5),
        "created_at": _utc_iso(time.time()),
    }
    return Record(key, _json(value), headers)


def payment_record(seq: int, rng: random.Random, run: str) -> Record:
    """A payment for every second order (orders are produced twice as fast)."""
    order_id = f"{run}-{seq * 2:07d}"
    value = {
        "payment_id": f"pay-{run}-{seq:07d}",
        "order_id": order_id,
        "amount": round(rng.uniform(5, 500), 2),
        "method": rng.choice(("card", "paypal", "invoice")),
    }
    return Record(order_id, _json(value), _business_headers(rng, "PaymentReceived"))


def shipment_record(seq: int, rng: random.Random, run: str) -> Record:
    """A shipment for every fourth order."""
    order_id = f"{run}-{seq * 4:07d}"
    value = {
        "shipment_id": f"shp-{run}-{seq:07d}",
        "order_id": order_id,
        "carrier": rng.choice(("DHL", "UPS", "PostNL")),
        "status": "dispatched",
    }
    return Record(order_id, _json(value), _business_headers(rng, "ShipmentDispatched"))


BUILDERS: dict[str, Callable[[int, random.Random, str], Record]] = {
    ORDERS: order_record,
    PAYMENTS: payment_record,
    SHIPMENTS: shipment_record,
}


def parse_order(value: bytes | None, *, lenient: bool = False) -> dict[str, Any]:
    """The order processor's business logic: JSON with a finite amount.

    Poison raises (UnicodeDecodeError, JSONDecodeError, InvalidOrderError, all ValueErrors) unless
    `lenient` (the bug is fixed): then it is accepted and marked for a human to review.
    """
    try:
        if value is None:
            raise InvalidOrderError("order has no value (tombstone)")
        order = json.loads(value.decode("utf-8"))
        if not isinstance(order, dict):
            raise InvalidOrderError(f"order is not a JSON object: {type(order).__name__}")
        if "amount" not in order:
            raise InvalidOrderError("order has no amount")
        amount = float(order["amount"])  # "NaN" parses; a list or null raises TypeError
        if not math.isfinite(amount):
            raise InvalidOrderError(f"amount is not a finite number: {order.get('amount')!r}")
        return order
    except (ValueError, TypeError):
        if lenient:
            return {"status": "needs-review", "raw": (value or b"").hex()}
        raise


def failure_headers(msg: Message, exc: BaseException, *, group: str, retries: int, failed_at: float) -> Headers:
    """Spring-compatible and project failure headers for a record that failed with `exc`."""
    ts_type, ts = msg.timestamp()
    fqcn = exception_class_name(exc)
    message = str(exc)
    stack = "".join(traceback.format_exception(exc))
    enc = dh.encode_text
    return [
        (dh.SPRING_ORIGINAL_TOPIC, enc(msg.topic())),
        (dh.SPRING_ORIGINAL_PARTITION, dh.encode_int32(msg.partition())),
        (dh.SPRING_ORIGINAL_OFFSET, dh.encode_int64(msg.offset())),
        (dh.SPRING_ORIGINAL_TIMESTAMP, dh.encode_int64(ts)),
        (dh.SPRING_ORIGINAL_TIMESTAMP_TYPE, enc(dh.TIMESTAMP_TYPE_NAMES.get(ts_type, "NoTimestampType"))),
        (dh.SPRING_ORIGINAL_CONSUMER_GROUP, enc(group)),
        (dh.SPRING_EXCEPTION_FQCN, enc(fqcn)),
        (dh.SPRING_EXCEPTION_MESSAGE, enc(message)),
        (dh.SPRING_EXCEPTION_STACKTRACE, enc(stack)),
        (dh.DLQ_ORIGINAL_TOPIC, enc(msg.topic())),
        (dh.DLQ_ORIGINAL_PARTITION, enc(msg.partition())),
        (dh.DLQ_ORIGINAL_OFFSET, enc(msg.offset())),
        (dh.DLQ_ORIGINAL_TIMESTAMP, enc(ts)),
        (dh.DLQ_EXCEPTION_CLASS, enc(fqcn)),
        (dh.DLQ_EXCEPTION_MESSAGE, enc(message)),
        (dh.DLQ_EXCEPTION_STACKTRACE, enc(stack)),
        (dh.DLQ_RETRY_COUNT, enc(retries)),
        (dh.DLQ_FAILED_AT, enc(_utc_iso(failed_at))),
        (dh.DLQ_CONSUMER_GROUP, enc(group)),
    ]


def business_headers(msg: Message) -> Headers:
    """The record's own headers without failure headers from an earlier trip through the DLQ."""
    return [(k, v) for k, v in (msg.headers() or []) if k not in dh.FAILURE_HEADERS]


# ---------------------------------------------------------------------------------------- workers


def _produce_steadily(w: Worker, topic: str, rate: float) -> None:
    """Produce `rate` records a second to `topic`, in small ticks, until stopped.

    The schedule is computed from elapsed time (no drift); after an outage it skips ahead instead
    of bursting the backlog out at once.
    """
    build = BUILDERS[topic]
    rng: random.Random = w.state.setdefault("rng", random.Random())
    run: str = w.state.setdefault("run", f"{rng.getrandbits(24):06x}")
    failures: list[KafkaError] = []

    def on_delivery(err: KafkaError | None, _msg: Message) -> None:
        if err is None:
            w.stats.produced += 1
        else:
            w.stats.delivery_errors += 1
            if err.fatal():
                failures.append(err)

    producer = _producer(w.config, f"demo-producer-{topic}")
    try:
        start, sent = time.monotonic(), 0
        while not w.stop.is_set():
            due = int((time.monotonic() - start) * rate)
            if due - sent > rate * 2:  # we were away (broker down, machine asleep): skip ahead
                sent = due - 1
            while sent < due:
                seq = w.state.get("seq", 0)
                record = build(seq, rng, run)
                try:
                    producer.produce(
                        topic, key=record.key, value=record.value, headers=record.headers, on_delivery=on_delivery
                    )
                except BufferError:  # local queue full: the broker is away; wait, don't spin
                    break
                w.state["seq"] = seq + 1
                sent += 1
            producer.poll(0)
            if failures:
                raise KafkaException(failures[0])
            w.stop.wait(PRODUCE_TICK_S)
    finally:
        producer.flush(5.0)


def at_most_once(w: Worker) -> None:
    """demo-at-most-once: commit a batch's offsets (synchronously) before processing it, so a crash
    mid-batch loses the rest of it, and a batch whose commit failed is skipped: never processed twice.

    Why not auto-commit with offsets stored before processing: its commits happen later, on a
    timer, and one that fails (a broker restart) makes the group read those records again.
    """
    consumer = _consumer(w.config, GROUP_AT_MOST_ONCE, {"enable.auto.commit": False})
    try:
        consumer.subscribe([ORDERS])
        while not w.stop.is_set():
            batch = _consume(consumer, 500, POLL_TIMEOUT_S)
            if not batch:
                continue
            try:
                consumer.commit(offsets=_next_offsets(batch), asynchronous=False)  # commit first ...
            except KafkaException as exc:
                if exc.args[0].fatal():
                    raise
                w.stats.skipped += len(batch)  # not committed, so not processed
                continue
            for msg in batch:  # ... then process
                parse_order(msg.value(), lenient=True)
                w.stats.consumed += 1
    finally:
        consumer.close()


def at_least_once(w: Worker) -> None:
    """demo-at-least-once: commit only after the batch is processed, so a crash re-reads it
    (never lost, maybe processed twice)."""
    consumer = _consumer(w.config, GROUP_AT_LEAST_ONCE, {"enable.auto.commit": False, "on_commit": _on_commit})
    try:
        consumer.subscribe([ORDERS])
        while not w.stop.is_set():
            batch = _consume(consumer, 500, POLL_TIMEOUT_S)
            if not batch:
                continue
            for msg in batch:  # process first ...
                parse_order(msg.value(), lenient=True)
                w.stats.consumed += 1
            consumer.commit(offsets=_next_offsets(batch), asynchronous=True)  # ... then commit
    finally:
        consumer.close()


def _enrich(msg: Message) -> bytes | None:
    """orders -> orders-enriched: amounts in cents and where the order came from; poison is dropped."""
    try:
        order = parse_order(msg.value())
    except (ValueError, TypeError):
        return None
    enriched = {
        "order_id": order.get("order_id"),
        "customer": order.get("customer"),
        "amount_cents": round(float(order["amount"]) * 100),
        "currency": order.get("currency"),
        "source": {"topic": msg.topic(), "partition": msg.partition(), "offset": msg.offset()},
        "enriched_at": _utc_iso(time.time()),
    }
    return _json(enriched)


def exactly_once(w: Worker) -> None:
    """demo-exactly-once: consume orders, produce orders-enriched and commit the group's offsets in
    one Kafka transaction (one per 200 ms or 500 records); read_committed on the way in.

    On a transaction error the transaction is aborted and the consumer rewound to the committed
    offsets; on a fatal one the worker restarts with new clients. Either way the output resumes
    from the last committed offsets: nothing is lost or written twice (for read_committed readers).
    """
    consumer = _consumer(
        w.config, GROUP_EXACTLY_ONCE, {"enable.auto.commit": False, "isolation.level": "read_committed"}
    )
    producer = _producer(
        w.config, "demo-exactly-once-producer", {"transactional.id": TRANSACTIONAL_ID, "linger.ms": 20}
    )
    timeout = w.config.request_timeout_s
    deadline = timeout * COMMIT_ATTEMPTS + 5  # librdkafka's own timeouts plus slack
    stuck = False
    try:
        producer.init_transactions(timeout * 3)  # also fences and aborts a previous instance's transaction
        consumer.subscribe([ORDERS])
        while not w.stop.is_set():
            batch = _consume(consumer, EOS_MAX_RECORDS, EOS_INTERVAL_S)
            if not batch:
                continue
            producer.begin_transaction()
            try:
                written = 0
                for msg in batch:
                    value = _enrich(msg)
                    if value is not None:
                        producer.produce(ORDERS_ENRICHED, key=msg.key(), value=value, headers=business_headers(msg))
                        written += 1
                offsets, group = _next_offsets(batch), consumer.consumer_group_metadata()
                send = partial(producer.send_offsets_to_transaction, offsets, group, timeout)
                _bounded(send, deadline, "send_offsets_to_transaction")
                _bounded(partial(_commit_transaction, producer, timeout), deadline, "commit_transaction")
            except KafkaException as exc:
                if exc.args[0].fatal():
                    raise  # the supervisor starts over with a new producer (fencing the old one)
                # Undo the batch's output and offsets, and read the batch again.
                _bounded(partial(producer.abort_transaction, timeout), deadline, "abort_transaction")
                _rewind(consumer, timeout)
                w.stats.aborted += 1
                w.log(f"{w.name}: transaction aborted ({_describe(exc)}); reading the batch again")
                continue
            producer.poll(0)  # serve the client's log queue (transactional calls do not)
            w.stats.transactions += 1
            w.stats.consumed += len(batch)
            w.stats.produced += written
    except ClientStuckError:
        stuck = True
        raise
    finally:
        consumer.close()
        if stuck:  # closing would block too; the next producer's init_transactions fences this one
            w.log(f"{w.name}: abandoning a transactional producer stuck inside librdkafka")
        else:
            producer.close()


def _rewind(consumer: Consumer, timeout: float) -> None:
    """Seek every assigned partition back to the group's committed offset (the beginning if none)."""
    assignment = consumer.assignment()
    if not assignment:
        return
    for tp in consumer.committed(assignment, timeout=timeout):
        consumer.seek(TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_BEGINNING))


def _commit_transaction(producer: Producer, timeout: float, attempts: int = COMMIT_ATTEMPTS) -> None:
    """commit_transaction, retried while librdkafka says the error is retriable (e.g. a timeout)."""
    for attempt in range(attempts):
        try:
            producer.commit_transaction(timeout)
            return
        except KafkaException as exc:
            if not exc.args[0].retriable() or attempt == attempts - 1:
                raise


def slow(w: Worker, rate: float) -> None:
    """demo-slow: reads payments at `rate` a second, slower than they are produced: lag keeps growing."""
    consumer = _consumer(w.config, GROUP_SLOW, {"enable.auto.commit": True, "auto.commit.interval.ms": 1000})
    try:
        consumer.subscribe([PAYMENTS])
        while not w.stop.is_set():
            for msg in _consume(consumer, 1, POLL_TIMEOUT_S):
                json.loads(msg.value() or b"null")
                w.stats.consumed += 1
                w.stop.wait(1.0 / rate)  # the "slow processing"
    finally:
        consumer.close()


def stopped(w: Worker) -> None:
    """demo-stopped: read a few shipments from every partition, commit, leave. The group stays Empty
    with committed offsets and its lag grows as shipments keep arriving: a crashed consumer.

    A partition is paused once it gave STOPPED_PER_PARTITION records, so a rerun takes a small
    bite of the backlog instead of catching up, and every partition gets a committed offset.
    """
    consumer = _consumer(w.config, GROUP_STOPPED, {"enable.auto.commit": False})
    taken: dict[int, list[Message]] = {}
    try:
        consumer.subscribe([SHIPMENTS])
        deadline = time.monotonic() + 60
        while not w.stop.is_set() and time.monotonic() < deadline:
            for msg in _consume(consumer, 100, POLL_TIMEOUT_S):
                got = taken.setdefault(msg.partition(), [])
                if len(got) < STOPPED_PER_PARTITION:
                    got.append(msg)
                    if len(got) == STOPPED_PER_PARTITION:
                        consumer.pause([TopicPartition(SHIPMENTS, msg.partition())])
            assigned = {tp.partition for tp in consumer.assignment()}
            if assigned and all(len(taken.get(p, ())) >= STOPPED_PER_PARTITION for p in assigned):
                break
        records = [msg for got in taken.values() for msg in got]
        if records:
            consumer.commit(offsets=_next_offsets(records), asynchronous=False)
    finally:
        consumer.close()
    if not records and not w.stop.is_set():
        raise RuntimeError("no shipments to read yet")
    w.stats.consumed += len(records)
    w.log(f"{w.name}: committed {len(records)} shipments and left the group (it stays Empty)")


def _process_with_retries(w: Worker, msg: Message) -> BaseException | None:
    """Try a record 1 + MAX_RETRIES times with short sleeps; the last error, or None on success."""
    error: BaseException | None = None
    for attempt in range(MAX_RETRIES + 1):
        try:
            parse_order(msg.value(), lenient=bug_fixed(w.state_dir))
            return None
        except (ValueError, TypeError) as exc:
            error = exc
            if attempt < MAX_RETRIES:
                w.stop.wait(RETRY_BACKOFF_S * 2**attempt)
    return error


def dlq_writer(w: Worker) -> None:
    """demo-dlq-writer (group demo-order-processor): process orders; a record that still fails after
    MAX_RETRIES retries goes to orders-dlq with its key, value, business headers and failure headers.

    The DLQ producer is idempotent with acks=all, and the group's offsets are committed only after
    the DLQ writes of the batch are acknowledged: a failed record is never lost (after a crash it
    may reach the DLQ twice).
    """
    failures: list[KafkaError] = []

    def on_delivery(err: KafkaError | None, _msg: Message) -> None:
        if err is not None:
            failures.append(err)

    consumer = _consumer(w.config, GROUP_ORDER_PROCESSOR, {"enable.auto.commit": False, "on_commit": _on_commit})
    producer = _producer(w.config, "demo-dlq-writer", {"linger.ms": 20})
    try:
        consumer.subscribe([ORDERS])
        while not w.stop.is_set():
            batch = _consume(consumer, 500, POLL_TIMEOUT_S)
            if not batch:
                continue
            dead = 0
            for msg in batch:
                error = _process_with_retries(w, msg)
                w.stats.consumed += 1
                if error is None:
                    continue
                headers = business_headers(msg) + failure_headers(
                    msg, error, group=GROUP_ORDER_PROCESSOR, retries=MAX_RETRIES, failed_at=time.time()
                )
                producer.produce(ORDERS_DLQ, key=msg.key(), value=msg.value(), headers=headers, on_delivery=on_delivery)
                dead += 1
            if dead and producer.flush(w.config.request_timeout_s * 3) > 0:
                raise RuntimeError("DLQ records not acknowledged in time; not committing")
            if failures:
                raise KafkaException(failures[0])
            w.stats.dead_lettered += dead
            consumer.commit(offsets=_next_offsets(batch), asynchronous=True)
    finally:
        consumer.close()
        producer.flush(5.0)


def demo_workers(rate_scale: float = 1.0) -> list[WorkerSpec]:
    """The demo's workers, in start order: producers first, so the consumers find data."""

    def producer_spec(topic: str) -> WorkerSpec:
        rate = RATES[topic] * rate_scale
        return WorkerSpec(f"produce-{topic}", f"{rate:g} msg/s to {topic}", lambda w: _produce_steadily(w, topic, rate))

    slow_rate = SLOW_RATE * rate_scale
    return [
        producer_spec(ORDERS),
        producer_spec(PAYMENTS),
        producer_spec(SHIPMENTS),
        WorkerSpec(GROUP_AT_MOST_ONCE, "orders, commit then process", at_most_once),
        WorkerSpec(GROUP_AT_LEAST_ONCE, "orders, process then commit", at_least_once),
        WorkerSpec(GROUP_EXACTLY_ONCE, f"orders -> {ORDERS_ENRICHED} in transactions", exactly_once),
        WorkerSpec(GROUP_SLOW, f"payments at {slow_rate:g} msg/s (falls behind)", lambda w: slow(w, slow_rate)),
        WorkerSpec(GROUP_STOPPED, "reads some shipments, commits, leaves", stopped, one_shot=True),
        WorkerSpec("demo-dlq-writer", f"group {GROUP_ORDER_PROCESSOR}: orders, poison -> {ORDERS_DLQ}", dlq_writer),
    ]


# ---------------------------------------------------------------------------------------- running


def _supervise(spec: WorkerSpec, w: Worker) -> None:
    """Run a worker until stopped; restart it with exponential backoff when it fails.

    Why: a broker restart or a fenced transactional producer must not end the demo; a fresh
    client is the simple and reliable recovery.
    """
    backoff = RESTART_MIN_S
    while not w.stop.is_set():
        started = time.monotonic()
        try:
            spec.body(w)
            if spec.one_shot or w.stop.is_set():
                return
            raise RuntimeError("worker returned without being stopped")
        except Exception as exc:  # any failure restarts the worker; logged below
            if time.monotonic() - started > 60:
                backoff = RESTART_MIN_S
            w.stats.restarts += 1
            w.stats.last_error = _describe(exc)
            logger.debug("demo worker %s failed", spec.name, exc_info=True)
            if w.stop.is_set():
                return
            w.log(f"{spec.name}: {w.stats.last_error}; restarting in {backoff:g} s")
            w.stop.wait(backoff)
            backoff = min(backoff * 2, RESTART_MAX_S)


def _ensure_topics_until_stopped(config: ClusterConfig, stop: threading.Event, log: Log) -> bool:
    """Create the topics, retrying with backoff while the broker is unreachable; False if stopped."""
    backoff = RESTART_MIN_S
    while not stop.is_set():
        try:
            created = ensure_topics(config)
            log(f"topics ready ({'created ' + ', '.join(created) if created else 'all existed'})")
            return True
        except (KafkaException, TimeoutError) as exc:
            log(f"cannot create the demo topics: {_describe(exc)}; retrying in {backoff:g} s")
            stop.wait(backoff)
            backoff = min(backoff * 2, RESTART_MAX_S)
    return False


def run_demo(
    config: ClusterConfig,
    stop: threading.Event,
    rate_scale: float = 1.0,
    log: Log = logger.info,
    state_dir: Path | str | None = None,
    join_timeout_s: float = 30.0,
) -> list[WorkerStats]:
    """Run the demo workload until `stop` is set; then close every client and return the counters.

    Each worker is a daemon thread with its own client. `rate_scale` multiplies every rate
    (producers and the slow consumer alike, so the slow one stays slower). The order processor's
    "bug fixed" switch is read from `state_dir` (see bug_fixed()).
    """
    if rate_scale <= 0:
        raise ValueError("rate scale must be positive")
    state = resolve_state_dir(state_dir)
    if not _ensure_topics_until_stopped(config, stop, log):
        return []
    workers: list[tuple[threading.Thread, Worker]] = []
    for spec in demo_workers(rate_scale):
        worker = Worker(spec.name, config, stop, log, state, WorkerStats(spec.name))
        thread = threading.Thread(target=_supervise, args=(spec, worker), name=f"demo:{spec.name}", daemon=True)
        thread.start()
        workers.append((thread, worker))
        log(f"started {spec.name}: {spec.description}")
    stop.wait()
    deadline = time.monotonic() + join_timeout_s
    for thread, worker in workers:
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            log(f"{worker.name} did not stop within {join_timeout_s:g} s")
    return [worker.stats for _, worker in workers]


def seed_once(
    config: ClusterConfig,
    counts: Mapping[str, int] | None = None,
    timeout_s: float = 30.0,
    run: str = "seed",
) -> dict[str, int]:
    """Create the topics and produce a fixed, deterministic batch (same seed, same records).

    For tests and a quick look without the running demo; returns records delivered per topic.
    """
    ensure_topics(config)
    counts = dict(SEED_COUNTS if counts is None else counts)
    delivered = dict.fromkeys(counts, 0)
    errors: list[KafkaError] = []

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        if err is None:
            delivered[msg.topic()] += 1
        else:
            errors.append(err)

    producer = _producer(config, "demo-seed")
    rng = random.Random(42)
    for topic, count in counts.items():
        for seq in range(count):
            record = BUILDERS[topic](seq, rng, run)
            producer.produce(topic, key=record.key, value=record.value, headers=record.headers, on_delivery=on_delivery)
            producer.poll(0)
    remaining = producer.flush(timeout_s)
    if errors:
        raise KafkaException(errors[0])
    if remaining:
        raise TimeoutError(f"{remaining} seed records not delivered within {timeout_s:g} s")
    return delivered


def summarize(stats: Sequence[WorkerStats]) -> list[str]:
    """One line per worker, for the end of a run."""
    return [s.summary() for s in stats]
