"""Every page in headless Chromium at 1440x900 and 390x844 (and its layout at 360x740): axe-core
clean (no serious or critical violation, no rule disabled, nothing excluded), one h1, no
horizontal scroll on a phone, the nav on the dark bar; a screenshot of each into test-artifacts/;
and focus kept across live updates."""

from __future__ import annotations

import json
import threading

import pytest

from kafka_admin.dlq import headers as h
from tests.dlq_support import spring_headers
from tests.e2e.conftest import ARTIFACTS, api, served
from tests.kafka_support import REPO

pytestmark = [pytest.mark.e2e, pytest.mark.broker]

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {"wide": (1440, 900), "phone": (390, 844), "small": (360, 740)}  # small: layout only, no axe

# Runs in the page; a function, never an expression string (the CSP blocks eval).
RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(
      n => n.target.join(" ") + " :: " + (n.failureSummary || "").split("\\n").slice(0, 2).join(" "))
  }));
}"""

LAYOUT = """() => {
  const bar = document.querySelector("header.topbar").getBoundingClientRect();
  const links = Array.from(document.querySelectorAll("header .nav a"));
  const off = links.filter(a => {
    const r = a.getBoundingClientRect();
    return r.width === 0 || r.left < bar.left || r.right > bar.right || r.top < bar.top || r.bottom > bar.bottom
      || r.right > window.innerWidth;
  }).map(a => a.textContent.trim());
  return {
    scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
    h1: document.querySelectorAll("h1").length, navLinks: links.length, offBar: off,
  };
}"""


@pytest.fixture(scope="module")
def world(server, kafka):
    """A topic, its DLQ with records, and a group with lag, visible in the server's snapshot."""
    topic = kafka.create_topic(kafka.unique("e2e-orders"), partitions=2)
    dlq = kafka.create_topic(f"{topic}-dlq", partitions=1)
    kafka.produce(topic, 40, partition=0)
    kafka.produce(topic, 10, partition=1)
    p = kafka.producer(acks="all")
    for i in range(3):
        headers = spring_headers(topic, 0, i, "com.example.PoisonException", f"bad order {i}")
        p.produce(dlq, key=f"order-{i}".encode(), value=json.dumps({"n": i}).encode(), partition=0, headers=headers)
    p.produce(dlq, key=None, value=bytes(range(64)), partition=0, headers=[(h.DLQ_EXCEPTION_CLASS, b"Binary")])
    assert p.flush(30) == 0
    group = kafka.unique("e2e-processor-with-a-long-name")
    kafka.commit(group, [(topic, 0, 5), (topic, 1, 5)])
    return {"topic": topic, "dlq": dlq, "group": group, "kafka": kafka}


def pages(world: dict) -> dict[str, str]:
    t, d, g = world["topic"], world["dlq"], world["group"]
    return {
        "overview": "/c/e2e/",
        "groups": "/c/e2e/groups/",
        "group": f"/c/e2e/groups/{g}/",
        "reset-offsets": f"/c/e2e/reset/{g}/",
        "topics": "/c/e2e/topics/",
        "topic": f"/c/e2e/topics/{t}/",
        "topic-dlq": f"/c/e2e/topics/{d}/",
        "brokers": "/c/e2e/brokers/",
        "dlq-list": "/c/e2e/dlq/",
        "dlq-topic": f"/c/e2e/dlq/{d}/",
        "dlq-record": f"/c/e2e/dlq/{d}/0/0/",
        "search": "/c/e2e/search/?q=e2e-orders",
        "alerts": "/alerts/",
        "alert-rule-new": "/alerts/rules/new/",
        "audit": "/audit/",
    }


def wait_until_listed(page, server, world) -> None:
    """The poller runs every second: wait until its snapshot holds the group and the DLQ index the
    records. The API answers 404 until then; a page would answer before the group is there."""
    served(page, f"{api(server)}/groups/{world['group']}/", f"{api(server)}/dlq/{world['dlq']}/records/0/0/")


