"""A slow and flaky network between the dashboard and the broker, made by the tests' own TCP proxy.

Every client connection of the code under test crosses the proxy (the broker advertises the proxy's
port on the listener it bootstraps from, see tests/faults/support.py). Whatever the proxy does, no
poll cycle runs past its configured cycle timeout (plus a small margin for thread scheduling), no
exception escapes, a partial snapshot says what it is missing, and the next cycle recovers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from kafka_admin.collect import SnapshotCollector, collect_snapshot
from kafka_admin.config import ClusterConfig
from kafka_admin.model import ClusterSnapshot
from tests.faults.support import ProxiedBroker, commit
from tests.kafka_support import Kafka

pytestmark = pytest.mark.broker

REQUEST_TIMEOUT = 2.0
CYCLE_TIMEOUT = 6.0
MARGIN = 2.0  # thread scheduling on a busy CI machine; far below one more request timeout of slack
GROUPS = 4


@pytest.fixture(scope="module")
def setup(fault_broker: ProxiedBroker) -> dict[str, Any]:
    kafka = Kafka(fault_broker.broker)
    topic = kafka.create_topic(partitions=3)
    kafka.produce(topic, 30)
    groups = [kafka.unique("flaky-group") for _ in range(GROUPS)]
    for i, group in enumerate(groups):
        commit(kafka, group, [(topic, 0, i), (topic, 1, i)])
    dlq = kafka.create_topic(kafka.unique("flaky") + "-dlq", partitions=3)
    kafka.produce(dlq, 30)
    return {"topic": topic, "groups": groups, "dlq": dlq}


@pytest.fixture
def proxy(fault_broker: ProxiedBroker) -> Iterator:
    fault_broker.proxy.reset()
    yield fault_broker.proxy
    fault_broker.proxy.reset()
    fault_broker.proxy.drop_all()  # no stalled connection leaks into the next test


@pytest.fixture
def config(fault_broker: ProxiedBroker) -> ClusterConfig:
    return ClusterConfig(
        name="flaky",
        bootstrap_servers=fault_broker.proxied,
        request_timeout_s=REQUEST_TIMEOUT,
        cycle_timeout_s=CYCLE_TIMEOUT,
    )


class HookedAdmin:
    """The collector's AdminClient, with a callback run just before one of its methods (to time a fault)."""

    def __init__(self, admin: Any, method: str, before: Any) -> None:
        self._admin, self._method, self._before = admin, method, before

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._admin, name)
        if name != self._method:
            return attr

        def hooked(*args: Any, **kwargs: Any) -> Any:
            self._before()
            return attr(*args, **kwargs)

        return hooked


def timed(fn: Any) -> tuple[Any, float]:
    started = time.monotonic()
    result = fn()
    return result, time.monotonic() - started


def complete(snapshot: ClusterSnapshot, setup: dict[str, Any]) -> bool:
    names = {g.group_id for g in snapshot.groups}
    return snapshot.reachable and not snapshot.errors and set(setup["groups"]) <= names


def recovers(collector: SnapshotCollector, setup: dict[str, Any], cycles: int = 4) -> ClusterSnapshot:
    """The next cycles (a reconnect may cost one) give a complete snapshot again."""
    for _ in range(cycles):
        snapshot, elapsed = timed(collector.collect)
        assert elapsed <= CYCLE_TIMEOUT + MARGIN
        if complete(snapshot, setup):
            return snapshot
        time.sleep(0.5)
    raise AssertionError(f"no complete snapshot in {cycles} cycles after the fault: {snapshot.errors}")


def test_latency_slows_cycles_but_they_complete(setup, proxy, config):
    baseline, fast = timed(lambda: collect_snapshot(config))
    assert complete(baseline, setup), baseline.errors
    proxy.latency_s = 0.15  # each way: 300 ms more per round trip
    snapshot, slow = timed(lambda: collect_snapshot(config))
    assert complete(snapshot, setup), snapshot.errors
    assert slow > fast + 0.3 * 2, (fast, slow)  # at least a few round trips were slower
    assert slow <= CYCLE_TIMEOUT + MARGIN
    lag = {g.group_id: g.total_lag for g in snapshot.groups}
    assert lag == {g.group_id: g.total_lag for g in baseline.groups if g.group_id in lag}


