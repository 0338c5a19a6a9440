"""Two clusters at once: the session broker and one of this test's own, each with its own poller and pages."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse

from dashboard.clusters import configured_clusters
from dashboard.poller.loop import Poller
from dashboard.state import store
from tests.kafka_support import BrokerProcess, Kafka

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def second_broker(tmp_path):
    broker = BrokerProcess.start(tmp_path / "k2")
    yield broker
    broker.down()


@pytest.fixture
def two_clusters(broker, second_broker, monkeypatch):
    """KAFKA_CLUSTERS=alpha,beta.eu: alpha is the session broker, beta.eu this test's own."""
    monkeypatch.delenv("KAFKA_CLUSTERS_FILE", raising=False)
    monkeypatch.setenv("KAFKA_CLUSTERS", "alpha,beta.eu")
    monkeypatch.setenv("KAFKA_ALPHA_BOOTSTRAP_SERVERS", broker.bootstrap)
    monkeypatch.setenv("KAFKA_ALPHA_REQUEST_TIMEOUT", "5")
    monkeypatch.setenv("KAFKA_BETA_EU_BOOTSTRAP_SERVERS", second_broker.bootstrap)
    monkeypatch.setenv("KAFKA_BETA_EU_REQUEST_TIMEOUT", "5")
    configured_clusters.cache_clear()
    cache.clear()
    yield configured_clusters()
    configured_clusters.cache_clear()
    cache.clear()


def test_two_clusters_each_with_its_own_poller_pages_and_api(broker, second_broker, two_clusters, client):
    assert list(two_clusters) == ["alpha", "beta.eu"]
    a, b = Kafka(broker), Kafka(second_broker)
    tag = Kafka.unique("mc")
    a_topic, b_topic = a.create_topic(partitions=1), b.create_topic(partitions=2)
    a.produce(a_topic, 7, partition=0)
    b.produce(b_topic, 4, partition=1)
    a_group, b_group = f"{tag}-alpha-group", f"{tag}-beta-group"
    a.commit(a_group, [(a_topic, 0, 2)])  # lag 5
    b.commit(b_group, [(b_topic, 1, 1)])  # lag 3

    snapshots = {name: Poller(config, 1.0).cycle() for name, config in two_clusters.items()}
    assert all(s.reachable for s in snapshots.values())
    assert snapshots["alpha"].cluster_id != snapshots["beta.eu"].cluster_id
    assert {g.group_id for g in snapshots["alpha"].groups} >= {a_group}
    assert b_group not in {g.group_id for g in snapshots["alpha"].groups}
    assert {g.group_id for g in snapshots["beta.eu"].groups} == {b_group}
    assert store.state("beta.eu").snapshot.cluster == "beta.eu"

    client.force_login(get_user_model().objects.create_user("two-clusters", password="pw-viewer-123"))

    # Pages: each cluster's groups page shows its own groups only, and the switcher offers both.
    for name, own, other, lag in (("alpha", a_group, b_group, 5), ("beta.eu", b_group, a_group, 3)):
        page = client.get(reverse("groups", args=[name]), {"q": tag})
        html = page.content.decode()
        assert page.status_code == 200, html[:500]
        assert own in html
        assert other not in html
        switcher = re.search(r'<select id="cluster-select".*?</select>', html, re.S)
        assert switcher is not None
        options = re.findall(r'<option value="([^"]+)"( selected)?', switcher.group(0))
        assert [value for value, _ in options] == ["alpha", "beta.eu"]
        assert [value for value, selected in options if selected] == [name]
        group_page = client.get(reverse("group", args=[name, own]))
        assert group_page.status_code == 200
        assert f'data-testid="group-lag">{lag}<' in group_page.content.decode()
        assert client.get(reverse("group", args=[name, other])).status_code == 404  # the other cluster's group
    assert client.get("/c/gamma/groups/").status_code == 404
    assert client.get("/c/gamma/").status_code == 404
    assert client.get("/").url == reverse("overview", args=["alpha"])  # the first configured is the default

    # API: both clusters listed; each one's groups are its own.
    listing = client.get("/api/v1/clusters/").json()
    assert [c["name"] for c in listing["results"]] == ["alpha", "beta.eu"]
    assert {c["name"]: c["bootstrap_servers"] for c in listing["results"]} == {
        "alpha": broker.bootstrap,
        "beta.eu": second_broker.bootstrap,
    }
    assert all(c["reachable"] for c in listing["results"])
    for name, own, other in (("alpha", a_group, b_group), ("beta.eu", b_group, a_group)):
        answer = client.get(f"/api/v1/clusters/{name}/groups/", {"q": tag})
        assert answer.status_code == 200
        body = answer.json()
        assert body["cluster"] == name
        assert [g["group_id"] for g in body["results"]] == [own]
        assert client.get(f"/api/v1/clusters/{name}/groups/{own}/").status_code == 200
        assert client.get(f"/api/v1/clusters/{name}/groups/{other}/").status_code == 404
        assert client.get(f"/api/v1/clusters/{name}/").json()["cluster_id"] == snapshots[name].cluster_id
    missing = client.get("/api/v1/clusters/gamma/groups/")
    assert missing.status_code == 404
    assert "unknown cluster" in missing.json()["error"]
