"""A broker that goes away: stale banner, last good data kept, pages answer; recovery by itself."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse

from dashboard.clusters import configured_clusters
from dashboard.poller.loop import Poller
from dashboard.state import store
from tests.kafka_support import BrokerProcess, Kafka

pytestmark = [pytest.mark.broker, pytest.mark.django_db]

INTERVAL = 1.0


@pytest.fixture
def own_broker(tmp_path):
    """A broker of this test's own, so stopping it disturbs nobody else."""
    broker = BrokerProcess.start(tmp_path / "kafka")
    yield broker
    broker.down()


def test_stale_banner_then_recovery(own_broker, monkeypatch, client):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", own_broker.bootstrap)
    monkeypatch.setenv("KAFKA_CLUSTER_NAME", "flaky")
    monkeypatch.setenv("KAFKA_REQUEST_TIMEOUT", "2")
    configured_clusters.cache_clear()
    cache.clear()
    try:
        kafka = Kafka(own_broker)
        topic = kafka.create_topic(partitions=1)
        kafka.produce(topic, 5, partition=0)
        kafka.commit("stale-group", [(topic, 0, 1)])
        poller = Poller(configured_clusters()["flaky"], INTERVAL)
        assert poller.cycle().reachable
        client.force_login(get_user_model().objects.create_user("watcher", password="pw-watcher-123"))

        own_broker.down()
        started = time.monotonic()
        snap = poller.cycle()
        assert not snap.reachable and time.monotonic() - started < 5
        state = store.state("flaky")
        assert state.stale and state.snapshot is not None and state.snapshot.reachable
        page = client.get(reverse("group", args=["flaky", "stale-group"]))
        html = page.content.decode()
        assert page.status_code == 200
        assert "unreachable" in html and "last good data" in html
        assert 'data-testid="group-lag">4<' in html  # the last good numbers stay on screen
        assert poller.next_delay() <= 2 * INTERVAL

        own_broker.up()
        recovered_after = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if poller.cycle().reachable:
                recovered_after = poller.failures
                break
            time.sleep(poller.next_delay())
        assert recovered_after == 0
        state = store.state("flaky")
        assert not state.stale
        html = client.get(reverse("group", args=["flaky", "stale-group"])).content.decode()
        assert "unreachable" not in html
    finally:
        configured_clusters.cache_clear()
        cache.clear()
