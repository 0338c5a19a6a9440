"""In headless Chromium: the group page's lag changes without a reload after new commits."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.e2e.conftest import ARTIFACTS, api, served

pytestmark = [pytest.mark.e2e, pytest.mark.broker]


def test_group_lag_updates_live_without_reload(page, server, kafka):
    topic = kafka.create_topic(partitions=2)
    kafka.produce(topic, 30, partition=0)
    kafka.produce(topic, 10, partition=1)
    group = kafka.unique("e2e-live")
    kafka.commit(group, [(topic, 0, 5), (topic, 1, 5)])

    served(page, f"{api(server)}/groups/{group}/")
    page.goto(f"{server.url}/c/e2e/groups/{group}/")
    lag = page.locator("[data-testid=group-lag]")
    assert lag.inner_text() == "30"
    # Predicates are functions ("() => ..."): a bare expression is run through eval, which the CSP blocks.
    page.wait_for_function("() => document.body.dataset.ws === 'open'", timeout=10_000)
    page.evaluate("window.__marker = 'same page'")

    kafka.commit(group, [(topic, 0, 28), (topic, 1, 9)])
    page.wait_for_function(
        "() => document.querySelector('[data-testid=group-lag]').textContent.trim() === '3'", timeout=45_000
    )
    assert page.evaluate("window.__marker") == "same page"  # no reload happened
    assert page.locator("[data-ws-state]").inner_text() == "live"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "group-live.png"), full_page=True)


def test_pages_render_and_escape_hostile_names(page, server, kafka):
    evil = kafka.unique("<img src=x onerror=window.__pwned=1>")
    topic = kafka.create_topic(partitions=1)
    kafka.produce(topic, 2, partition=0)
    kafka.commit(evil, [(topic, 0, 1)])
    served(page, f"{api(server)}/groups/{quote(evil, safe='')}/")
    for path in ("/c/e2e/", "/c/e2e/groups/", "/c/e2e/topics/", "/c/e2e/brokers/", f"/c/e2e/topics/{topic}/"):
        page.goto(server.url + path)
        assert page.locator("#status").count() == 1
        assert page.evaluate("window.__pwned") is None
    page.goto(f"{server.url}/c/e2e/groups/?q=onerror")
    assert evil in page.locator("#groups-table").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "groups-escaped.png"), full_page=True)
