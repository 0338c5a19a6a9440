"""A broker stopped: the overview's tiles say so in plain words, with the raw text one click away (issue 13 §4)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse

from dashboard.clusters import configured_clusters
from dashboard.poller.loop import Poller
from tests.kafka_support import BrokerProcess, Kafka

pytestmark = [pytest.mark.broker, pytest.mark.django_db]


@pytest.fixture
def own_broker(tmp_path):
    """A broker of this test's own, so stopping it disturbs nobody else."""
    broker = BrokerProcess.start(tmp_path / "kafka")
    yield broker
    broker.down()


def test_overview_tiles_with_the_broker_stopped(own_broker, monkeypatch, client):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", own_broker.bootstrap)
    monkeypatch.setenv("KAFKA_CLUSTER_NAME", "down")
    monkeypatch.setenv("KAFKA_REQUEST_TIMEOUT", "2")
    configured_clusters.cache_clear()
    cache.clear()
    try:
        kafka = Kafka(own_broker)
        topic = kafka.create_topic(partitions=1)
        kafka.produce(topic, 5, partition=0)
        poller = Poller(configured_clusters()["down"], 1.0)
        assert poller.cycle().reachable
        client.force_login(get_user_model().objects.create_user("watcher", password="pw-watcher-123"))
        healthy = client.get(reverse("overview", args=["down"])).content.decode()
        assert "tiles stale" not in healthy and '<div class="tile" data-testid="tile-brokers">' in healthy

        own_broker.down()
        assert not poller.cycle().reachable
        html = client.get(reverse("overview", args=["down"])).content.decode()
        brokers = re.search(r'<div class="tile bad" data-testid="tile-brokers">.*?</div></div>', html, re.S).group(0)
        assert '<div class="tile-value">0</div>' in brokers and "of 1 last seen reachable" in brokers
        assert 'class="tiles stale"' in html and 'class="tile-age"' in html
        assert "data-ws-state data-stale>stale<" in html
        cause = re.search(r'data-testid="failure-cause">([^<]*)<', html).group(1)
        assert cause.startswith(("No broker accepts connections", "No broker answered in time")), cause
        raw = re.search(r'<details class="raw-error"><summary>[^<]*</summary><code>([^<]*)</code>', html).group(1)
        assert "cluster unreachable at" in raw and raw != cause
    finally:
        configured_clusters.cache_clear()
        cache.clear()
