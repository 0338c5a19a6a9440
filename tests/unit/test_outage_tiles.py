"""A broker outage in the tiles (issue 13 §4): plain words first, stale values dimmed with their age."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from dashboard.clusters import default_cluster
from dashboard.state import store
from dashboard.state.outage import UNKNOWN_CAUSE, plain_cause
from tests.factories import later, snapshot, unreachable

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]

REFUSED = (
    "cluster unreachable at 127.0.0.1:9092: Local: Timed out (Connect to ipv4#127.0.0.1:9092 failed: "
    "Connection refused (after 0ms in state CONNECT))"
)


class TestPlainCause:
    def test_a_refusal_wins_over_the_time_out_it_ends_in(self):
        assert plain_cause(REFUSED).startswith("No broker accepts connections")

    @pytest.mark.parametrize(
        ("raw", "start"),
        [
            ("Local: Timed out", "No broker answered in time"),
            ("Failed to resolve 'kafka.internal:9092': Name or service not known", "The brokers' host names"),
            ("SASL authentication error: Authentication failed", "The brokers refuse the dashboard's login"),
            ("SSL handshake failed", "The TLS connection"),
        ],
    )
    def test_known_causes(self, raw, start):
        assert plain_cause(raw).startswith(start)

    def test_anything_else(self):
        assert plain_cause("Broker: something new") == UNKNOWN_CAUSE


def test_tiles_say_the_cluster_is_down(viewer):
    name = default_cluster().name
    store.save(snapshot(cluster=name))
    store.save(unreachable(at=later(30), cluster=name, message=REFUSED))
    html = viewer.get(reverse("overview", args=[name])).content.decode()
    assert 'class="tiles stale"' in html
    brokers = re.search(r"<div class=\"[^\"]*\" data-testid=\"tile-brokers\".*?</div></div>", html, re.S).group(0)
    assert 'class="tile bad"' in brokers and '<div class="tile-value">0</div>' in brokers
    assert "of 1 last seen reachable" in brokers
    assert html.count('class="tile-age"') == 4  # every other tile: the last good value, and its age
    assert 'class="ws-state stale" data-ws-state data-stale>stale<' in html  # the pill is not "live"
    cause = re.search(r'data-testid="failure-cause">([^<]*)<', html).group(1)
    assert cause.startswith("No broker accepts connections")
    details = re.search(r'<details class="raw-error">.*?</details>', html, re.S).group(0)
    assert "Connection refused (after 0ms in state CONNECT)" in details
    assert "Showing the last good data" in html


def test_healthy_tiles_have_no_outage_marks(viewer):
    name = default_cluster().name
    store.save(snapshot(cluster=name))
    html = viewer.get(reverse("overview", args=[name])).content.decode()
    assert "tiles stale" not in html and "tile-age" not in html and "data-stale" not in html
    assert '<div class="tile" data-testid="tile-brokers">' in html
