"""While the first cycle runs, the status bar names its step and when it started, then gives way
to the data. At tens of thousands of groups that cycle takes tens of seconds (bench/RESULTS.md,
"Memory of every process"); a page that only said "waiting" would look hung."""

from __future__ import annotations

import re
import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse

from dashboard.clusters import configured_clusters
from dashboard.poller.loop import Poller
from dashboard.state import store

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def test_status_bar_names_the_first_cycles_step(broker, kafka, monkeypatch, client):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap)
    monkeypatch.setenv("KAFKA_CLUSTER_NAME", "first")
    configured_clusters.cache_clear()
    cache.clear()
    topic = kafka.create_topic(partitions=1)
    kafka.produce(topic, 3, partition=0)
    group = kafka.unique("first-cycle")
    kafka.commit(group, [(topic, 0, 1)])
    client.force_login(get_user_model().objects.create_user("early", password="pw-early-123"))
    poller = Poller(configured_clusters()["first"], 5.0, isolated=False)
    judging, release = threading.Event(), threading.Event()
    update = poller.tracker.update

    def held_update(snapshot):  # the figures step of the first cycle, held until the page was read
        judging.set()
        assert release.wait(60)
        return update(snapshot)

    monkeypatch.setattr(poller.tracker, "update", held_update)
    cycle = threading.Thread(target=poller.cycle)
    cycle.start()
    try:
        assert judging.wait(60), "the first cycle never reached its figures"
        html = client.get(reverse("overview", args=["first"])).content.decode()
        assert "Waiting for the first snapshot of first" in html
        assert 'data-testid="first-cycle"' in html
        assert re.search(r"working out lag and status of [1-9][\d,]* groups, [1-9][\d,]* topics", html)
        assert "started <time data-age" in html
    finally:
        release.set()
        cycle.join(60)
    assert store.first_cycle("first") is None
    html = client.get(reverse("group", args=["first", group])).content.decode()
    assert 'data-testid="first-cycle"' not in html and "Waiting for the first snapshot" not in html
    assert 'data-testid="group-lag">2<' in html
