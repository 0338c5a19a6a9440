"""The status bar is rendered once per stored state, failure, firing alerts and live-ness
(pages.status_bar), yet every page request still shows what is true now: a new alert, an outage,
a collector crash's "ago"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from dashboard import pages
from dashboard.clusters import default_cluster
from dashboard.live.registry import FragmentSpec
from dashboard.models import AlertRule, AlertState
from dashboard.state import store
from kafka_admin.isolation.crash import Crash, Health
from tests.factories import later, snapshot, unreachable

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]


def name() -> str:
    return default_cluster().name


def bar(html: str) -> str:
    start = html.index('<div id="status"')
    return html[start : html.index("</main>")]


def test_the_page_shows_the_bar_the_websocket_sends_apart_from_live_ness(viewer):
    store.save(snapshot(cluster=name()))
    html = viewer.get(reverse("brokers", args=[name()])).content.decode()
    sent = pages.render_status(FragmentSpec("status", name()))
    assert "not live" in sent and "connecting…" in html
    assert sent.replace("not live", "connecting…") in html


def test_a_new_alert_shows_without_a_new_snapshot(viewer):
    store.save(snapshot(cluster=name()))
    url = reverse("groups", args=[name()])
    assert "firing" not in bar(viewer.get(url).content.decode())
    rule = AlertRule.objects.create(name="<b>lagging</b>", condition="lag_gt", threshold=1, pattern="*")
    AlertState.objects.create(rule=rule, cluster=name(), subject="g1", firing_since=datetime.now(UTC))
    shown = bar(viewer.get(url).content.decode())
    assert "1 alert firing" in shown and "&lt;b&gt;lagging&lt;/b&gt; — g1" in shown and "<b>lagging" not in shown
    AlertState.objects.all().delete()
    assert "firing" not in bar(viewer.get(url).content.decode())


def test_an_outage_shows_on_the_same_snapshot(viewer):
    store.save(snapshot(cluster=name()))
    url = reverse("groups", args=[name()])
    assert "unreachable" not in bar(viewer.get(url).content.decode())
    store.save(unreachable(at=later(5), cluster=name()))
    shown = bar(viewer.get(url).content.decode())
    assert f"Cluster {name()} unreachable" in shown and "Showing the last good data" in shown


def test_a_collector_crash_ago_follows_the_clock(viewer):
    store.save(snapshot(cluster=name()))
    url = reverse("groups", args=[name()])
    at = datetime.now(UTC) - timedelta(minutes=3)
    store.save_collector_health(name(), Health().with_crash(Crash(at, "SIGABRT")))
    assert "collector restarted 3\xa0minutes ago" in bar(viewer.get(url).content.decode())
    store.save_collector_health(name(), Health().with_crash(Crash(at - timedelta(minutes=2), "SIGABRT")))
    assert "collector restarted 5\xa0minutes ago" in bar(viewer.get(url).content.decode())
