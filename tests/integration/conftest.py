"""Fixtures of the integration tests that need a DLQ with known content."""

from __future__ import annotations

import json

import pytest

from dashboard.poller.loop import Poller
from kafka_admin.dlq import headers as h
from tests.dlq_support import spring_headers


@pytest.fixture
def dlq_setup(kafka, dashboard_cluster):
    original = kafka.create_topic(partitions=2)
    dlq = kafka.create_topic(f"{original}-dlq", partitions=1, config={"max.message.bytes": "10485760"})
    p = kafka.producer(acks="all", **{"message.max.bytes": 12_000_000})
    for i in range(6):
        exc = "com.example.PoisonException" if i % 2 == 0 else "java.lang.IllegalStateException"
        p.produce(
            dlq,
            key=f"order-{i}".encode(),
            value=json.dumps({"n": i}).encode(),
            partition=0,
            headers=spring_headers(original, i % 2, 100 + i, exc, f"bad order {i}"),
        )
    p.produce(
        dlq,
        key=b"<script>alert('k')</script>",
        value=b"<img src=x onerror=alert(1)>",
        partition=0,
        headers=[
            ("<b>h</b>", b"<i>v</i>"),
            (h.DLQ_EXCEPTION_CLASS, b"<svg onload=alert(2)>"),
            (h.DLQ_ORIGINAL_TOPIC, original.encode()),
        ],
    )
    p.produce(
        dlq,
        key=None,
        value=bytes(range(256)) * 4,
        partition=0,
        headers=[(h.DLQ_EXCEPTION_CLASS, b"BinaryException"), (h.DLQ_RETRY_COUNT, b"3")],
    )
    p.produce(
        dlq, key=b"big", value=b"x" * (5 * 1024 * 1024), partition=0, headers=[(h.DLQ_EXCEPTION_CLASS, b"TooBig")]
    )
    assert p.flush(30) == 0
    Poller(dashboard_cluster, 1.0).cycle()
    return original, dlq


@pytest.fixture
def sr_cluster(broker, schema_registry, monkeypatch, dashboard_cluster):
    """The test cluster with the session registry as its schema registry (tests/registry_support.py)."""
    from dashboard.clusters import configured_clusters
    from kafka_admin.schemas.decoder import decoder_for

    monkeypatch.setenv("KAFKA_SCHEMA_REGISTRY_URL", schema_registry.url)
    configured_clusters.cache_clear()
    decoder_for.cache_clear()
    yield configured_clusters()["test"]
    configured_clusters.cache_clear()
    decoder_for.cache_clear()
