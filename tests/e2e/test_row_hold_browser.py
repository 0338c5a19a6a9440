"""In headless Chromium: live updates never move the row under the pointer.

The groups list (filtered to this test's groups, sorted by lag) gets two live updates that reverse
its order while the pointer rests on a row: the row stays under the pointer and its lag changes in
place; when the pointer leaves, the server's order is applied. Ties are ordered by name.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS

pytestmark = [pytest.mark.e2e, pytest.mark.broker]

VIEWPORTS = {"desktop": (1440, 900), "phone": (390, 844)}

ROW_ORDER = (
    "() => Array.from(document.querySelectorAll('#groups-table tbody tr')).map(r => r.cells[0].textContent.trim())"
)


def lag_of(page, group: str) -> str:
    return page.evaluate(
        """(g) => { const r = Array.from(document.querySelectorAll('#groups-table tbody tr'))
                    .find(r => r.cells[0].textContent.trim() === g);
                    return r ? r.cells[6].textContent.trim() : null; }""",
        group,
    )


def under_pointer(page, x: float, y: float) -> str | None:
    return page.evaluate(
        """([x, y]) => { const r = document.elementFromPoint(x, y)?.closest('tr');
                         return r ? r.cells[0].textContent.trim() : null; }""",
        [x, y],
    )


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_row_under_the_pointer_stays_through_two_updates(page, server, kafka, viewport):
    width, height = VIEWPORTS[viewport]
    page.set_viewport_size({"width": width, "height": height})
    prefix = kafka.unique("hold")
    topic = kafka.create_topic(partitions=1)
    kafka.produce(topic, 100, partition=0)
    a, b, c = f"{prefix}-a", f"{prefix}-b", f"{prefix}-c"
    for group, committed in ((a, 90), (b, 80), (c, 70)):  # lags 10, 20, 30
        kafka.commit(group, [(topic, 0, committed)])

    page.goto(f"{server.url}/c/e2e/groups/?q={prefix}&sort=lag&order=desc")
    page.wait_for_function("() => document.body.dataset.ws === 'open'", timeout=60_000)
    page.wait_for_function(f"() => ({ROW_ORDER})().join() === '{c},{b},{a}'", timeout=60_000)

    row = page.locator("#groups-table tbody tr", has_text=a).first
    box = row.bounding_box()
    x, y = box["x"] + min(40, box["width"] / 2), box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    assert under_pointer(page, x, y) == a

    for committed_a, expected_lag in ((40, "60"), (5, "95")):  # a becomes the most lagging group, twice
        kafka.commit(a, [(topic, 0, committed_a)])
        page.wait_for_function(
            """(g) => Array.from(document.querySelectorAll('#groups-table tbody tr'))
                 .some(r => r.cells[0].textContent.trim() === g[0] && r.cells[6].textContent.trim() === g[1])""",
            arg=[a, expected_lag],
            timeout=30_000,
        )
        assert page.evaluate(ROW_ORDER) == [c, b, a], "the order was held while the pointer rested"
        assert under_pointer(page, x, y) == a
        assert lag_of(page, a) == expected_lag
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"groups-row-held-{viewport}.png"), full_page=True)

    page.mouse.move(5, 5)  # off the table: the server's order applies
    page.wait_for_function(f"() => ({ROW_ORDER})().join() === '{a},{c},{b}'", timeout=10_000)

    # Equal lags order by name, A to Z, whichever way the column sorts.
    for group in (a, b, c):
        kafka.commit(group, [(topic, 0, 50)])
    page.wait_for_function(f"() => ({ROW_ORDER})().join() === '{a},{b},{c}'", timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / f"groups-row-released-{viewport}.png"), full_page=True)