def check(page, name: str, size: str) -> list[str]:
    """Everything wrong with the page as it is now, as sentences (empty when all is well)."""
    problems = []
    if size != "small":
        page.add_script_tag(url="/static/axe.min.js")
        for v in page.evaluate(RUN_AXE):
            if v["impact"] in ("serious", "critical"):
                problems.append(f"{name} {size}: axe {v['impact']} {v['id']} ({v['help']}): {v['nodes']}")
    layout = page.evaluate(LAYOUT)
    if layout["h1"] != 1:
        problems.append(f"{name} {size}: {layout['h1']} h1 elements")
    if size != "wide" and layout["scrollWidth"] > layout["innerWidth"]:
        problems.append(f"{name} {size}: page is {layout['scrollWidth']} px wide in {layout['innerWidth']}")
    if name != "login" and (layout["navLinks"] != 8 or layout["offBar"]):
        problems.append(f"{name} {size}: nav links {layout['navLinks']}, off the bar: {layout['offBar']}")
    if size != "small":
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{size}.png"), full_page=True)
    return problems


def check_dry_run(page, server, world: dict, size: str) -> list[str]:
    """The dry run (a POST): reached by ticking a record, which enables "Reprocess selected…"."""
    page.goto(f"{server.url}/c/e2e/dlq/{world['dlq']}/")
    selected = page.get_by_role("button", name="Reprocess selected…")
    assert selected.is_disabled(), "nothing is selected yet"
    page.locator("input[name=key]").first.check()
    assert selected.is_enabled()
    selected.click()
    page.wait_for_url("**/plan/")
    assert world["group"] in page.locator("[data-testid^=readers-]").inner_text()
    return check(page, "dlq-plan", size)


def test_every_page_at_both_sizes(browser, server, world):
    if browser is None:
        pytest.skip("no Chromium binary (apt-get install chromium, or set CHROMIUM_PATH)")
    if not AXE.exists():
        pytest.skip("axe-core is not installed: npm ci (scripts/test.sh does it)")
    problems: list[str] = []
    for size, (width, height) in SIZES.items():
        ctx = browser.new_context(viewport={"width": width, "height": height})
        page = ctx.new_page()
        page.goto(server.url + "/accounts/login/")
        problems += check(page, "login", size)
        page.fill("#id_username", server.username)
        page.fill("#id_password", server.password)
        page.click("button[type=submit]")
        page.wait_for_url("**/c/e2e/")
        wait_until_listed(page, server, world)
        for name, path in pages(world).items():
            response = page.goto(server.url + path)
            assert response is not None and response.status == 200, (name, path, response and response.status)
            problems += check(page, name, size)
        problems += check_dry_run(page, server, world, size)
        ctx.close()
    assert not problems, "\n".join(problems)


def test_focus_survives_consecutive_live_updates(page, server, world):
    """On the group's own page (its partitions fragment always holds this test's group, whatever else
    the shared broker holds), a focused link keeps focus across two live updates that replace it."""
    kafka, topic, group = world["kafka"], world["topic"], world["group"]
    wait_until_listed(page, server, world)  # else a 404 page, which has no live updates
    page.goto(f"{server.url}/c/e2e/groups/{group}/")
    page.wait_for_function("() => document.body.dataset.ws === 'open'", timeout=60_000)
    href = f"/c/e2e/topics/{topic}/"
    link = page.locator(f"#group-partitions a[href='{href}']").first
    link.wait_for(timeout=60_000)
    link.focus()
    page.evaluate("() => { window.__fragment = document.getElementById('group-partitions'); }")

    stop = threading.Event()

    def produce_steadily() -> None:  # new lag every poll cycle, so the fragment holding the link is re-sent
        while not stop.is_set():
            kafka.produce(topic, 3, partition=0)
            stop.wait(0.4)

    producer = threading.Thread(target=produce_steadily, daemon=True)
    producer.start()
    try:
        for update in (1, 2):
            # the update replaces the fragment element (and the focused link in it) by a new one
            page.wait_for_function(
                "() => document.getElementById('group-partitions') !== window.__fragment", timeout=90_000
            )
            page.wait_for_function("() => document.activeElement !== document.body", timeout=10_000)
            focused = page.evaluate(
                "() => ({href: document.activeElement.getAttribute('href'),"
                " inFragment: !!document.activeElement.closest('#group-partitions')})"
            )
            assert focused == {"href": href, "inFragment": True}, f"after live update {update}"
            page.evaluate("() => { window.__fragment = document.getElementById('group-partitions'); }")
    finally:
        stop.set()
        producer.join(5)
