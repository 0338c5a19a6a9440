"""kafka_admin.reprocess against the real broker: exact bytes, routing, the ledger, ranges with a
group, crashes (SIGKILL) in the middle of a run, large values and the rate limit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, ConsumerGroupTopicPartitions, KafkaError, TopicPartition

from kafka_admin.config import ClusterConfig
from kafka_admin.dlq import headers as dh
from kafka_admin.dlq.routing import DEFAULT_PATTERNS, header_targets, reprocessed_from, republish_headers
from kafka_admin.records.read import FromOffset, read_records
from kafka_admin.reprocess import (
    MemoryLedger,
    OffsetRange,
    Offsets,
    PendingEntry,
    Progress,
    plan,
    recover,
    reprocess,
    transactional_id_for,
)
from tests.integration.reprocess_worker import SqliteLedger
from tests.kafka_support import REPO, Kafka

pytestmark = pytest.mark.broker

BIG_TOPIC = {"max.message.bytes": "10485760"}


@pytest.fixture
def config(broker) -> ClusterConfig:
    return broker.config()


def spring(topic: str, partition: int = 0, offset: int = 0) -> list[tuple[str, bytes]]:
    return [
        (dh.SPRING_ORIGINAL_TOPIC, topic.encode()),
        (dh.SPRING_ORIGINAL_PARTITION, dh.encode_int32(partition)),
        (dh.SPRING_ORIGINAL_OFFSET, dh.encode_int64(offset)),
        (dh.SPRING_ORIGINAL_TIMESTAMP, dh.encode_int64(1_700_000_000_000)),
        (dh.SPRING_EXCEPTION_FQCN, b"java.lang.IllegalStateException"),
        (dh.SPRING_EXCEPTION_MESSAGE, b"boom"),
    ]


def project(topic: str) -> list[tuple[str, bytes]]:
    return [
        (dh.DLQ_ORIGINAL_TOPIC, topic.encode()),
        (dh.DLQ_ORIGINAL_PARTITION, b"2"),
        (dh.DLQ_ORIGINAL_OFFSET, b"17"),
        (dh.DLQ_EXCEPTION_CLASS, b"ValueError"),
        (dh.DLQ_RETRY_COUNT, b"3"),
        (dh.DLQ_FAILED_AT, b"2025-01-31T12:00:00.000Z"),
    ]


def send(kafka: Kafka, topic: str, records: list[dict], transaction_size: int = 0, **conf) -> None:
    """Write records to partition 0 in order, acknowledged; in transactions of `transaction_size` when given."""
    settings = {"enable.idempotence": True, **conf}
    if transaction_size:
        settings["transactional.id"] = f"test-dlq-writer-{uuid.uuid4().hex[:8]}"
    p = kafka.producer(acks="all", **settings)
    errors: list[str] = []

    def on_delivery(err, msg) -> None:
        if err is not None:
            errors.append(str(err))

    if transaction_size:
        p.init_transactions(30)
    for i, rec in enumerate(records):
        if transaction_size and i % transaction_size == 0:
            p.begin_transaction()
        p.produce(topic, partition=0, on_delivery=on_delivery, **rec)
        p.poll(0)
        if transaction_size and (i % transaction_size == transaction_size - 1 or i == len(records) - 1):
            p.commit_transaction(30)
    assert p.flush(60) == 0
    assert not errors, errors


def read_all(kafka: Kafka, topic: str, timeout: float = 60) -> list[dict]:
    """Every committed record of a topic (read_committed), with whole values."""
    partitions = len(kafka.admin.list_topics(topic, timeout=10).topics[topic].partitions)
    settings = {"isolation.level": "read_committed", "enable.partition.eof": True, "fetch.wait.max.ms": 50}
    c = kafka.consumer(kafka.unique("verify"), **settings)
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    out: list[dict] = []
    at_end: set[int] = set()
    deadline = time.monotonic() + timeout
    try:
        while len(at_end) < partitions and time.monotonic() < deadline:
            msg = c.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    at_end.add(msg.partition())
                    continue
                raise AssertionError(msg.error())
            out.append(
                {
                    "partition": msg.partition(),
                    "offset": msg.offset(),
                    "key": msg.key(),
                    "value": msg.value(),
                    "headers": msg.headers() or [],
                }
            )
    finally:
        c.close()
    assert len(at_end) == partitions, "did not reach the end of every partition"
    return out


def by_origin(records: list[dict]) -> dict[tuple[str, int, int], list[dict]]:
    out: dict[tuple[str, int, int], list[dict]] = {}
    for r in records:
        key = reprocessed_from(r["headers"])
        assert key is not None, r
        out.setdefault(key, []).append(r)
    return out


def group_offset(kafka: Kafka, group: str, topic: str, partition: int, expect: int | None = None) -> int:
    """The group's committed offset; with `expect`, wait (up to 10 s) for a transactional commit to show.

    An offset committed inside a transaction becomes visible to OffsetFetch shortly after the
    transaction commits (the coordinator applies the marker asynchronously), hence the wait.
    """
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, partition)])
    deadline = time.monotonic() + 10
    while True:
        result = kafka.admin.list_consumer_group_offsets([request])[group].result(timeout=30)
        offset = result.topic_partitions[0].offset
        if expect is None or offset == expect or time.monotonic() > deadline:
            return offset
        time.sleep(0.1)


def topic_exists(kafka: Kafka, topic: str) -> bool:
    return topic in kafka.admin.list_topics(timeout=10).topics


def run(config: ClusterConfig, dlq: str, selection, ledger=None, **kwargs):
    kwargs.setdefault("targets", header_targets(dlq))
    kwargs.setdefault("actor", "tester")
    kwargs.setdefault("run_id", uuid.uuid4().hex)
    return reprocess(config, dlq, selection, ledger=ledger if ledger is not None else MemoryLedger(), **kwargs)


# -------------------------------------------------------------------------------------- exact bytes


def test_exact_bytes_arrive_and_failure_headers_are_replaced(kafka: Kafka, config: ClusterConfig) -> None:
    orig = kafka.create_topic(kafka.unique("orders"), partitions=3)
    dlq = kafka.create_topic(f"{orig}-dlq", partitions=1)
    binary = bytes(range(256)) * 8
    key = b"k\x00\xff\x80"
    business = [
        [("trace", b"\x00\x01\x02"), ("dup", b"a"), ("dup", b"\xff\xfe"), ("none", None), ("empty", b"")],
        [],
        [("bin", bytes(range(256))), ("dup", b"x"), ("dup", b"x")],
        [],
    ]
    records = [
        {"key": key, "value": binary, "headers": [business[0][0], *spring(orig, 1, 5), *business[0][1:]]},
        {"key": None, "value": b"\xff" * 10 + b"\x00", "headers": spring(orig, 0, 6)},
        {"key": key, "value": None, "headers": [*project(orig), *business[2]]},
        {"key": b"", "value": b""},  # no headers at all: routed by the name orders-...-dlq -> orders-...
    ]
    send(kafka, dlq, records)
    before = datetime.now(UTC).replace(microsecond=0)

    report = run(config, dlq, OffsetRange(0, 0, 3), actor="J\u00f6rg")

    assert (report.sent, report.failed, report.errors, report.stopped) == (4, 0, [], None)
    assert report.per_target == {orig: 4}
    got = by_origin(read_all(kafka, orig))
    assert sorted(got) == [(dlq, 0, o) for o in range(4)]
    for offset, sent in enumerate(records):
        [out] = got[(dlq, 0, offset)]
        assert out["key"] == sent["key"]
        assert out["value"] == sent["value"]
        names = [name for name, _ in out["headers"]]
        assert out["headers"][: len(business[offset])] == business[offset]
        assert names[len(business[offset]) :] == [
            dh.REPROCESSED_FROM_TOPIC,
            dh.REPROCESSED_FROM_PARTITION,
            dh.REPROCESSED_FROM_OFFSET,
            dh.REPROCESSED_AT,
            dh.REPROCESSED_BY,
        ]
        assert not set(names) & dh.FAILURE_HEADERS
        headers = dict(out["headers"])
        assert headers[dh.REPROCESSED_BY] == "J\u00f6rg".encode()
        at = datetime.fromisoformat(headers[dh.REPROCESSED_AT].decode())
        assert before <= at <= datetime.now(UTC)
    # The original partition the headers name (Spring's 1 and 0, the project's 2), the topic has 3.
    assert [got[(dlq, 0, o)][0]["partition"] for o in range(3)] == [1, 0, 2]


# ----------------------------------------------------------------------------------------- routing


def test_routing_header_naming_mapping_and_refusals(kafka: Kafka, config: ClusterConfig) -> None:
    orig = kafka.create_topic(kafka.unique("orders"), partitions=1)
    other = kafka.create_topic(kafka.unique("payments"), partitions=1)
    dlq = kafka.create_topic(f"{orig}.DLT", partitions=1)
    missing = kafka.unique("never-created")
    send(
        kafka,
        dlq,
        [
            {"value": b"0", "headers": spring(other)},  # Spring header -> other
            {"value": b"1"},  # no header -> orig by the name *.DLT
            {"value": b"2", "headers": spring(missing)},  # target does not exist
            {"value": b"3", "headers": spring(dlq)},  # a loop: refused
        ],
    )
    ledger = MemoryLedger()
    dry = plan(config, dlq, OffsetRange(0, 0, 3), targets=header_targets(dlq), ledger=ledger)
    assert dry.selected == 4
    assert dry.would_send == 2
    assert dry.per_target == {other: 1, orig: 1}
    assert dry.missing_targets == {missing: 1}
    assert [k for k, _ in dry.skipped_unmapped] == [(dlq, 0, 3)]
    assert "loop" in dry.skipped_unmapped[0][1]
    assert any(missing in e and "does not exist" in e for e in dry.errors)

    report = run(config, dlq, OffsetRange(0, 0, 3), ledger)
    assert report.sent == 2
    assert report.per_target == {other: 1, orig: 1}
    assert report.failed == 1
    assert report.failed_keys[0][0] == (dlq, 0, 2) and "does not exist" in report.failed_keys[0][1]
    assert [k for k, _ in report.skipped_unmapped] == [(dlq, 0, 3)]
    assert not topic_exists(kafka, missing), "a target topic must never be created"
    assert [r["value"] for r in read_all(kafka, other)] == [b"0"]
    assert [r["value"] for r in read_all(kafka, orig)] == [b"1"]
    assert ledger.done([(dlq, 0, o) for o in range(4)]) == {(dlq, 0, 0), (dlq, 0, 1)}

    # A DLQ whose name matches no pattern: unmapped without a mapping, sent with one.
    odd = kafka.create_topic(kafka.unique("failed"), partitions=1)
    send(kafka, odd, [{"value": b"m"}])
    report = run(config, odd, OffsetRange(0, 0, 0))
    assert report.sent == 0
    [(key, reason)] = report.skipped_unmapped
    assert key == (odd, 0, 0)
    assert reason == f"no original-topic header, the name does not match a DLQ pattern, and no mapping for {odd}"
    report = run(config, odd, OffsetRange(0, 0, 0), targets=header_targets(odd, DEFAULT_PATTERNS, {odd: orig}))
    assert report.sent == 1 and report.per_target == {orig: 1}
    assert [r["value"] for r in read_all(kafka, orig)] == [b"1", b"m"]


# ------------------------------------------------------------------------------ ledger and force


def test_done_records_are_skipped_and_force_resends_only_reprocessed(kafka: Kafka, config: ClusterConfig) -> None:
    orig = kafka.create_topic(kafka.unique("orders"), partitions=2)
    dlq = kafka.create_topic(f"{orig}-dlq", partitions=1)
    send(kafka, dlq, [{"key": f"k{i}".encode(), "value": f"v{i}".encode()} for i in range(6)])
    keys = [(dlq, 0, o) for o in range(6)]
    ledger = MemoryLedger()
    selection = OffsetRange(0, 0, 5)

    assert run(config, dlq, selection, ledger).sent == 6
    again = run(config, dlq, selection, ledger)
    assert (again.sent, again.skipped_done, again.forced_keys) == (0, 6, [])

    ledger.resolve([keys[0]])  # handled by a person without re-publishing
    dry = plan(config, dlq, selection, targets=header_targets(dlq), ledger=ledger, force=True)
    assert (dry.would_send, dry.forced, dry.skipped_done) == (5, keys[1:], [keys[0]])
    filtered = plan(
        config,
        dlq,
        selection,
        targets=header_targets(dlq),
        ledger=ledger,
        force=True,
        accept=lambda r, _: r.key == b"k3",
    )
    assert (filtered.would_send, filtered.forced, filtered.skipped_filtered) == (1, [keys[3]], 5)

    forced = run(config, dlq, selection, ledger, force=True)
    assert forced.sent == 5
    assert forced.forced_keys == keys[1:]
    assert forced.skipped_done == 1  # the resolved one: never re-sent

    counts = {k: len(v) for k, v in by_origin(read_all(kafka, orig)).items()}
    assert counts == {keys[0]: 1, **{k: 2 for k in keys[1:]}}


# ---------------------------------------------------------------------------------- range + group


def test_range_commits_the_group_offset_in_the_transaction(kafka: Kafka, config: ClusterConfig) -> None:
    orig = kafka.create_topic(kafka.unique("orders"), partitions=1)
    dlq = kafka.create_topic(f"{orig}-dlq", partitions=1)
    # Two transactions of 10: records at 0-9 and 11-20, commit markers at 10 and 21.
    send(kafka, dlq, [{"value": str(i).encode()} for i in range(20)], transaction_size=10)
    group = kafka.unique("reprocessor")
    ledger = MemoryLedger()

    dry = plan(config, dlq, OffsetRange(0, 5, 15), targets=header_targets(dlq), ledger=ledger)
    assert (dry.selected, dry.would_send, dry.not_found, dry.not_found_sample) == (11, 10, 1, [(dlq, 0, 10)])

    report = run(config, dlq, OffsetRange(0, 5, 15), ledger, range_group=group, batch_size=4)
    assert (report.sent, report.not_found, report.stopped) == (10, 1, None)
    assert group_offset(kafka, group, dlq, 0, expect=16) == 16
    assert sorted(r["value"] for r in read_all(kafka, orig)) == sorted(
        str(i).encode() for i in [5, 6, 7, 8, 9, *range(10, 15)]
    )

    # Again: nothing to send, the offset stays; a range past the end stops at the log's end.
    again = run(config, dlq, OffsetRange(0, 5, 15), ledger, range_group=group)
    assert (again.sent, again.skipped_done) == (0, 10)
    assert group_offset(kafka, group, dlq, 0, expect=16) == 16
    tail = run(config, dlq, OffsetRange(0, 16, 40), ledger, range_group=group)
    assert tail.sent == 5
    assert group_offset(kafka, group, dlq, 0, expect=22) == 22
    assert tail.notes == ["offsets 22-40 of partition 0 are beyond the end of the log (22)"]
    assert tail.errors == []


def test_offsets_selection_and_stop(kafka: Kafka, config: ClusterConfig) -> None:
    orig = kafka.create_topic(kafka.unique("orders"), partitions=1)
    dlq = kafka.create_topic(f"{orig}-dlq", partitions=2)
    send(kafka, dlq, [{"value": str(i).encode()} for i in range(9)])
    report = run(config, dlq, Offsets(((0, 8), (0, 1), (0, 1), (1, 0), (0, 50))))
    assert (report.sent, report.not_found) == (2, 2)  # partition 1 is empty; 50 is beyond the end
    assert len(report.notes) == 2 and report.errors == []
    assert sorted(r["value"] for r in read_all(kafka, orig)) == [b"1", b"8"]

    stop = threading.Event()
    seen: list[Progress] = []

    def progress(p: Progress) -> None:
        seen.append(p)
        stop.set()

    report = run(config, dlq, OffsetRange(0, 0, 8), batch_size=3, stop=stop, on_progress=progress)
    assert (report.sent, report.stopped) == (3, "stopped on request")
    assert seen[0].sent == 3 and seen[0].total_planned == 9


# ------------------------------------------------------------------------------------- recovery


def test_recover_confirms_committed_and_abandons_absent(kafka: Kafka, config: ClusterConfig) -> None:
    orig = kafka.create_topic(kafka.unique("orders"), partitions=1)
    dlq = kafka.create_topic(f"{orig}-dlq", partitions=1)
    send(kafka, dlq, [{"value": str(i).encode()} for i in range(5)])
    first = MemoryLedger()
    assert run(config, dlq, OffsetRange(0, 0, 4), first).sent == 5
    entries = [PendingEntry(e.key, e.target_topic, e.target_partition, e.target_offset, "old") for e in first.confirmed]
    assert len(entries) == 5

    ledger = MemoryLedger()
    wrong = PendingEntry((dlq, 0, 99), orig, 0, entries[0].target_offset, "old")  # that offset holds another record
    later = PendingEntry((dlq, 0, 98), orig, 0, 10_000, "old")  # beyond the end: cannot be told yet
    elsewhere = PendingEntry(("another-dlq", 0, 1), orig, 0, 0, "old")  # not this DLQ's: left alone
    ledger.record_pending([*entries, wrong, later, elsewhere])

    result = recover(config, dlq, ledger, transactional_id_for(config.name, dlq), timeout_s=0.5)
    assert (result.confirmed, result.abandoned) == (5, 1)
    assert result.undecided == [later]
    assert ledger.done([e.key for e in entries] + [wrong.key]) == {e.key for e in entries}
    assert set(ledger.pending()) == {later, elsewhere}

    # The undecided record is not sent by a run until it is settled (the run waits a request timeout).
    send(kafka, dlq, [{"value": str(i).encode()} for i in range(5, 100)])
    report = run(config.with_overrides(request_timeout_s=1.0), dlq, Offsets(((0, 98), (0, 97))), ledger)
    assert report.sent == 1
    assert [k for k, _ in report.failed_keys] == [(dlq, 0, 98)]


def test_a_second_run_fences_the_first_and_nothing_is_sent_twice(kafka: Kafka, config: ClusterConfig) -> None:
    orig = kafka.create_topic(kafka.unique("orders"), partitions=2)
    dlq = kafka.create_topic(f"{orig}-dlq", partitions=1)
    count = 300
    send(kafka, dlq, [{"key": b"%d" % (i % 7), "value": b"%d" % i} for i in range(count)])
    ledger = MemoryLedger()
    started = threading.Event()
    reports = {}

    def slow() -> None:
        reports["a"] = run(
            config,
            dlq,
            OffsetRange(0, 0, count - 1),
            ledger,
            batch_size=10,
            rate_limit=100,
            on_progress=lambda p: started.set(),
        )

    first = threading.Thread(target=slow)
    first.start()
    assert started.wait(30)
    second = run(config, dlq, OffsetRange(0, 0, count - 1), ledger)
    first.join(60)
    a = reports["a"]
    assert a.stopped is not None and "another reprocess of this DLQ topic started" in a.stopped, a.stopped
    assert second.stopped is None
    assert a.sent + second.sent == count
    assert second.skipped_done + second.recovery.confirmed == a.sent
    assert_exactly_once(kafka, orig, dlq, count)
    assert len(ledger.done([(dlq, 0, o) for o in range(count)])) == count


class FailingLedger(MemoryLedger):
    def record_pending(self, entries) -> None:
        raise OSError("disk full")


def test_a_ledger_failure_aborts_the_batch_and_stops(kafka: Kafka, config: ClusterConfig) -> None:
    orig = kafka.create_topic(kafka.unique("orders"), partitions=1)
    dlq = kafka.create_topic(f"{orig}-dlq", partitions=1)
    send(kafka, dlq, [{"value": b"%d" % i} for i in range(5)])
    report = run(config, dlq, OffsetRange(0, 0, 4), FailingLedger())
    assert report.sent == 0
    assert report.stopped == "the ledger could not record the batch: OSError: disk full"
    assert read_all(kafka, orig) == []


# ----------------------------------------------------------------------------------------- crashes


def worker(kafka: Kafka, dlq: str, end: int, db: Path, run_id: str, batch: int, kill: str = "") -> subprocess.Popen:
    env = {**os.environ, "REPROCESS_WORKER_KILL": kill}
    args = [kafka.bootstrap, dlq, "0", "0", str(end), str(db), run_id, str(batch)]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.reprocess_worker", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    [line] = [line for line in out.splitlines() if line.startswith("report ")]
    return json.loads(line.removeprefix("report "))


def assert_exactly_once(kafka: Kafka, orig: str, dlq: str, count: int) -> None:
    origins = [reprocessed_from(r["headers"]) for r in read_all(kafka, orig)]
    assert len(origins) == count, f"{len(origins)} records in {orig}, expected {count}"
    assert set(origins) == {(dlq, 0, o) for o in range(count)}


def crash_topics(kafka: Kafka, count: int) -> tuple[str, str]:
    orig = kafka.create_topic(kafka.unique("orders"), partitions=3)
    dlq = kafka.create_topic(f"{orig}-dlq", partitions=1)
    p = kafka.producer(acks="all", **{"enable.idempotence": True, "linger.ms": 20})
    for i in range(count):
        p.produce(dlq, partition=0, key=str(i % 97).encode(), value=b"order-%d" % i, headers=spring(orig, i % 3, i))
        if i % 1000 == 0:
            p.poll(0)
    assert p.flush(60) == 0
    return orig, dlq


def test_sigkill_in_the_middle_then_rerun_is_exactly_once(kafka: Kafka, tmp_path: Path) -> None:
    count = 10_000
    orig, dlq = crash_topics(kafka, count)
    db = tmp_path / "ledger.db"

    first = worker(kafka, dlq, count - 1, db, "run-1", 200)
    killed_at = None
    assert first.stdout is not None
    for line in first.stdout:
        if line.startswith("progress ") and int(line.split()[1]) > 2000:
            first.send_signal(signal.SIGKILL)
            killed_at = int(line.split()[1])
            break
    first.wait(timeout=60)
    assert first.returncode == -signal.SIGKILL, first.stderr.read() if first.stderr else ""
    assert killed_at is not None and killed_at < count

    done_before = SqliteLedger(db).count_done()
    report = finish(worker(kafka, dlq, count - 1, db, "run-2", 200))
    recovered = report["recovery"]["confirmed"]
    assert report["sent"] == count - done_before - recovered
    assert report["skipped_done"] == done_before + recovered
    assert report["stopped"] is None and report["failed"] == 0

    assert SqliteLedger(db).count_done() == count
    assert SqliteLedger(db).pending() == []
    assert_exactly_once(kafka, orig, dlq, count)


@pytest.mark.parametrize(
    ("kill", "settled"),
    [("pending:3", "abandoned"), ("confirm:3", "confirmed")],
    ids=["after-record-pending", "after-commit-before-confirm"],
)
def test_sigkill_between_record_pending_and_confirm(kafka: Kafka, tmp_path: Path, kill: str, settled: str) -> None:
    count, batch = 1000, 100
    orig, dlq = crash_topics(kafka, count)
    db = tmp_path / "ledger.db"

    first = worker(kafka, dlq, count - 1, db, "run-1", batch, kill=kill)
    first.communicate(timeout=120)
    assert first.returncode == -signal.SIGKILL
    ledger = SqliteLedger(db)
    assert ledger.count_done() == 2 * batch
    assert len(ledger.pending()) == batch

    report = finish(worker(kafka, dlq, count - 1, db, "run-2", batch))
    assert report["recovery"][settled] == batch
    # Abandoned (aborted) records are sent again; confirmed ones are not.
    resent = batch if settled == "abandoned" else 0
    assert report["sent"] == count - 3 * batch + resent
    assert ledger.count_done() == count and ledger.pending() == []
    assert_exactly_once(kafka, orig, dlq, count)


# ---------------------------------------------------------------------------------- large values


def test_large_value_is_byte_exact_and_too_large_fails_alone(kafka: Kafka, config: ClusterConfig) -> None:
    orig = kafka.create_topic(kafka.unique("orders"), partitions=1, config=BIG_TOPIC)
    dlq = kafka.create_topic(f"{orig}-dlq", partitions=1, config=BIG_TOPIC)
    big = os.urandom(5 * 1024 * 1024)
    send(kafka, dlq, [{"key": b"big", "value": big}], **{"message.max.bytes": 11_000_000})
    report = run(config, dlq, OffsetRange(0, 0, 0))
    assert (report.sent, report.failed, report.errors) == (1, 0, [])
    deadline = time.monotonic() + 20  # a 5 MB fetch on a loaded machine can outlast one read's timeout
    result = read_records(config, orig, 0, FromOffset(0), limit=1, max_value_bytes=None, read_committed=True)
    while not result.records and time.monotonic() < deadline:
        result = read_records(config, orig, 0, FromOffset(0), limit=1, max_value_bytes=None, read_committed=True)
    assert result.records, result.error
    assert result.records[0].value == big
    assert reprocessed_from(result.records[0].headers) == (dlq, 0, 0)

    small = kafka.create_topic(kafka.unique("small"), partitions=1)  # the broker's default limit, ~1 MB
    small_dlq = kafka.create_topic(f"{small}-dlq", partitions=1, config=BIG_TOPIC)
    two_mb = os.urandom(2 * 1024 * 1024)
    send(kafka, small_dlq, [{"value": b"a"}, {"value": two_mb}, {"value": b"c"}], **{"message.max.bytes": 11_000_000})
    report = run(config, small_dlq, OffsetRange(0, 0, 2))
    assert (report.sent, report.failed, report.stopped) == (2, 1, None)
    [(key, reason)] = report.failed_keys
    assert key == (small_dlq, 0, 1)
    assert "max.message.bytes 1048588" in reason and small in reason
    assert [r["value"] for r in read_all(kafka, small)] == [b"a", b"c"]


def test_mixed_sizes_are_read_whole_in_bounded_batches(kafka: Kafka, config: ClusterConfig) -> None:
    orig = kafka.create_topic(kafka.unique("orders"), partitions=2, config=BIG_TOPIC)
    dlq = kafka.create_topic(f"{orig}-dlq", partitions=1, config=BIG_TOPIC)
    values = [os.urandom(n) for n in (10, 70_000, 5, 200_000, 1_500_000, 0, 65_536, 65_537)]
    send(
        kafka,
        dlq,
        [{"key": str(i).encode(), "value": v} for i, v in enumerate(values)],
        **{"message.max.bytes": 11_000_000},
    )
    report = run(config, dlq, OffsetRange(0, 0, len(values) - 1), batch_size=3)
    assert (report.sent, report.failed) == (len(values), 0)
    got = {reprocessed_from(r["headers"])[2]: r["value"] for r in read_all(kafka, orig)}  # type: ignore[index]
    assert got == dict(enumerate(values))


# ------------------------------------------------------------------------------------- rate limit


def test_rate_limit(kafka: Kafka, config: ClusterConfig) -> None:
    orig = kafka.create_topic(kafka.unique("orders"), partitions=1)
    dlq = kafka.create_topic(f"{orig}-dlq", partitions=1)
    send(kafka, dlq, [{"value": b"%d" % i} for i in range(200)])
    started = time.monotonic()
    report = run(config, dlq, OffsetRange(0, 0, 199), rate_limit=400)
    elapsed = time.monotonic() - started
    assert report.sent == 200
    assert elapsed >= 199 / 400, elapsed  # the 200th record leaves 199 intervals after the first
    assert elapsed < 10


# ------------------------------------------------------------------------------- reading in pages


def test_pages_across_committed_and_aborted_dlq_transactions(kafka: Kafka, config: ClusterConfig) -> None:
    """One long-lived read_committed reader, pages of 7 records: records of an aborted DLQ write are
    never sent, transaction markers count as not found, and every committed record arrives once."""
    orig = kafka.create_topic(kafka.unique("orders"), partitions=2)
    dlq = kafka.create_topic(f"{orig}-dlq", partitions=1)
    send(kafka, dlq, [{"value": b"plain-%d" % i} for i in range(30)])  # offsets 0-29
    p = kafka.producer(acks="all", **{"enable.idempotence": True, "transactional.id": kafka.unique("dlq-writer")})
    p.init_transactions(30)
    for name, records, commit in (("committed-a", 20, True), ("aborted", 15, False), ("committed-b", 20, True)):
        p.begin_transaction()
        for i in range(records):
            p.produce(dlq, partition=0, key=b"%d" % i, value=b"%s-%d" % (name.encode(), i))
        p.flush(30)
        if commit:
            p.commit_transaction(30)  # 20 records + a marker
        else:
            p.abort_transaction(30)  # 15 records + a marker, never readable committed
    send(kafka, dlq, [{"value": b"tail-%d" % i} for i in range(10)])
    end = 30 + 21 + 16 + 21 + 10
    committed = 30 + 20 + 20 + 10

    dry = plan(config, dlq, OffsetRange(0, 0, end - 1), targets=header_targets(dlq), ledger=MemoryLedger(), page_size=7)
    assert (dry.selected, dry.would_send, dry.not_found) == (end, committed, end - committed)

    report = run(config, dlq, OffsetRange(0, 0, end + 5), batch_size=7)
    assert (report.sent, report.failed, report.stopped, report.errors) == (committed, 0, None, [])
    assert report.not_found == end - committed
    assert report.notes == [f"offsets {end}-{end + 5} of partition 0 are beyond the end of the log ({end})"]
    values = sorted(r["value"] for r in read_all(kafka, orig))
    assert not any(v.startswith(b"aborted") for v in values)
    assert len(values) == len(set(values)) == committed


def test_a_run_reads_the_dlq_with_one_consumer(kafka: Kafka, config: ClusterConfig, monkeypatch) -> None:
    """No consumer per page: one reader for the whole run, and small records are never read twice."""
    from kafka_admin.records import read as records_read
    from kafka_admin.reprocess import reading, recovery
    from kafka_admin.reprocess import run as run_module

    orig = kafka.create_topic(kafka.unique("orders"), partitions=1)
    dlq = kafka.create_topic(f"{orig}-dlq", partitions=1)
    send(kafka, dlq, [{"key": b"%d" % i, "value": b"v%d" % i} for i in range(60)])
    created: list[dict] = []
    reads: list[tuple] = []

    class CountingConsumer(records_read.Consumer):
        def __init__(self, conf: dict) -> None:
            created.append(conf)
            super().__init__(conf)

    real_read = read_records
    for module in (records_read, run_module):  # every consumer the engine makes: the reader's and the group's
        monkeypatch.setattr(module, "Consumer", CountingConsumer)
    for module in (reading, recovery):  # every read_records of the engine: cut records read whole, settling
        monkeypatch.setattr(module, "read_records", lambda *a, **k: reads.append(a) or real_read(*a, **k))

    report = run(config, dlq, OffsetRange(0, 0, 59), batch_size=5)
    assert (report.sent, report.errors) == (60, [])
    assert len(created) == 1 and reads == []


def test_headers_builder_is_republish_headers() -> None:
    """The run's header builder (per-name decisions, added headers once per transaction) gives
    exactly what republish_headers gives, record by record."""
    from kafka_admin.reprocess.republish import RepublishHeaders

    at = datetime(2025, 1, 31, 12, 0, 0, 123000, tzinfo=UTC)
    samples = [
        [],
        spring("orders", 1, 5),
        project("orders"),
        [("trace", b"\x00"), *spring("orders"), ("dup", b"a"), ("dup", None), ("empty", b"")],
        [("kafka_dlt-something-new", b"x"), ("dlq.reprocessed.from.topic", b"old"), ("dlq.reprocessed.by", b"me")],
        [("na\u00efve-\u2603", b"\xff"), ("dlq.original.topicx", b"kept"), ("kafka_dlt", b"kept too")],
    ]
    for actor in ("tester", "J\u00f6rg"):
        build = RepublishHeaders("orders-dlq", actor)
        for partition in (0, 7):
            build.start(partition, at)
            for offset in (0, 9, 2**40):
                for headers in samples:
                    expected = republish_headers(
                        headers, dlq_topic="orders-dlq", partition=partition, offset=offset, actor=actor, at=at
                    )
                    assert build(tuple(headers), offset) == expected


def test_fenced_while_a_batch_is_on_its_way(kafka: Kafka, config: ClusterConfig) -> None:
    """Another run fences this one between produce and flush (while the next page is classified):
    the run stops with a message (never an exception), nothing of the batch becomes visible, and
    the next run sends every record exactly once."""
    orig = kafka.create_topic(kafka.unique("orders"), partitions=2)
    dlq = kafka.create_topic(f"{orig}-dlq", partitions=1)
    count = 30
    send(kafka, dlq, [{"key": b"%d" % i, "value": b"%d" % i} for i in range(count)])
    route = header_targets(dlq)
    rivals = []

    def targets(record, info):
        if record.offset == 10 and not rivals:  # page 2, read ahead while batch 0-9 is on its way
            rival = kafka.producer(**{"transactional.id": transactional_id_for(config.name, dlq)})
            rival.init_transactions(30)  # fences the run and aborts its open transaction
            rivals.append(rival)
        return route(record, info)

    ledger = MemoryLedger()
    report = run(config, dlq, OffsetRange(0, 0, count - 1), ledger, batch_size=10, targets=targets)
    assert rivals
    assert report.stopped is not None and "another reprocess of this DLQ topic started" in report.stopped
    assert report.sent == 0
    assert read_all(kafka, orig) == []

    again = run(config, dlq, OffsetRange(0, 0, count - 1), ledger)
    assert (again.sent, again.stopped, again.errors) == (count, None, [])
    assert_exactly_once(kafka, orig, dlq, count)


def test_a_partition_the_topic_no_longer_has_goes_by_key(kafka: Kafka, config: ClusterConfig) -> None:
    orig = kafka.create_topic(kafka.unique("orders"), partitions=3)
    dlq = kafka.create_topic(f"{orig}-dlq", partitions=1)
    records = [{"key": b"same-key", "value": str(i).encode(), "headers": spring(orig, 7, i)} for i in range(3)]
    records.append({"key": b"other", "value": b"x", "headers": spring(orig, 2, 9)})
    send(kafka, dlq, records)
    report = run(config, dlq, OffsetRange(0, 0, 3), actor="t")
    assert (report.sent, report.failed) == (4, 0)
    got = by_origin(read_all(kafka, orig))
    by_key = {got[(dlq, 0, o)][0]["partition"] for o in range(3)}
    assert len(by_key) == 1 and by_key <= {0, 1, 2}  # one partition, the partitioner's, for the key
    assert got[(dlq, 0, 3)][0]["partition"] == 2  # a partition it has: the header's
