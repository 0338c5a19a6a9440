"""Shared pieces of the benchmarks: a broker, a workload seeder, timing helpers.

Benchmarks report ratios measured in the same run (absolute times on a shared 2-core machine
are noise), and print one JSON line of results for bench/RESULTS.md.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from confluent_kafka import Consumer, TopicPartition  # noqa: E402

from tests.kafka_support import BrokerProcess, Kafka  # noqa: E402


def start_broker(data_dir: Path) -> BrokerProcess:
    external = os.environ.get("TEST_KAFKA_BOOTSTRAP_SERVERS")
    if external:
        return BrokerProcess(external)
    return BrokerProcess.start(data_dir)


def seed_groups(kafka: Kafka, prefix: str, groups: int, partitions: int, topics: int = 1, lag: int = 5) -> list[str]:
    """`groups` groups, each committed on every partition of one of `topics` topics (end offsets 2*lag)."""
    names = [kafka.create_topic(f"{prefix}-t{i}", partitions=partitions) for i in range(topics)]
    for name in names:
        for p in range(partitions):
            kafka.produce(name, 2 * lag, partition=p)

    def commit(i: int) -> str:
        gid = f"{prefix}-g{i:05d}"
        topic = names[i % len(names)]
        c = Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": gid, "enable.auto.commit": False})
        try:
            c.commit(offsets=[TopicPartition(topic, p, lag + (i % lag)) for p in range(partitions)], asynchronous=False)
        finally:
            c.close()
        return gid

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(commit, range(groups)))


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
        "n": len(ordered),
    }


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out
