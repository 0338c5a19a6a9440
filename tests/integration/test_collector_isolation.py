"""The poller's broker reads in a supervised child against the real broker: the same snapshots as
in-process, and a child killed (SIGKILL, SIGABRT) is counted, shown and replaced, with fresh data after."""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.test import Client

from dashboard.poller.loop import Poller
from dashboard.state import store
from kafka_admin.isolation.remote import RemoteBroker
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
