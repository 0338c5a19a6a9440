"""Shared pieces of the benchmarks: a broker, a workload seeder, timing helpers.

Benchmarks report ratios measured in the same run (absolute times on a shared 2-core machine
are noise), and print one JSON line of results for bench/RESULTS.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from confluent_kafka import (  # noqa: E402
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from tests.kafka_support import BrokerProcess, Kafka  # noqa: E402


def start_broker(data_dir: Path) -> BrokerProcess:
    external = os.environ.get("TEST_KAFKA_BOOTSTRAP_SERVERS")
    if external:
        return BrokerProcess(external)
    return BrokerProcess.start(data_dir)


def name_prefix() -> str:
    """Prefix for topic and group names: none on a broker of our own, a unique one on a broker
    from TEST_KAFKA_BOOTSTRAP_SERVERS (so a second run does not trip over the first one's topics)."""
    return f"b{uuid.uuid4().hex[:6]}-" if os.environ.get("TEST_KAFKA_BOOTSTRAP_SERVERS") else ""


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


def prepare_database(env: dict[str, str]) -> str:
    """Migrate the server's database and create the bench's operator; its password (printed once)."""
    from tests.faults.support import prepare_database as migrate_with_operator

    return migrate_with_operator(env, "bench").password


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


# ---------------------------------------------------------------- larger workloads (bench_snapshot, bench_fanout)


def commit_offsets(
    bootstrap: str, commits: Sequence[tuple[str, Sequence[tuple[str, int, int]]]], in_flight: int = 50
) -> None:
    """Commit (topic, partition, offset) lists for many groups with AlterConsumerGroupOffsets, `in_flight`
    requests at a time, retrying groups whose commit failed (right after a broker starts, the
    group coordinator is still loading). Much faster than seed_groups (no consumer per group);
    the groups are the same memberless "Empty" classic groups a plain consumer commit creates."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    todo = {gid: offsets for gid, offsets in commits}
    for attempt in range(10):
        failed: dict[str, str] = {}
        pending: dict[Future, str] = {}

        def settle(futures: Iterable[Future], failed: dict[str, str] = failed, pending: dict = pending) -> None:
            for fut in futures:
                gid = pending.pop(fut)
                try:
                    result = fut.result()
                except KafkaException as exc:
                    failed[gid] = str(exc)
                    continue
                errors = [tp.error for tp in result.topic_partitions if tp.error is not None]
                if errors:
                    failed[gid] = str(errors[0])

        for gid, offsets in todo.items():
            request = ConsumerGroupTopicPartitions(gid, [TopicPartition(t, p, o) for t, p, o in offsets])
            for fut in admin.alter_consumer_group_offsets([request], request_timeout=60).values():
                pending[fut] = gid
            if len(pending) >= in_flight:
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                settle(done)
        settle(list(pending))
        if not failed:
            return
        todo = {gid: todo[gid] for gid in failed}
        time.sleep(0.5 * (attempt + 1))
    raise RuntimeError(f"{len(failed)} group commits failed, e.g. {next(iter(failed.values()))}")


def create_topics(bootstrap: str, partitions_by_name: dict[str, int], timeout: float = 300) -> None:
    """Create topics (replication factor 1), one request each (KRaft caps the records of one
    operation at 10,000), and wait until every partition has a leader."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    for name, n in partitions_by_name.items():
        futures = admin.create_topics([NewTopic(name, n, 1)], request_timeout=timeout, operation_timeout=timeout)
        futures[name].result(timeout=timeout)
    deadline = time.monotonic() + timeout
    for name, n in partitions_by_name.items():
        while True:
            topic = admin.list_topics(name, timeout=30).topics.get(name)
            ready = topic and topic.error is None and len(topic.partitions) == n
            if ready and all(p.leader >= 0 for p in topic.partitions.values()):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"topic {name} not ready")
            time.sleep(0.2)


def fill_partitions(bootstrap: str, partitions_by_name: dict[str, int], records: int, every: int = 1) -> None:
    """`records` small records into every partition (every `every`-th) of the topics, with one producer."""
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 50,
            "batch.num.messages": 10_000,
            "queue.buffering.max.messages": 2_000_000,
            "log_level": 3,
        }
    )
    for name, n in partitions_by_name.items():
        for p in range(0, n, every):
            for _ in range(records):
                producer.produce(name, b"v", partition=p)
        producer.poll(0)
    left = producer.flush(300)
    if left:
        raise RuntimeError(f"{left} records not delivered")


def kill_broker(broker: BrokerProcess) -> None:
    """Stop a broker this benchmark started and whose data it throws away: SIGKILL, no orderly
    shutdown (with 10,000 partitions that takes over 30 s). Brokers from the environment are left alone."""
    if broker.data_dir is None:
        return
    pidfile = broker.data_dir / "kafka.pid"
    with contextlib.suppress(OSError, ValueError):
        pid = int(pidfile.read_text().strip())
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    broker.down()  # now only tidies up (the pid is gone)


class LiveMembers:
    """Real consumers that join groups and keep polling, in a separate process so that their
    librdkafka threads do not count in the measuring process's CPU time. See live_members.py."""

    def __init__(self, bootstrap: str, members: list[dict]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("live_members.py")), bootstrap, json.dumps(members)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            self.stop()
            raise RuntimeError(f"live members did not start: {line!r}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()  # the helper exits when its stdin closes
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (all threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> dict[str, object]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = found.group(1).strip() if found else cpu
    mem_kb = 0
    with contextlib.suppress(OSError):
        mem_kb = int(re.search(r"^MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text(), re.M).group(1))
    return {
        "cpus": os.cpu_count(),
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu_model": cpu,
        "python": sys.version.split()[0],
        "kernel": platform.release(),
    }
