"""Test helpers that talk to the real broker: a broker process, topics, producers, consumers.

Never a mock: these create real topics, write real records and commit real offsets, so the
numbers the dashboard reports are Apache Kafka's own.
"""

from __future__ import annotations

import base64
import os
import re
import socket
import subprocess
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from kafka_admin.config import ClusterConfig
from kafka_admin.offset_write import is_retriable
from kafka_admin.protocol.client import GroupProtocolClient

REPO = Path(__file__).resolve().parent.parent
KAFKA_SH = REPO / "scripts" / "kafka.sh"

# Topic config for records stamped long ago (2023, 1970): the broker's periodic retention check
# deletes records older than retention.ms (7 days by default), judged by their timestamps.
KEEP_OLD_RECORDS = {"retention.ms": "-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class BrokerProcess:
    """A broker started by scripts/kafka.sh for the test run (or an external one from the env)."""

    bootstrap: str
    data_dir: Path | None = None
    port: int | None = None
    controller_port: int | None = None

    @classmethod
    def start(cls, data_dir: Path, extra_properties: str = "") -> BrokerProcess:
        port, cport = free_port(), free_port()
        broker = cls(f"127.0.0.1:{port}", data_dir, port, cport)
        broker.up(extra_properties)
        return broker

    def env(self, extra_properties: str = "") -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            KAFKA_PORT=str(self.port),
            KAFKA_CONTROLLER_PORT=str(self.controller_port),
            KAFKA_DATA_DIR=str(self.data_dir),
            KAFKA_HEAP=os.environ.get("TEST_KAFKA_HEAP", "768m"),
        )
        if extra_properties:
            env["KAFKA_EXTRA_PROPERTIES"] = extra_properties
        return env

    def up(self, extra_properties: str = "") -> None:
        result = subprocess.run(
            ["bash", str(KAFKA_SH), "up"], env=self.env(extra_properties), capture_output=True, text=True, timeout=300
        )
        if result.returncode != 0:
            raise RuntimeError(f"kafka.sh up failed:\n{result.stdout}\n{result.stderr}")

    def down(self) -> None:
        if self.data_dir is None:
            return
        subprocess.run(["bash", str(KAFKA_SH), "down"], env=self.env(), capture_output=True, text=True, timeout=120)

    def tool(self, name: str, *args: str, timeout: float = 120) -> str:
        """Run one of Kafka's own CLI tools against this broker and return its stdout."""
        result = subprocess.run(
            ["bash", str(KAFKA_SH), "tool", name, "--bootstrap-server", self.bootstrap, *args],
            env=self.env() if self.data_dir else dict(os.environ),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{name} failed ({result.returncode}):\n{result.stderr}")
        return result.stdout

    def config(self, **overrides) -> ClusterConfig:
        base = {"name": "test", "bootstrap_servers": self.bootstrap, "request_timeout_s": 10.0, "cycle_timeout_s": 30.0}
        base.update(overrides)
        return ClusterConfig(**base)


def start_second_broker(first: BrokerProcess, data_dir: Path) -> BrokerProcess:
    """A broker-only node 2 in the KRaft cluster of `first` (which must have been started here),
    returned once the cluster's metadata lists it.

    Why: two brokers lead partitions and coordinate groups of their own (requests that go once
    per broker, bench_scale.py's W5), and two processes have two open-file limits (a broker
    keeps one file per partition: bench_snapshot.py's W3). Its storage is formatted here with
    the first node's cluster id; scripts/kafka.sh formats only a data dir without meta.properties.
    """
    meta = (first.data_dir / "kraft-logs" / "meta.properties").read_text()
    cluster_id = re.search(r"^cluster\.id=(\S+)", meta, re.M).group(1)
    logs = data_dir / "kraft-logs"
    logs.mkdir(parents=True, exist_ok=True)
    directory_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    meta = f"version=1\ncluster.id={cluster_id}\nnode.id=2\ndirectory.id={directory_id}\n"
    (logs / "meta.properties").write_text(meta)
    port = free_port()
    second = BrokerProcess(f"127.0.0.1:{port}", data_dir, port, free_port())
    second.up(
        "\n".join(
            [
                "process.roles=broker",
                "node.id=2",
                f"controller.quorum.voters=1@127.0.0.1:{first.controller_port}",
                f"listeners=PLAINTEXT://127.0.0.1:{port}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
            ]
        )
    )
    admin = AdminClient({"bootstrap.servers": first.bootstrap, "log_level": 0})
    deadline = time.monotonic() + 60
    while len(admin.list_topics(timeout=10).brokers) < 2:
        if time.monotonic() > deadline:
            second.down()
            raise TimeoutError("the second broker never registered")
        time.sleep(0.3)
    return second


@dataclass
class BrokerPair:
    """Two brokers in one KRaft cluster: node 1 (controller and broker) and a broker-only node 2.

    Quacks like a BrokerProcess where the benchmarks and tests use one (bootstrap, config, tool,
    down); Kafka's CLI tools go through node 1 and find node 2 from there.
    """

    first: BrokerProcess
    second: BrokerProcess

    @classmethod
    def start(cls, data_dir: Path) -> BrokerPair:
        first = BrokerProcess.start(data_dir / "node1")
        try:
            return cls(first, start_second_broker(first, data_dir / "node2"))
        except BaseException:
            first.down()
            raise

    @property
    def bootstrap(self) -> str:
        return f"{self.first.bootstrap},{self.second.bootstrap}"

    def config(self, **overrides) -> ClusterConfig:
        return self.first.config(**{"bootstrap_servers": self.bootstrap, **overrides})

    def tool(self, name: str, *args: str, timeout: float = 120) -> str:
        return self.first.tool(name, *args, timeout=timeout)

    def down(self) -> None:
        """Node 2 first: a broker's orderly shutdown asks the controller on node 1."""
        self.second.down()
        self.first.down()


def commit_and_confirm(consumer: Consumer, offsets: list[TopicPartition], timeout: float = 60) -> None:
    """A synchronous commit that returns only once committed() reads these offsets back.

    A busy or freshly started broker answers a commit with NOT_COORDINATOR or
    COORDINATOR_LOAD_IN_PROGRESS while the group's coordinator moves or loads: those (what
    kafka_admin.offset_write calls retriable) are tried again with a growing pause; any other
    error is raised. A TimeoutError names what was last seen when Kafka never held the offsets.
    """
    wanted = {(tp.topic, tp.partition): tp.offset for tp in offsets}
    deadline = time.monotonic() + timeout
    pause = 0.1
    while True:
        try:
            consumer.commit(offsets=offsets, asynchronous=False)
            read = consumer.committed([TopicPartition(t, p) for t, p in wanted], timeout=10)
            held = {(tp.topic, tp.partition): tp.offset for tp in read if tp.error is None}
            if held == wanted:
                return
            seen = f"committed() read {held}"
        except KafkaException as exc:
            if not is_retriable(exc.args[0]):
                raise
            seen = str(exc.args[0])
        if time.monotonic() > deadline:
            raise TimeoutError(f"Kafka does not hold the offsets {wanted} after {timeout:.0f} s: {seen}")
        time.sleep(pause)
        pause = min(1.0, pause * 2)


def commit_consumed(consumer: Consumer, messages: Iterable) -> None:
    """Commit what a consumer has consumed (the offset after each partition's last message), confirmed."""
    after: dict[tuple[str, int], int] = {}
    for msg in messages:
        key = (msg.topic(), msg.partition())
        after[key] = max(after.get(key, 0), msg.offset() + 1)
    commit_and_confirm(consumer, [TopicPartition(t, p, o) for (t, p), o in sorted(after.items())])


class Kafka:
    """Convenience calls on a broker for tests: unique names, topics, records, offsets."""

    def __init__(self, broker: BrokerProcess) -> None:
        self.broker = broker
        self.bootstrap = broker.bootstrap
        self.admin = AdminClient({"bootstrap.servers": self.bootstrap})

    @staticmethod
    def unique(prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:8]}"

    def create_topic(self, name: str | None = None, partitions: int = 3, config: dict | None = None) -> str:
        name = name or self.unique("topic")
        futures = self.admin.create_topics([NewTopic(name, partitions, 1, config=config or {})], request_timeout=30)
        futures[name].result(timeout=30)
        self.wait_for_topic(name, partitions)
        return name

    def wait_for_topic(self, name: str, partitions: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            md = self.admin.list_topics(name, timeout=5)
            topic = md.topics.get(name)
            if (
                topic
                and topic.error is None
                and len(topic.partitions) == partitions
                and all(p.leader >= 0 for p in topic.partitions.values())
            ):
                return
            time.sleep(0.1)
        raise TimeoutError(f"topic {name} not ready")

    def producer(self, **conf) -> Producer:
        return Producer({"bootstrap.servers": self.bootstrap, "linger.ms": 5, **conf})

    def produce(
        self,
        topic: str,
        count: int,
        partition: int | None = None,
        value: bytes = b"v",
        key: bytes | None = None,
        headers: list | None = None,
    ) -> None:
        """Write `count` records (to one partition when given) and wait until all are acknowledged."""
        p = self.producer(acks="all")
        errors: list[str] = []

        def on_delivery(err, msg) -> None:
            if err is not None:
                errors.append(str(err))

        for _ in range(count):
            kwargs = {"value": value, "key": key, "headers": headers, "on_delivery": on_delivery}
            if partition is not None:
                kwargs["partition"] = partition
            p.produce(topic, **kwargs)
            p.poll(0)
        remaining = p.flush(30)
        if remaining or errors:
            raise RuntimeError(f"produce failed: {remaining} unsent, errors {errors[:3]}")

    def consumer(self, group: str, **conf) -> Consumer:
        """A consumer with test-friendly defaults; a key given as None removes that default."""
        settings = {
            "bootstrap.servers": self.bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 500,
            **conf,
        }
        return Consumer({k: v for k, v in settings.items() if v is not None})

    def commit(self, group: str, offsets: Iterable[tuple[str, int, int]], timeout: float = 60) -> None:
        """Commit exact offsets for a group without joining it (a simple, memberless commit), and
        return once Kafka holds them (see commit_and_confirm)."""
        c = self.consumer(group)
        try:
            commit_and_confirm(c, [TopicPartition(t, p, o) for t, p, o in offsets], timeout)
        finally:
            c.close()

    @contextmanager
    def live_consumer(self, group: str, topics: list[str], **conf) -> Iterator[Consumer]:
        """A subscribed consumer that has joined the group and holds an assignment."""
        c = self.consumer(group, **conf)
        c.subscribe(topics)
        deadline = time.monotonic() + 30
        while not c.assignment() and time.monotonic() < deadline:
            c.poll(0.2)
        if not c.assignment():
            c.close()
            raise TimeoutError(f"consumer in {group} got no assignment")
        try:
            yield c
        finally:
            c.close()

    def consume(self, c: Consumer, count: int, timeout: float = 30) -> list:
        got: list = []
        deadline = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < deadline:
            msg = c.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                raise KafkaException(msg.error())
            got.append(msg)
        return got


def seed_commits(
    config: ClusterConfig, commits: dict[str, dict[str, dict[int, int]]], timeout: float = 60, threads: int = 4
) -> None:
    """Commit offsets for many memberless groups fast: FindCoordinator many groups a request, then
    one OffsetCommit per group over the codec's connections, in a few threads, retrying the
    coordinator answers of a busy broker. Returns once every group's OffsetCommit succeeded;
    read back what matters (a fresh broker can answer before it stores: commit_and_confirm)."""
    groups = sorted(commits)
    shards = [groups[i::threads] for i in range(threads)]
    deadline = time.monotonic() + timeout

    def run(shard: list[str]) -> None:
        client = GroupProtocolClient(config)
        try:
            left = list(shard)
            while left:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{len(left)} groups not committed, e.g. {left[:3]}")
                client.brokers(10)
                found, _ = client.coordinators(left, 10)
                retry = [g for g in left if g not in found]
                for g in left:
                    if g in found and client.commit_offsets(found[g], g, commits[g], 10):
                        retry.append(g)
                if retry:
                    time.sleep(0.2)
                left = retry
        finally:
            client.close()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(run, shards))


def terminate(proc: subprocess.Popen, grace_s: float = 30) -> None:
    """SIGTERM, a clean shutdown for `grace_s` (a loaded machine needs more than a quiet one), then kill."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def end_by_stdin(proc: subprocess.Popen, grace_s: float) -> None:
    """Stop a test's child program the way they all listen for: close its stdin, let it shut down
    cleanly for `grace_s`, then kill it."""
    if proc.poll() is not None:
        return
    if proc.stdin is not None:
        proc.stdin.close()
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
