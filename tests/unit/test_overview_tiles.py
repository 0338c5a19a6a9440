"""The overview's tiles say what needs attention (issue 13 §3): pure rules and the rendered page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from dashboard.clusters import default_cluster
from dashboard.state import store
from kafka_admin.figures.attention import needs_attention
from kafka_admin.figures.tracker import FigureTracker
from tests.factories import later, snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]


class TestNeedsAttention:
    @pytest.mark.parametrize("status", ["WARN", "STALL", "STOP", "REWIND"])
    def test_alarming_statuses(self, status):
        assert needs_attention(status, None)

    @pytest.mark.parametrize("status", ["OK", "NODATA"])
    def test_healthy_a_few_records_behind_is_not(self, status):
        assert not needs_attention(status, 0.4)

    def test_far_behind_in_seconds_is_even_when_ok(self):
        assert needs_attention("OK", 301.0) and not needs_attention("OK", 300.0)
        assert needs_attention("OK", 61.0, threshold_s=60)


def tile(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}".*?</div></div>', html, re.S)
    assert match, testid
    return match.group(0)


@pytest.fixture
def busy_cluster():
    """40 cycles 5 s apart: orders gets 10 records/s, __consumer_offsets 1,000/s (commits, bookkeeping).
    'stopped' never moves; 'nearly' stays 2 records behind; 'caught-up' is at the end."""
    name = default_cluster().name
    tracker = FigureTracker(status_samples=24, status_min_samples=12)
    for i in range(40):
        t = i * 5
        end = 100 + 10 * t
        snap = snapshot(
            later(t),
            cluster=name,
            ends={"orders": [end], "__consumer_offsets": [1000 * t]},
            groups={
                "stopped": {("orders", 0): 100},
                "nearly": {("orders", 0): end - 2},
                "caught-up": {("orders", 0): end},
            },
        )
        figures = tracker.update(snap)
    store.save(snap, figures)
    return name, figures


def test_groups_lagging_counts_groups_that_need_attention(viewer, busy_cluster):
    name, figures = busy_cluster
    assert figures.groups["stopped"].status.status == "STOP"
    html = viewer.get(reverse("overview", args=[name])).content.decode()
    lagging = tile(html, "tile-lagging")
    assert '<div class="tile-value">1</div>' in lagging and "of 3 groups need attention" in lagging


def test_a_group_two_records_behind_is_neutral_and_keeping_up(viewer, busy_cluster):
    name, figures = busy_cluster
    nearly = figures.groups["nearly"]
    assert nearly.within_noise and nearly.catch_up.reason == "keeping up"
    html = viewer.get(reverse("overview", args=[name])).content.decode()
    row = re.search(r"<tr>\s*<td><a href=\"[^\"]*/nearly/\">nearly</a>.*?</tr>", html, re.S).group(0)
    assert 'class="spark neutral"' in row and "keeping up" in row and "not catching up" not in row


def test_produce_rate_tile_leaves_out_kafkas_own_topics(viewer, busy_cluster):
    name, figures = busy_cluster
    assert figures.produce_rate == pytest.approx(10.0)
    assert figures.produce_rate_with_internal == pytest.approx(1010.0)
    produce = tile(viewer.get(reverse("overview", args=[name])).content.decode(), "tile-produce")
    assert "10.0/s" in produce and "1,010/s" not in produce


def test_an_offset_span_is_labelled_offsets_not_records(viewer, busy_cluster):
    name, _ = busy_cluster
    topics = viewer.get(reverse("topics", args=[name])).content.decode()
    assert ">Offsets</span>" in topics and ">Records" not in topics
    topic = viewer.get(reverse("topic", args=[name, "orders"])).content.decode()
    assert "offsets 2,050" in topic and " records ·" not in topic
