"""The poller's broker reads in a supervised child against the real broker: the same snapshots as
in-process, handed over as deltas that rebuild exactly what the child collected, and a child killed
(SIGKILL, SIGABRT) is counted, shown and replaced, with fresh data after."""

from __future__ import annotations

import contextlib
import os
import signal
import time

import pytest
from django.test import Client

from dashboard.poller.loop import Poller
from dashboard.state import store
from kafka_admin.isolation.remote import RemoteBroker
from kafka_admin.isolation.supervisor import WorkerFailed
from kafka_admin.snapshot.model import ClusterSnapshot
from tests.faults.support import metric

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def fresh_cycle(poller: Poller, after: float, timeout: float = 40):
    """Cycles until one returns a reachable snapshot collected after `after` (time.time())."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snapshot = poller.cycle()
        if snapshot is not None and snapshot.reachable and snapshot.collected_at.timestamp() > after:
            return snapshot
        time.sleep(0.2)
    raise AssertionError("no fresh snapshot after the crash")


@pytest.fixture
def poller(dashboard_cluster):
    p = Poller(dashboard_cluster, 1.0, isolated=True)
    yield p
    p.close()


def test_the_child_collects_what_the_process_would(kafka, dashboard_cluster, poller):
    topic = kafka.create_topic(partitions=2)
    kafka.produce(topic, 20, partition=0)
    group = kafka.unique("isolated")
    kafka.commit(group, [(topic, 0, 5)])
    here = Poller(dashboard_cluster, 1.0, isolated=False)
    try:
        local = here.cycle()
    finally:
        here.close()
    child = poller.cycle()
    assert isinstance(poller.broker, RemoteBroker) and poller.broker.supervisor.pid != os.getpid()
    assert child is not None and child.reachable and not child.errors
    lag = {g.group_id: g.total_lag for g in child.groups}
    assert lag[group] == 15 == {g.group_id: g.total_lag for g in local.groups}[group]
    assert {t.name for t in child.topics} >= {topic}


def test_deltas_rebuild_exactly_what_the_child_collected(kafka, dashboard_cluster):
    """Each cycle's rebuilt snapshot equals the child's own (sent whole on request) while groups commit,
    appear and a topic is written to; unchanged groups stay the parent's objects; a new child sends whole."""
    topic = kafka.create_topic(partitions=2)
    kafka.produce(topic, 10, partition=0)
    steady, moving, late = kafka.unique("delta-steady"), kafka.unique("delta-moving"), kafka.unique("delta-late")
    kafka.commit(steady, [(topic, 1, 0)])
    kafka.commit(moving, [(topic, 0, 1)])
    remote = RemoteBroker(dashboard_cluster)

    def cycle_until(done) -> ClusterSnapshot:
        deadline = time.monotonic() + 40
        while True:
            snapshot = remote.collect()
            assert snapshot == remote.supervisor.call("last_snapshot", answer_within_s=30).snapshot
            if done(snapshot) or time.monotonic() > deadline:
                assert done(snapshot), "the change never showed"
                return snapshot
            time.sleep(0.2)

    def committed(snapshot: ClusterSnapshot, group: str) -> int | None:
        g = snapshot.group(group)
        return next((o.committed for o in g.offsets if o.partition == 0), None) if g else None

    try:
        before = cycle_until(lambda s: committed(s, moving) == 1 and s.group(steady) is not None)
        for n in (2, 3):
            kafka.commit(moving, [(topic, 0, n)])
            kafka.produce(topic, 1, partition=0)
            after = cycle_until(lambda s, n=n: committed(s, moving) == n)
            assert after.group(steady) is before.group(steady)  # unchanged: the parent's own object
            before = after
        kafka.commit(late, [(topic, 0, 4)])
        cycle_until(lambda s: committed(s, late) == 4)
        assert remote.receiver.fulls == 1 and remote.receiver.deltas >= 3
        os.kill(remote.supervisor.pid, signal.SIGKILL)
        deadline = time.monotonic() + 40
        while remote.receiver.fulls == 1:  # a new child: its first snapshot comes whole
            with contextlib.suppress(WorkerFailed):
                cycle_until(lambda s: True)
            assert time.monotonic() < deadline, "no snapshot from a new child"
            time.sleep(0.2)
        assert remote.receiver.fulls == 2 and remote.supervisor.health.total == 1
        cycle_until(lambda s: committed(s, late) == 4)
    finally:
        remote.close()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGABRT])
def test_a_killed_collector_is_restarted_counted_and_shown(kafka, poller, sig):
    group = kafka.unique("crash")
    topic = kafka.create_topic(partitions=1)
    kafka.produce(topic, 10, partition=0)
    kafka.commit(group, [(topic, 0, 3)])
    first = poller.cycle()
    assert first is not None and first.reachable
    pid = poller.broker.supervisor.pid
    os.kill(pid, sig)
    killed_at = time.time()

    assert fresh_cycle(poller, killed_at) is not None  # a new child, fresh data
    assert poller.broker.supervisor.pid not in (None, pid)
    name = signal.Signals(sig).name
    health = store.collector_health("test")
    assert health is not None and health.restarts == {name: 1} and health.last.cause == name

    client = Client()
    client.force_login(_viewer())
    page = client.get("/c/test/")
    assert page.status_code == 200
    assert "collector restarted" in page.content.decode() and f"({name})" in page.content.decode()
    scrape = client.get("/metrics").content.decode()
    assert metric(scrape, "kafka_dashboard_collector_restarts_total", cluster="test", cause=name) == 1.0


def _viewer():
    from django.contrib.auth.models import User

    user, _ = User.objects.get_or_create(username="isolation-viewer")
    return user
