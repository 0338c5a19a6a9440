"""The demo's producers: steady ones for the running workload, and the one-off seed batch."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping

from confluent_kafka import KafkaError, KafkaException, Message

from kafka_admin.config import ClusterConfig
from kafka_admin.demo.clients import ensure_topics, make_producer
from kafka_admin.demo.records import BUILDERS
from kafka_admin.demo.workload import PRODUCE_TICK_S, SEED_COUNTS, Worker


def produce_steadily(w: Worker, topic: str, rate: float) -> None:
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

    producer = make_producer(w.config, f"demo-producer-{topic}")
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

    producer = make_producer(config, "demo-seed")
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
