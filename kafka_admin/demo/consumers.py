"""The demo's consumer groups: the three delivery guarantees side by side on orders, a group that
falls behind and a group that stopped (see docs/demo.md)."""

from __future__ import annotations

import json
import time
from functools import partial

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Message, Producer, TopicPartition

from kafka_admin.demo.clients import (
    ClientStuckError,
    bounded,
    consume,
    describe_error,
    log_failed_commit,
    make_consumer,
    make_producer,
    next_offsets,
)
from kafka_admin.demo.records import business_headers, parse_order, to_json, utc_iso
from kafka_admin.demo.workload import (
    COMMIT_ATTEMPTS,
    EOS_INTERVAL_S,
    EOS_MAX_RECORDS,
    GROUP_AT_LEAST_ONCE,
    GROUP_AT_MOST_ONCE,
    GROUP_EXACTLY_ONCE,
    GROUP_SLOW,
    GROUP_STOPPED,
    ORDERS,
    ORDERS_ENRICHED,
    PAYMENTS,
    POLL_TIMEOUT_S,
    SHIPMENTS,
    STOPPED_PER_PARTITION,
    TRANSACTIONAL_ID,
    Worker,
)


def at_most_once(w: Worker) -> None:
    """demo-at-most-once: commit a batch's offsets (synchronously) before processing it, so a crash
    mid-batch loses the rest of it, and a batch whose commit failed is skipped: never processed twice.

    Why not auto-commit with offsets stored before processing: its commits happen later, on a
    timer, and one that fails (a broker restart) makes the group read those records again.
    """
    consumer = make_consumer(w.config, GROUP_AT_MOST_ONCE, {"enable.auto.commit": False})
    try:
        consumer.subscribe([ORDERS])
        while not w.stop.is_set():
            batch = consume(consumer, 500, POLL_TIMEOUT_S)
            if not batch:
                continue
            try:
                consumer.commit(offsets=next_offsets(batch), asynchronous=False)  # commit first ...
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
    consumer = make_consumer(
        w.config, GROUP_AT_LEAST_ONCE, {"enable.auto.commit": False, "on_commit": log_failed_commit}
    )
    try:
        consumer.subscribe([ORDERS])
        while not w.stop.is_set():
            batch = consume(consumer, 500, POLL_TIMEOUT_S)
            if not batch:
                continue
            for msg in batch:  # process first ...
                parse_order(msg.value(), lenient=True)
                w.stats.consumed += 1
            consumer.commit(offsets=next_offsets(batch), asynchronous=True)  # ... then commit
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
        "enriched_at": utc_iso(time.time()),
    }
    return to_json(enriched)


def exactly_once(w: Worker) -> None:
    """demo-exactly-once: consume orders, produce orders-enriched and commit the group's offsets in
    one Kafka transaction (one per 200 ms or 500 records); read_committed on the way in.

    On a transaction error the transaction is aborted and the consumer rewound to the committed
    offsets; on a fatal one the worker restarts with new clients. Either way the output resumes
    from the last committed offsets: nothing is lost or written twice (for read_committed readers).
    """
    consumer = make_consumer(
        w.config, GROUP_EXACTLY_ONCE, {"enable.auto.commit": False, "isolation.level": "read_committed"}
    )
    producer = make_producer(
        w.config, "demo-exactly-once-producer", {"transactional.id": TRANSACTIONAL_ID, "linger.ms": 20}
    )
    timeout = w.config.request_timeout_s
    deadline = timeout * COMMIT_ATTEMPTS + 5  # librdkafka's own timeouts plus slack
    stuck = False
    try:
        producer.init_transactions(timeout * 3)  # also fences and aborts a previous instance's transaction
        consumer.subscribe([ORDERS])
        while not w.stop.is_set():
            batch = consume(consumer, EOS_MAX_RECORDS, EOS_INTERVAL_S)
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
                offsets, group = next_offsets(batch), consumer.consumer_group_metadata()
                send = partial(producer.send_offsets_to_transaction, offsets, group, timeout)
                bounded(send, deadline, "send_offsets_to_transaction")
                bounded(partial(_commit_transaction, producer, timeout), deadline, "commit_transaction")
            except KafkaException as exc:
                if exc.args[0].fatal():
                    raise  # the supervisor starts over with a new producer (fencing the old one)
                # Undo the batch's output and offsets, and read the batch again.
                bounded(partial(producer.abort_transaction, timeout), deadline, "abort_transaction")
                _rewind(consumer, timeout)
                w.stats.aborted += 1
                w.log(f"{w.name}: transaction aborted ({describe_error(exc)}); reading the batch again")
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
    consumer = make_consumer(w.config, GROUP_SLOW, {"enable.auto.commit": True, "auto.commit.interval.ms": 1000})
    try:
        consumer.subscribe([PAYMENTS])
        while not w.stop.is_set():
            for msg in consume(consumer, 1, POLL_TIMEOUT_S):
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
    consumer = make_consumer(w.config, GROUP_STOPPED, {"enable.auto.commit": False})
    taken: dict[int, list[Message]] = {}
    try:
        consumer.subscribe([SHIPMENTS])
        deadline = time.monotonic() + 60
        while not w.stop.is_set() and time.monotonic() < deadline:
            for msg in consume(consumer, 100, POLL_TIMEOUT_S):
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
            consumer.commit(offsets=next_offsets(records), asynchronous=False)
    finally:
        consumer.close()
    if not records and not w.stop.is_set():
        raise RuntimeError("no shipments to read yet")
    w.stats.consumed += len(records)
    w.log(f"{w.name}: committed {len(records)} shipments and left the group (it stays Empty)")
