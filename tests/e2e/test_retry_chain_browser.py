"""In headless Chromium against the running server: a real Spring @RetryableTopic application's
chain on the DLT's page, and a metadata-only share-group dead letter's record page. Screenshots land
in test-artifacts/."""

from __future__ import annotations

import pytest

from kafka_admin.dlq.conventions import share_group as share
from tests.connect_standalone_support import wait_for
from tests.dlq_support import end_offsets
from tests.e2e.conftest import ARTIFACTS, open_when_indexed
from tests.spring_support import retry_chain_writer

pytestmark = [pytest.mark.e2e, pytest.mark.broker]


def test_retry_chain_and_metadata_only_pages(page, server, kafka, tmp_path):
    orders = kafka.create_topic(partitions=1)
    dlt = f"{orders}-dlt"
    for suffix in ("-retry-200", "-retry-20000", "-dlt"):
        kafka.create_topic(orders + suffix, partitions=1)
    p = kafka.producer(acks="all")
    for i in range(3):
        p.produce(orders, key=f"k{i}".encode(), value=f"poison {i}".encode(), partition=0)
    assert p.flush(30) == 0
    log = tmp_path / "spring.log"
    with retry_chain_writer(kafka.bootstrap, orders, kafka.unique("chain-app"), log) as app:
        wait_for(lambda: end_offsets(kafka.bootstrap, dlt)[0] >= 3, 120, "the DLT", app, log)
    ARTIFACTS.mkdir(exist_ok=True)
    open_when_indexed(page, f"{server.url}/c/e2e/dlq/{dlt}/", "java.lang.IllegalStateException")
    chain = page.locator("#retry-chain").inner_text()
    assert "dead letters wait here" in chain and f"{orders}-retry-20000" in chain
    page.screenshot(path=str(ARTIFACTS / "dlq-retry-chain.png"), full_page=True)

    shares = kafka.create_topic(f"{orders}-shares-dlq", partitions=1)
    headers = [
        (share.TOPIC, orders.encode()),
        (share.PARTITION, b"0"),
        (share.OFFSET, b"1"),
        (share.GROUP, b"billing"),
        (share.DELIVERY_COUNT, b"5"),
        (share.MESSAGE, b"Offset delivery count exceeded the threshold."),
    ]
    p.produce(shares, value=None, partition=0, headers=headers)
    assert p.flush(30) == 0
    open_when_indexed(page, f"{server.url}/c/e2e/dlq/{shares}/0/0/", "Only the failure")
    assert "poison 1" in page.locator("section.card", has_text="Only the failure").inner_text()
    page.screenshot(path=str(ARTIFACTS / "dlq-record-metadata-only.png"), full_page=True)
