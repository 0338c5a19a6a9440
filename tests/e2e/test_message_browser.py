"""The message browser in headless Chromium at 1440x900 and 390x844, against a real server and broker:
the newest records of every partition on open (newest first, one line each), a row that opens to
pretty JSON, binary as hex, a search, the live tail (a record produced while watching shows up; a
hidden tab pauses it), no horizontal scroll, axe-core clean; screenshots in test-artifacts/."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_pages_a11y import AXE, RUN_AXE
from tests.kafka_support import KEEP_OLD_RECORDS

pytestmark = [pytest.mark.e2e, pytest.mark.broker]

SIZES = {"wide": (1440, 900), "phone": (390, 844)}
BASE_TS = 1_767_225_600_000  # 2026-01-01T00:00:00Z

HIDE = """() => {
  Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
}"""
SHOW = """() => {
  Object.defineProperty(document, "visibilityState", { value: "visible", configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
}"""
ROW_HEIGHTS = """() => Array.from(document.querySelectorAll("#messages li.msg > details > summary"))
  .map(s => s.getBoundingClientRect().height)"""
WIDTH = "() => [document.documentElement.scrollWidth, window.innerWidth]"
HEX_LINES = """pre => [pre.textContent.trimEnd().split("\\n").length,
  Math.round((pre.scrollHeight - parseFloat(getComputedStyle(pre).paddingTop)
    - parseFloat(getComputedStyle(pre).paddingBottom)) / parseFloat(getComputedStyle(pre).lineHeight))]"""


@pytest.fixture(scope="module")
def orders(kafka) -> str:
    """24 JSON orders over 3 partitions (order i at BASE_TS + i s on partition i % 3), a binary record,
    and a record whose value is markup."""
    topic = kafka.create_topic(kafka.unique("e2e-browse"), partitions=3, config=KEEP_OLD_RECORDS)
    p = kafka.producer(acks="all")
    for i in range(24):
        value = json.dumps({"order": i, "item": "desk lamp" if i == 7 else "chair", "qty": i % 4 + 1})
        headers = [("trace-id", f"trace-{i:03d}".encode())]
        p.produce(
            topic,
            key=f"order-{i}".encode(),
            value=value.encode(),
            partition=i % 3,
            timestamp=BASE_TS + 1000 * i,
            headers=headers,
        )
    p.produce(topic, key=b"bin", value=bytes(range(40)), partition=0, timestamp=BASE_TS + 30_000)
    p.produce(topic, key=b"<b>k</b>", value=b"<img src=x onerror=alert(1)>", partition=1, timestamp=BASE_TS + 31_000)
    assert p.flush(30) == 0
    return topic


def check_page(page, name: str, size: str) -> list[str]:
    problems = []
    page.add_script_tag(url="/static/axe.min.js")
    for v in page.evaluate(RUN_AXE):
        if v["impact"] in ("serious", "critical"):
            problems.append(f"{name} {size}: axe {v['impact']} {v['id']} ({v['help']}): {v['nodes']}")
    scroll, inner = page.evaluate(WIDTH)
    if scroll > inner:
        problems.append(f"{name} {size}: page is {scroll} px wide in {inner}")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"browser-{name}-{size}.png"), full_page=True)
    return problems


def test_message_browser_at_both_sizes(browser, server, kafka, orders):
    if browser is None:
        pytest.skip("no Chromium binary (apt-get install chromium, or set CHROMIUM_PATH)")
    if not AXE.exists():
        pytest.skip("axe-core is not installed: npm ci (scripts/test.sh does it)")
    problems: list[str] = []
    url = f"{server.url}/c/e2e/topics/{orders}/"
    for size, (width, height) in SIZES.items():
        ctx = browser.new_context(viewport={"width": width, "height": height})
        page = ctx.new_page()
        page.goto(server.url + "/accounts/login/")
        page.fill("#id_username", server.username)
        page.fill("#id_password", server.password)
        page.click("button[type=submit]")
        page.wait_for_url("**/c/e2e/")
        page.goto(url)

        # on open, without pressing Read: the newest records of all partitions, newest first
        summary = page.inner_text(".browse-summary")
        assert "20 records shown, newest first, all 3 partitions merged by time" in summary, summary
        offsets = page.locator("#messages li.msg .m-k").all_inner_texts()
        earlier = [k for k in offsets if not k.startswith("live-")]  # the wide run's tail added one
        assert earlier[:4] == ["<b>k</b>", "bin", "order-23", "order-22"], offsets[:4]
        assert "<img src=x onerror=alert(1)>" in page.inner_text("#messages")  # shown as text, never as markup
        assert page.locator("#messages img").count() == 0
        heights = page.evaluate(ROW_HEIGHTS)
        line = 32 if size == "wide" else 56  # one line on a wide screen, two short ones on a phone
        assert heights and max(heights) <= line, heights
        problems += check_page(page, "newest", size)

        # a row opens to the whole record: JSON pretty-printed, headers; binary as hex
        page.locator("#messages li.msg summary", has_text="order-23").click()
        body = page.locator("#messages li.msg details[open] .msg-body").first
        assert '"item": "chair"' in body.inner_text() and "trace-023" in body.inner_text()
        binary = page.locator("#messages li.msg").nth(offsets.index("bin"))
        binary.locator("summary").click()
        assert "00000000  00 01 02 03" in binary.inner_text()
        # each hexdump row stays one line (its columns line up), scrolling inside its box on a phone
        hex_lines, shown_lines = binary.locator("pre.payload.binary").evaluate(HEX_LINES)
        assert shown_lines == hex_lines, (hex_lines, shown_lines)
        problems += check_page(page, "expanded", size)

        # search the values; the page says how many records it scanned
        page.fill("form.browse-form input[name=q]", "desk lamp")
        page.select_option("form.browse-form select[name=in]", "value")
        page.click("form.browse-form button[type=submit]")
        page.locator(".browse-summary", has_text="Scanned").wait_for()
        assert page.locator("#messages li.msg").count() == 1
        scanned = 26 if size == "wide" else 27
        assert f"Scanned {scanned} records for 'desk lamp' in the value" in page.inner_text(".browse-summary")
        problems += check_page(page, "search", size)

        # the live tail: a record produced while watching shows up; a hidden tab pauses it
        page.goto(url)
        page.click("[data-tail-toggle]")
        page.wait_for_selector("[data-tail-url][data-tail-state=live]")
        p = kafka.producer(acks="all")
        p.produce(orders, key=f"live-{size}".encode(), value=json.dumps({"live": size}).encode(), partition=2)
        assert p.flush(30) == 0
        page.wait_for_selector(f"[data-tail-rows] li.msg >> text=live-{size}", timeout=20_000)
        problems += check_page(page, "tail", size)
        page.evaluate(HIDE)
        page.wait_for_selector("[data-tail-url][data-tail-state=paused]")
        page.evaluate(SHOW)
        page.wait_for_selector("[data-tail-url][data-tail-state=live]")
        page.click("[data-tail-toggle]")
        page.wait_for_selector("[data-tail-url][data-tail-state=closed]")
        ctx.close()
    assert not problems, "\n".join(problems)
