"""In headless Chromium: every page works under the Content-Security-Policy, with no violation reported.

The policy forbids inline scripts and styles (dashboard/access/security.py). A violation shows up as a
`securitypolicyviolation` event (caught by a script Playwright injects, which the policy does not
apply to) and as a console error; both are collected on every page, including after live updates,
htmx swaps, the lag chart and the admin.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import api, served

pytestmark = [pytest.mark.e2e, pytest.mark.broker]

WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def watched(page):
    console: list[str] = []
    page.on(
        "console",
        lambda msg: console.append(msg.text) if msg.type == "error" or "Content Security Policy" in msg.text else None,
    )
    page.add_init_script(WATCH)
    page.console_errors = console
    return page


def violations(page) -> list[str]:
    found = page.evaluate("window.__csp || []")
    return found + [text for text in page.console_errors if "Content Security Policy" in text or "CSP" in text]


def visit(page, url: str, ready: str | None = None) -> list[str]:
    response = page.goto(url)
    assert response is not None and response.status < 400, (url, response and response.status)
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    if ready:
        page.wait_for_function(ready, timeout=10_000)
    page.wait_for_timeout(300)
    return violations(page)


def test_every_page_works_under_the_csp(watched, server, kafka):
    page = watched
    topic = kafka.create_topic(partitions=2)
    kafka.produce(topic, 20, partition=0)
    dlq = kafka.create_topic(kafka.unique("csp") + "-dlq", partitions=1)
    kafka.produce(dlq, 3, partition=0)
    group = kafka.unique("csp")
    kafka.commit(group, [(topic, 0, 5)])
    base = f"{server.url}/c/e2e"
    served(page, f"{api(server)}/groups/{group}/", f"{api(server)}/dlq/{dlq}/records/0/0/")  # the group, the DLQ index
    live = "() => document.body.dataset.ws === 'open'"
    pages = [
        (f"{base}/", live),
        (f"{base}/groups/", live),
        (f"{base}/groups/{group}/", live),
        (f"{base}/topics/", live),
        (f"{base}/topics/{topic}/", live),
        (f"{base}/topics/{topic}/?partition=0&seek=oldest", None),
        (f"{base}/brokers/", live),
        (f"{base}/dlq/", live),
        (f"{base}/dlq/{dlq}/", None),
        (f"{base}/dlq/{dlq}/0/0/", None),
        (f"{base}/reset/{group}/", None),
        (f"{server.url}/alerts/", None),
        (f"{server.url}/alerts/rules/new/", None),
        (f"{server.url}/audit/", None),
        (f"{server.url}/accounts/password_change/", None),
        (f"{server.url}/admin/", None),
        (f"{server.url}/admin/dashboard/alertrule/add/", None),
    ]
    problems = {}
    for url, ready in pages:
        found = visit(page, url, ready)
        if found:
            problems[url] = found
    assert not problems, problems


def test_live_updates_htmx_swaps_and_the_chart_under_the_csp(watched, server, kafka):
    page = watched
    topic = kafka.create_topic(partitions=1)
    kafka.produce(topic, 40, partition=0)
    group = kafka.unique("csp-live")
    kafka.commit(group, [(topic, 0, 5)])
    served(page, f"{api(server)}/groups/{group}/")

    page.goto(f"{server.url}/c/e2e/groups/{group}/")
    page.wait_for_function("() => document.body.dataset.ws === 'open'", timeout=10_000)
    kafka.commit(group, [(topic, 0, 30)])
    page.wait_for_function("() => Number(document.body.dataset.updates || 0) > 0", timeout=10_000)
    page.wait_for_selector(".uplot", timeout=15_000)  # uPlot drew the lag chart (styles set through the CSSOM)
    assert violations(page) == []

    page.goto(f"{server.url}/c/e2e/groups/")
    page.fill("input[name=q]", group)  # htmx: hx-get on input, swaps the table
    page.wait_for_function("() => location.search.includes('q=')", timeout=10_000)  # swapped, URL pushed
    assert group in page.locator("#groups-table").inner_text()
    assert violations(page) == []
    # htmx was told not to inject its indicator <style> (the policy would block it)
    assert page.evaluate("document.querySelectorAll('style').length") == 0
