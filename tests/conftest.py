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


@pytest.fixture(scope="session")
def schema_registry(tmp_path_factory: pytest.TempPathFactory):
    """One real schema registry (Apicurio, scripts/registry.sh) for the run, started on first use."""
    from tests.registry_support import RegistryProcess, cannot_build

    reason = cannot_build()
    if reason:
        pytest.skip(reason)
    proc = RegistryProcess.start(tmp_path_factory.mktemp("registry"))
    try:
        yield proc
    finally:
        proc.down()


@pytest.fixture(scope="module")
def browser():
    """A headless Debian Chromium per test module, or None without a Chromium binary: tests that need
    it skip, saying why.

    Per module, not per session: Playwright's sync API keeps an asyncio loop running in this thread
    until it stops, and Django refuses database calls from there (SynchronousOnlyOperation). Under
    pytest-xdist a worker runs database tests after browser tests; the loop must be gone by then."""
    from tests.e2e.conftest import chromium_path

    path = chromium_path()
    if path is None:
        yield None
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=path,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield b
        b.close()