@pytest.mark.parametrize("before", ["list_topics", "list_offsets", "describe_consumer_groups"])
def test_stall_mid_response_gives_a_bounded_partial_snapshot(setup, proxy, config, before):
    collector = SnapshotCollector(config)
    assert complete(collector.collect(), setup)
    # Responses stop a few bytes into the next answer, for longer than any timeout.
    collector._admin = HookedAdmin(collector._admin, before, lambda: proxy.stall(30, after_bytes=7))
    snapshot, elapsed = timed(collector.collect)
    assert proxy.stalled, "the fault was not in effect"
    assert elapsed <= CYCLE_TIMEOUT + MARGIN, f"the cycle took {elapsed:.1f} s"
    assert snapshot.errors, "a partial snapshot must say what is missing"
    for error in snapshot.errors:
        assert error.scope and error.name and error.message
    if snapshot.reachable:  # the cluster answered first: the snapshot says which parts are missing
        assert {e.scope for e in snapshot.errors} & {"topics", "watermarks", "partition", "groups", "group"}
    collector._admin = collector._admin._admin
    proxy.reset()
    recovers(collector, setup)


def test_stall_from_the_first_byte_marks_the_cluster_unreachable_in_time(setup, proxy, config):
    proxy.stall(30)
    snapshot, elapsed = timed(lambda: collect_snapshot(config))
    assert not snapshot.reachable and elapsed <= REQUEST_TIMEOUT + MARGIN
    assert snapshot.errors[0].scope == "cluster" and "unreachable" in snapshot.errors[0].message


def test_dropped_connections_are_recorded_and_the_next_cycle_recovers(setup, proxy, config):
    collector = SnapshotCollector(config)
    assert complete(collector.collect(), setup)

    # Every connection is cut after a few hundred bytes: nothing but the smallest answers get through.
    proxy.drop_every_bytes = 300
    snapshot, elapsed = timed(collector.collect)
    assert elapsed <= CYCLE_TIMEOUT + MARGIN
    assert snapshot.errors and all(e.message for e in snapshot.errors)
    assert proxy.dropped > 0
    proxy.reset()
    recovers(collector, setup)

    # All connections dropped in the middle of a cycle (librdkafka may retry; nothing may escape).
    collector._admin = HookedAdmin(collector._admin, "list_offsets", proxy.drop_all)
    proxy.latency_s = 0.05
    snapshot, elapsed = timed(collector.collect)
    assert elapsed <= CYCLE_TIMEOUT + MARGIN
    assert snapshot.reachable and (complete(snapshot, setup) or snapshot.errors)
    collector._admin = collector._admin._admin
    proxy.reset()
    recovers(collector, setup)


@pytest.mark.django_db
def test_poller_cycle_never_runs_past_the_cycle_timeout(setup, proxy, config, fault_broker, settings):
    """The whole poller cycle (collect, topic configs, DLQ index, history, alerts) keeps the cycle timeout."""
    from django.core.cache import cache

    from dashboard.models import DlqRecord
    from dashboard.poller import Poller

    cache.clear()
    poller = Poller(config, 1.0)
    poller._collector = SnapshotCollector(config)
    # The collection itself goes through; the broker stalls right after it (topic configs, DLQ index).
    poller._collector._admin = HookedAdmin(poller._collector._admin, "describe_configs", lambda: proxy.stall(30))
    snapshot, elapsed = timed(poller.cycle)
    assert snapshot.reachable and proxy.stalled
    assert elapsed <= CYCLE_TIMEOUT + MARGIN, f"the poller cycle took {elapsed:.1f} s"

    # Stalled from the first byte, every cycle: each one still ends in time, none raises.
    poller._collector._admin = poller._collector._admin._admin
    proxy.stall(30)
    for _ in range(2):
        snapshot, elapsed = timed(poller.cycle)
        assert elapsed <= CYCLE_TIMEOUT + MARGIN, f"the poller cycle took {elapsed:.1f} s"

    proxy.reset()
    proxy.drop_all()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        snapshot = poller.cycle()
        if complete(snapshot, setup) and DlqRecord.objects.filter(topic=setup["dlq"]).count() == 30:
            break
        time.sleep(0.5)
    assert complete(snapshot, setup), snapshot.errors
    assert DlqRecord.objects.filter(topic=setup["dlq"]).count() == 30  # the DLQ index caught up after the stall


def test_proxy_carries_every_connection(setup, proxy, config, fault_broker):
    """The setup itself: the broker advertises the proxy, so no client connection bypasses it."""
    before = proxy.accepted
    snapshot = collect_snapshot(config)
    assert complete(snapshot, setup)
    assert [b.port for b in snapshot.brokers] == [fault_broker.proxy.port]
    assert proxy.accepted > before
