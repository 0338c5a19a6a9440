"""Navigation on every page, links between things that name each other, and the nav's search."""

import re

import pytest
from django.urls import reverse, set_script_prefix

from dashboard.clusters import default_cluster
from dashboard.search import LIMIT, search
from dashboard.state import store
from dashboard.templatetags import nav
from tests.factories import snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]

ENDS = {"orders": [100, 100], "orders-dlq": [5], "payments": [10], "__consumer_offsets": [1]}
GROUPS = {
    "demo-order-processor": {("orders", 0): 90},
    "demo-at-least-once": {("orders", 0): 95, ("orders", 1): 100},
    "dlq-watcher": {("orders-dlq", 0): 5},
    "payments-app": {("payments", 0): 10},
}


def name() -> str:
    return default_cluster().name


@pytest.fixture
def cluster_state():
    store.save(snapshot(cluster=name(), ends=ENDS, groups=GROUPS))


def nav_links(html: str) -> list[str]:
    nav = re.search(r'<nav class="nav" aria-label="Sections">(.*?)</nav>', html, re.S).group(1)
    return re.findall(r'href="([^"]+)"', nav)


class TestNavEverywhere:
    @pytest.mark.parametrize("url", ["alerts", "audit"])
    def test_pages_without_a_cluster_keep_the_nav_and_the_cluster(self, viewer, cluster_state, url):
        html = viewer.get(reverse(url)).content.decode()
        links = nav_links(html)
        assert reverse("overview", args=[name()]) in links and reverse("groups", args=[name()]) in links
        assert reverse("alerts") in links and reverse("audit") in links
        assert f'<span class="cluster-name">{name()}</span>' in html
        assert 'role="search"' in html and f'action="{reverse("search", args=[name()])}"' in html

    def test_cluster_pages_have_the_same_nav(self, viewer, cluster_state):
        overview = nav_links(viewer.get(reverse("overview", args=[name()])).content.decode())
        alerts = nav_links(viewer.get(reverse("alerts")).content.decode())
        assert (
            overview == alerts and len(overview) == 8
        )  # Overview, Groups, Topics, Dead letters, Schemas, Brokers, Alerts, Audit

    def test_the_nav_is_the_pages_cluster_under_the_script_prefix(self, viewer, cluster_state):
        """The links are reversed once per cluster, URL configuration and script prefix."""
        url = reverse("groups", args=[name()])
        plain = nav_links(viewer.get(url).content.decode())
        set_script_prefix("/dash/")  # mounted under /dash/ (SCRIPT_NAME): every link carries it
        try:
            prefixed = nav_links(viewer.get(url).content.decode())
        finally:
            set_script_prefix("/")
        assert prefixed == ["/dash" + link for link in plain]
        assert nav_links(viewer.get(url).content.decode()) == plain
        assert nav.nav_links("eu-west.staging")["groups"] == "/c/eu-west.staging/groups/"
        assert nav.nav_links("a")["search"] == "/c/a/search/" and nav.nav_links("a")["alerts"] == "/alerts/"

    def test_login_page_has_no_nav_links(self, client):
        assert nav_links(client.get(reverse("login")).content.decode()) == []


class TestLinks:
    def test_topic_page_of_a_dlq_links_to_its_dlq_page_and_original(self, viewer, cluster_state):
        html = viewer.get(reverse("topic", args=[name(), "orders-dlq"])).content.decode()
        assert f'href="{reverse("dlq_topic", args=[name(), "orders-dlq"])}"' in html
        assert f'href="{reverse("topic", args=[name(), "orders"])}"' in html

    def test_original_topic_links_to_its_dlq(self, viewer, cluster_state):
        html = viewer.get(reverse("topic", args=[name(), "orders"])).content.decode()
        assert f'href="{reverse("dlq_topic", args=[name(), "orders-dlq"])}"' in html
        assert "payments" not in re.search(r'<p class="related">(.*?)</p>', html, re.S).group(1)

    def test_dlq_page_links_to_original_and_the_groups(self, viewer, cluster_state):
        html = viewer.get(reverse("dlq_topic", args=[name(), "orders-dlq"])).content.decode()
        related = re.search(r'<p class="related">(.*?)</p>', html, re.S).group(1)
        assert f'href="{reverse("topic", args=[name(), "orders"])}"' in related
        for group in ("demo-order-processor", "demo-at-least-once", "dlq-watcher"):
            assert f'href="{reverse("group", args=[name(), group])}"' in related, group
        assert "payments-app" not in related


class TestSearch:
    def test_finds_groups_topics_and_dlqs_by_every_word(self):
        snap = snapshot(ends=ENDS, groups=GROUPS)
        hits = search(snap, "ORDER")
        assert hits["groups"].names == ["demo-order-processor"]
        assert hits["topics"].names == ["orders"] and hits["dlqs"].names == ["orders-dlq"]
        assert search(snap, "demo once")["groups"].names == ["demo-at-least-once"]
        assert search(snap, "consumer_offsets")["topics"].total == 0  # internal topics are not listed
        assert all(h.total == 0 for h in search(snap, "   ").values())

    def test_regex_characters_are_plain_text(self):
        snap = snapshot(ends={"a.b": [1], "axb": [1]}, groups={})
        assert search(snap, "a.b")["topics"].names == ["a.b"]
        assert search(snap, ".*")["topics"].total == 0

    def test_results_are_bounded_with_the_total(self):
        snap = snapshot(ends={"t": [1]}, groups={f"g-{i:04d}": {("t", 0): 0} for i in range(LIMIT * 3)})
        hits = search(snap, "g-")["groups"]
        assert (len(hits.names), hits.total) == (LIMIT, LIMIT * 3)

    def test_page_links_every_kind_and_escapes_the_query(self, viewer, cluster_state):
        html = viewer.get(reverse("search", args=[name()]), {"q": "order"}).content.decode()
        assert f'href="{reverse("group", args=[name(), "demo-order-processor"])}"' in html
        assert f'href="{reverse("topic", args=[name(), "orders"])}"' in html
        assert f'href="{reverse("dlq_topic", args=[name(), "orders-dlq"])}"' in html
        evil = viewer.get(reverse("search", args=[name()]), {"q": "<script>x</script>"}).content.decode()
        assert "<script>x</script>" not in evil and "&lt;script&gt;x&lt;/script&gt;" in evil

    @pytest.mark.parametrize("q", ["x" * 201, "a\x00b"])
    def test_bad_input_is_a_400(self, viewer, cluster_state, q):
        assert viewer.get(reverse("search", args=[name()]), {"q": q}).status_code == 400
