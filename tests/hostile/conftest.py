"""Fixtures of the hostile-input tests: a store with data, a cluster nobody answers at, a viewer and an operator.

The store-backed tests need no broker. The default cluster points at a closed local port with a
one-second request timeout, so an action that gets past validation and calls the broker fails fast
with a clear error instead of hanging the test.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client

from dashboard.access.permissions import ensure_roles
from dashboard.clusters import configured_clusters
from dashboard.models import DlqRecord, ReprocessRun
from dashboard.state import store
from tests.factories import snapshot
from tests.hostile.hostile import IMG, SCRIPT
from tests.kafka_support import free_port

CLUSTER = "local"
DLQ = "orders-dlq"
RUN_ID = "0123456789abcdef0123456789abcdef"
HOSTILE_GROUP = f"{SCRIPT}/g 'x'"


@pytest.fixture
def unreachable_cluster(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{free_port()}")
    monkeypatch.setenv("KAFKA_CLUSTER_NAME", CLUSTER)
    monkeypatch.setenv("KAFKA_REQUEST_TIMEOUT", "1")
    for name in ("KAFKA_CLUSTERS", "KAFKA_CLUSTERS_FILE"):
        monkeypatch.delenv(name, raising=False)
    configured_clusters.cache_clear()
    cache.clear()
    yield configured_clusters()[CLUSTER]
    configured_clusters.cache_clear()
    cache.clear()


@pytest.fixture
def loaded(unreachable_cluster, db):
    """A snapshot with ordinary and hostile names, an indexed DLQ and a finished reprocess run."""
    store.save(
        snapshot(
            at=datetime.now(UTC),
            cluster=CLUSTER,
            ends={"orders": [100, 100], DLQ: [10], "payments": [5]},
            groups={"g1": {("orders", 0): 90, ("orders", 1): 100}, HOSTILE_GROUP: {("orders", 0): 1}},
            members={HOSTILE_GROUP: [(f"m-{IMG}", IMG, [("orders", 0)])]},
        )
    )
    for offset in range(10):
        DlqRecord.objects.create(
            cluster=CLUSTER,
            topic=DLQ,
            partition=0,
            offset=offset,
            timestamp=datetime(2026, 1, 1, tzinfo=UTC),
            key_preview=SCRIPT,
            value_preview=IMG,
            value_size=len(IMG),
            original_topic="orders",
            original_partition=0,
            original_offset=offset,
            target_topic="orders",
            target_source="header",
            exception_class=f"com.example.{SCRIPT}" if offset % 2 else "java.lang.IllegalStateException",
            exception_message=IMG,
        )
    ReprocessRun.objects.create(run_id=RUN_ID, cluster=CLUSTER, dlq_topic=DLQ, actor=SCRIPT, state="done")
    return unreachable_cluster


@pytest.fixture
def viewer(loaded) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_user("viewer"))  # no password: no slow hashing
    return client


@pytest.fixture
def operator(loaded) -> Client:
    ensure_roles()
    user = get_user_model().objects.create_user("operator")
    user.groups.add(Group.objects.get(name="operators"))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def no_background_runs(monkeypatch):
    """A reprocess that passes validation is recorded, but its background thread does nothing here."""
    from dashboard.dlq import service as dlq_service

    monkeypatch.setattr(dlq_service, "_execute", lambda *args: None)
