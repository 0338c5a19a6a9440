"""Session fixtures: one real Kafka broker for the whole run (or KAFKA_BOOTSTRAP_SERVERS when set)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.kafka_support import BrokerProcess, Kafka


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    external = os.environ.get("TEST_KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield BrokerProcess(external)
        return
    proc = BrokerProcess.start(tmp_path_factory.mktemp("kafka"))
    try:
        yield proc
    finally:
        proc.down()


@pytest.fixture(scope="session")
def kafka(broker: BrokerProcess) -> Kafka:
    return Kafka(broker)


@pytest.fixture
def dashboard_cluster(broker: BrokerProcess, monkeypatch: pytest.MonkeyPatch):
    """Point the dashboard's default cluster at the test broker, with a clean cache."""
    from django.core.cache import cache

    from dashboard.clusters import configured_clusters

    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap)
    monkeypatch.setenv("KAFKA_CLUSTER_NAME", "test")
    monkeypatch.setenv("KAFKA_REQUEST_TIMEOUT", "5")
    configured_clusters.cache_clear()
    cache.clear()
    yield configured_clusters()["test"]
    configured_clusters.cache_clear()
    cache.clear()
