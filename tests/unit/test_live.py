"""Fragments are rendered once per cycle for every subscriber and only sent when they changed."""

import pytest

from dashboard.clusters import default_cluster
from dashboard.live.publisher import Publisher
from dashboard.live.registry import page_fragments, render
from dashboard.live.subscriptions import subscribe
from dashboard.monitor import fragments  # noqa: F401 - fragments registers the renderers
from dashboard.state import store
from tests.factories import later, snapshot, unreachable

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]


def cluster() -> str:
    return default_cluster().name


class TestPublisher:
    def test_renders_each_fragment_once_and_skips_unchanged(self):
        store.save(snapshot(cluster=cluster()))
        specs = page_fragments("group", {"group": "g1"})
        subscribe(specs)
        subscribe(specs)  # a second page with the same view shares the subscriptions
        publisher = Publisher(cluster())
        first = publisher.changed()
        assert len(first) == len(specs)
        assert publisher.rendered == len(specs)
        assert publisher.changed() == []  # nothing changed, nothing sent

        store.save(snapshot(later(5), cluster=cluster(), groups={"g1": {("orders", 0): 95, ("orders", 1): 100}}))
        changed = dict(publisher.changed())
        summary = next(s for s in specs if s.name == "group-summary")
        assert summary.group in changed
        assert ">5<" in changed[summary.group].replace(" ", "")

    def test_stale_banner_is_published(self):
        store.save(snapshot(cluster=cluster()))
        [status] = page_fragments("brokers", {})[:1]
        subscribe([status])
        publisher = Publisher(cluster())
        publisher.changed()
        store.save(unreachable(later(10), cluster=cluster(), message="cluster unreachable at x: Connection refused"))
        [(group, html)] = publisher.changed()
        assert group == status.group
        assert "unreachable" in html and "Connection refused" in html and "last good data" in html

    def test_expired_subscriptions_are_not_rendered(self):
        from datetime import timedelta

        from django.utils import timezone

        from dashboard.models import LiveSubscription

        store.save(snapshot(cluster=cluster()))
        subscribe(page_fragments("overview", {}))
        LiveSubscription.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        assert Publisher(cluster()).changed() == []


class TestEscaping:
    def test_hostile_group_and_topic_names_render_escaped(self):
        evil = '<script>alert("g")</script>'
        evil_topic = "t<img src=x onerror=alert(1)>"
        store.save(snapshot(cluster=cluster(), ends={evil_topic: [10]}, groups={evil: {(evil_topic, 0): 1}}))
        pages = [("groups", {}), ("group", {"group": evil}), ("topics", {}), ("topic", {"topic": evil_topic})]
        for page, query in [*pages, ("overview", {})]:
            for spec in page_fragments(page, query):
                html = render(spec)
                assert "<script>alert" not in html and "<img src=x" not in html, (page, spec.name)
        html = render(page_fragments("groups", {})[1])
        assert "&lt;script&gt;alert(&quot;g&quot;)&lt;/script&gt;" in html
