"""Sessions for the supervisor's tests: they run in a spawned child and die on request, as librdkafka can."""

from __future__ import annotations

import ctypes
import os
import sys
import time


class DyingSession:
    """Answers, or dies the ways a librdkafka client has killed the dashboard."""

    def __init__(self, tag: str = "") -> None:
        self.tag = tag
        self.calls = 0

    def echo(self, value: object) -> tuple[str, int, object]:
        self.calls += 1
        return self.tag, os.getpid(), value

    def assert_and_abort(self) -> None:
        """What glibc's assert() does: the message on stderr, then abort()."""
        sys.stderr.write(
            "python3: rdkafka_queue.h:1132: rd_kafka_enq_once_del_source_return: "
            "Assertion `eonce->refcnt > 0' failed.\n"
        )
        sys.stderr.flush()
        os.abort()

    def segfault(self) -> None:
        ctypes.string_at(0)  # reads address 0: SIGSEGV

    def hang(self, seconds: float) -> None:
        time.sleep(seconds)

    def fail(self) -> None:
        raise ValueError("no such thing")

    def unpicklable(self) -> object:
        return lambda: None


class OffsetFetchSession:
    """One librdkafka call that has crashed the dashboard: an OffsetFetch on a broker that has no
    __consumer_offsets yet (issue 17). Runs against a real broker, in the child."""

    def __init__(self, bootstrap: str) -> None:
        from confluent_kafka.admin import AdminClient

        self.admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})

    def committed(self, group: str) -> list[tuple[str, int, int]]:
        from confluent_kafka import ConsumerGroupTopicPartitions

        futures = self.admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)], request_timeout=10)
        result = futures[group].result(timeout=15)
        return [(tp.topic, tp.partition, tp.offset) for tp in result.topic_partitions or []]


class ChurnSession:
    """A BrokerSession's snapshot hand-off (collect_delta, last_snapshot) over synthetic churn, no broker."""

    def __init__(self, config: object) -> None:
        from kafka_admin.isolation import delta
        from kafka_admin.isolation.handoff import register_dataclasses
        from kafka_admin.snapshot import model
        from tests.unit.snapshot_churn import Churn

        register_dataclasses(model, delta)
        self.churn = Churn(seed=11)
        self.sender = delta.SnapshotSender()

    def collect_delta(self, held: tuple[str, int] | None) -> object:
        self.churn.advance()
        return self.sender.message(self.churn.snapshot(), held)

    def last_snapshot(self) -> object:
        return self.sender.last()
