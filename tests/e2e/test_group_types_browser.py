"""The groups page, a share group page and a streams group page in a real browser, on groups made by
real clients (a share consumer in a child process, a Kafka Streams app); screenshots in test-artifacts/."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import ARTIFACTS
from tests.share_support import set_group_configs, share_worker
from tests.streams_support import streams_app

pytestmark = pytest.mark.broker


def test_groups_share_and_streams_pages(page, server, kafka, broker):
    topic = kafka.create_topic(partitions=2)
    sink = kafka.create_topic(partitions=2)
    kafka.produce(topic, 60)
    share, app, classic = kafka.unique("e2e-share"), kafka.unique("e2e-streams"), kafka.unique("e2e-classic")
    kafka.commit(classic, [(topic, 0, 10)])
    set_group_configs(broker.bootstrap, share, share_auto_offset_reset="earliest")
    ARTIFACTS.mkdir(exist_ok=True)
    with (
        share_worker(broker.bootstrap, share, topic, 10, reject_every=3),
        streams_app(broker.bootstrap, app, topic, sink, pause_ms=200),
    ):
        page.goto(f"{server.url}/c/e2e/groups/?sort=name")
        for gid in (share, app, classic):
            page.wait_for_selector(f"text={gid}", timeout=30_000)
        table = page.inner_text("#groups-table")
        assert re.search(rf"{share}\s.*share", table) and re.search(rf"{app}\s.*streams", table)
        page.screenshot(path=str(ARTIFACTS / "groups-types.png"), full_page=True)

        page.select_option("select[name=type]", "share")  # htmx swaps the table (CSP: no eval in wait_for_function)
        page.locator("#groups-table", has_text=app).wait_for(state="detached", timeout=30_000)
        assert share in page.inner_text("#groups-table")

        page.goto(f"{server.url}/c/e2e/groups/{share}/")
        page.wait_for_selector("[data-testid=share-partitions]", timeout=30_000)
        assert page.inner_text("[data-testid=delivery-limit]") == "5"
        assert "kafka-share-groups" in page.inner_text("[data-testid=reset-refused]")  # the operator's note
        assert page.locator("[data-testid=reset-link]").count() == 0
        assert page.locator("[data-testid=share-time-lag]").count() == 2
        page.screenshot(path=str(ARTIFACTS / "group-share.png"), full_page=True)

        page.goto(f"{server.url}/c/e2e/groups/{app}/")
        page.wait_for_selector("[data-testid=streams-tasks]", timeout=30_000)
        assert "0:0,1" in page.inner_text("[data-testid=streams-tasks]")
        assert "kafka-streams-groups" in page.inner_text("[data-testid=reset-refused]")
        assert page.locator("[data-testid=reset-link]").count() == 0
        page.screenshot(path=str(ARTIFACTS / "group-streams.png"), full_page=True)
