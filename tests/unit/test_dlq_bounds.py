"""Partitions and offsets out of Kafka's range (partition 0..2^31-1, offset 0..2^63-1) are clear 400s
on the DLQ pages and API and a clear error in the CLI: no 500 (OverflowError in SQLite), no run started."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client

from dashboard.clusters import configured_clusters, default_cluster
from dashboard.models import DlqRecord, ReprocessRun
from dashboard.state import store
from tests.factories import snapshot
from tests.kafka_support import free_port

pytestmark = pytest.mark.django_db

TOO_BIG_OFFSET = str(2**63)
TOO_BIG_PARTITION = str(10**38)


@pytest.fixture(autouse=True)
def nowhere(monkeypatch):
    """The default cluster at a port nothing listens on: whatever slips through reaches no broker."""
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{free_port()}")
    monkeypatch.setenv("KAFKA_REQUEST_TIMEOUT", "1")
    monkeypatch.setenv("KAFKA_CYCLE_TIMEOUT", "3")
    configured_clusters.cache_clear()
    yield
    configured_clusters.cache_clear()


@pytest.fixture
def operator(clean_cache) -> tuple[Client, str]:
    cluster = default_cluster().name
    store.save(snapshot(at=datetime.now(UTC), cluster=cluster, ends={"orders": [10], "orders-dlq": [5]}))
    DlqRecord.objects.create(cluster=cluster, topic="orders-dlq", partition=0, offset=1)
    user = get_user_model().objects.create_user("op", password="pw-operator-123")
    user.groups.add(Group.objects.get(name="operators"))
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client, cluster


@pytest.mark.parametrize(
    "key, message",
    [
        (f"0:{TOO_BIG_OFFSET}", "offsets are whole numbers from 0 to 9,223,372,036,854,775,807"),
        (f"{2**31}:1", "partitions are whole numbers from 0 to 2,147,483,647"),
    ],
)
def test_resolve_page_refuses_out_of_range_keys(operator, key, message):
    client, cluster = operator
    response = client.post(f"/c/{cluster}/dlq/orders-dlq/resolve/", {"key": key, "reason": "done"})
    assert response.status_code == 400 and message in response.content.decode()


@pytest.mark.parametrize(
    "key, message",
    [
        (f"0:{TOO_BIG_OFFSET}", "offsets are whole numbers from 0 to 9,223,372,036,854,775,807"),
        (f"{TOO_BIG_PARTITION}:1", "partitions are whole numbers from 0 to 2,147,483,647"),
    ],
)
def test_resolve_api_refuses_out_of_range_keys(operator, key, message):
    client, cluster = operator
    response = client.post(
        f"/api/v1/clusters/{cluster}/dlq/orders-dlq/resolve/",
        json.dumps({"records": [key], "reason": "done"}),
        content_type="application/json",
    )
    assert response.status_code == 400 and message in response.json()["error"]


def test_the_largest_offset_and_partition_are_accepted(operator):
    client, cluster = operator
    keys = [f"0:{2**63 - 1}", f"{2**31 - 1}:0", "0:1"]
    response = client.post(f"/c/{cluster}/dlq/orders-dlq/resolve/", {"key": keys, "reason": "done"})
    assert response.status_code == 302
    assert DlqRecord.objects.get().status == "resolved"


RANGES = [
    ({"partition": TOO_BIG_PARTITION, "start": "0", "end": "1"}, "partitions are whole numbers from 0 to"),
    ({"partition": "0", "start": "0", "end": TOO_BIG_OFFSET}, "offsets are whole numbers from 0 to"),
    ({"partition": "0", "start": TOO_BIG_OFFSET, "end": TOO_BIG_OFFSET}, "offsets are whole numbers from 0 to"),
]


@pytest.mark.parametrize("fields, message", RANGES)
def test_reprocess_page_refuses_an_out_of_range_range(operator, fields, message):
    client, cluster = operator
    response = client.post(f"/c/{cluster}/dlq/orders-dlq/reprocess/", {"confirm": "yes", "mode": "range", **fields})
    assert response.status_code == 400 and message in response.content.decode()
    assert not ReprocessRun.objects.exists()


@pytest.mark.parametrize("fields, message", RANGES)
def test_reprocess_api_refuses_an_out_of_range_range(operator, fields, message):
    client, cluster = operator
    body = {"confirm": True, "mode": "range", **{k: int(v) for k, v in fields.items()}}
    response = client.post(
        f"/api/v1/clusters/{cluster}/dlq/orders-dlq/reprocess/", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400 and message in response.json()["error"]
    assert not ReprocessRun.objects.exists()


def test_record_page_refuses_an_out_of_range_offset(operator):
    client, cluster = operator
    response = client.get(f"/c/{cluster}/dlq/orders-dlq/0/{TOO_BIG_OFFSET}/")
    assert response.status_code == 400
    assert "offsets are whole numbers from 0 to" in response.content.decode()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--partition", TOO_BIG_PARTITION], "partitions are whole numbers from 0 to"),
        (["--from-offset", TOO_BIG_OFFSET], "offsets are whole numbers from 0 to"),
        (["--to-offset", "-1"], "offsets are whole numbers from 0 to"),
    ],
)
def test_cli_refuses_out_of_range_numbers_before_anything_else(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("dlq_reprocess", "--topic", "orders-dlq", *args)
