"""Running the demo: where it may run (loopback only), its workers in start order, each in a
supervised thread that restarts it with backoff, until the stop flag is set."""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from confluent_kafka import KafkaException

from kafka_admin.config import ClusterConfig
from kafka_admin.demo.clients import describe_error, ensure_topics
from kafka_admin.demo.consumers import at_least_once, at_most_once, exactly_once, slow, stopped
from kafka_admin.demo.dead_letters import dlq_writer
from kafka_admin.demo.producers import produce_steadily
from kafka_admin.demo.schema_topics import produce_schema_topics
from kafka_admin.demo.workload import (
    DEFAULT_STATE_DIR,
    GROUP_AT_LEAST_ONCE,
    GROUP_AT_MOST_ONCE,
    GROUP_EXACTLY_ONCE,
    GROUP_ORDER_PROCESSOR,
    GROUP_SLOW,
    GROUP_STOPPED,
    ORDERS,
    ORDERS_DLQ,
    ORDERS_ENRICHED,
    PAYMENTS,
    RATES,
    RESTART_MAX_S,
    RESTART_MIN_S,
    SHIPMENTS,
    SLOW_RATE,
    STATE_DIR_ENV,
    Log,
    Worker,
    WorkerSpec,
    WorkerStats,
)

logger = logging.getLogger(__name__)


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


def demo_workers(rate_scale: float = 1.0) -> list[WorkerSpec]:
    """The demo's workers, in start order: producers first, so the consumers find data."""

    def producer_spec(topic: str) -> WorkerSpec:
        rate = RATES[topic] * rate_scale
        return WorkerSpec(f"produce-{topic}", f"{rate:g} msg/s to {topic}", lambda w: produce_steadily(w, topic, rate))

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
        # Without a schema registry configured it returns at once (one_shot: not restarted).
        WorkerSpec(
            "produce-schema-topics", "Avro and Protobuf topics (with a registry)", produce_schema_topics, one_shot=True
        ),
    ]


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
            w.stats.last_error = describe_error(exc)
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
            log(f"cannot create the demo topics: {describe_error(exc)}; retrying in {backoff:g} s")
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
    # The README's walk-through says `touch var/demo/bug-fixed`: the folder must exist from the start.
    state.mkdir(parents=True, exist_ok=True)
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


def summarize(stats: Sequence[WorkerStats]) -> list[str]:
    """One line per worker, for the end of a run."""
    return [s.summary() for s in stats]
