"""Pages through Django's test client over a hand-built snapshot in the store (no broker)."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from dashboard.clusters import default_cluster
from dashboard.state import store
from tests.factories import snapshot, unreachable

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]


def name() -> str:
    return default_cluster().name


class TestLoginRequired:
    @pytest.mark.parametrize("url", ["/", "/c/local/", "/c/local/groups/", "/c/local/topics/orders/"])
    def test_anonymous_is_sent_to_login(self, client, url):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")

    def test_anonymous_read_mode(self, client, settings):
        settings.ALLOW_ANONYMOUS_READ = True
        store.save(snapshot(cluster=name()))
        assert client.get(reverse("groups", args=[name()])).status_code == 200


class TestPages:
    def test_every_page_renders_from_the_store(self, viewer):
        store.save(snapshot(cluster=name(), members={"g1": [("m-1", "client-a", [("orders", 0)])]}))
        for url in [
            reverse("overview", args=[name()]),
            reverse("brokers", args=[name()]),
            reverse("topics", args=[name()]),
            reverse("topic", args=[name(), "orders"]),
            reverse("groups", args=[name()]),
            reverse("group", args=[name(), "g1"]),
        ]:
            response = viewer.get(url)
            assert response.status_code == 200, url
            assert 'id="status"' in response.content.decode()

    def test_bad_query_is_a_clear_400_not_a_500(self, viewer):
        store.save(snapshot(cluster=name()))
        response = viewer.get(reverse("groups", args=[name()]), {"page": "-5"})
        assert response.status_code == 400
        assert "page must be a whole number" in response.content.decode()

    def test_unknown_things_are_404(self, viewer):
        store.save(snapshot(cluster=name()))
        assert viewer.get("/c/nope/").status_code == 404
        assert viewer.get(reverse("group", args=[name(), "missing"])).status_code == 404
        assert viewer.get(reverse("topic", args=[name(), "missing"])).status_code == 404

    def test_sorting_and_paging_in_the_url(self, viewer):
        groups = {f"g{i:03d}": {("orders", 0): i} for i in range(120)}
        store.save(snapshot(cluster=name(), groups=groups))
        html = viewer.get(reverse("groups", args=[name()]), {"sort": "lag", "page": "1"}).content.decode()
        assert "page 1 of 3" in html
        assert html.index(">g000<") < html.index(">g001<")  # g000 has the largest lag
        page3 = viewer.get(reverse("groups", args=[name()]), {"sort": "name", "page": "3"}).content.decode()
        assert ">g119<" in page3 and ">g000<" not in page3

    def test_waiting_page_before_the_first_snapshot(self, viewer):
        html = viewer.get(reverse("groups", args=[name()])).content.decode()
        assert "Waiting for the first snapshot" in html


class TestProbes:
    def test_healthz_always_ok(self, client):
        assert client.get("/healthz").json() == {"status": "ok"}

    def test_readyz_follows_the_store(self, client):
        assert client.get("/readyz").status_code == 503
        store.save(snapshot(cluster=name(), at=datetime.now(UTC)))
        assert client.get("/readyz").status_code == 200
        store.save(unreachable(cluster=name()))
        response = client.get("/readyz")
        assert response.status_code == 503 and response.json()["problems"][name()] == "cluster unreachable"


class TestStatusBadges:
    def test_status_column_filter_and_detail(self, viewer):
        from kafka_admin.figures.tracker import FigureTracker
        from tests.factories import later

        tracker = FigureTracker(status_samples=24, status_min_samples=12)
        for t in range(0, 200, 5):
            snap = snapshot(
                later(t),
                cluster=name(),
                ends={"orders": [10 * t + 100]},
                groups={"stopped-grp": {("orders", 0): 100}, "healthy-grp": {("orders", 0): 10 * t + 100}},
            )
            figures = tracker.update(snap)
        store.save(snap, figures)
        html = viewer.get(reverse("groups", args=[name()])).content.decode()
        assert 'class="badge err"' in html and ">STOP<" in html
        problems = viewer.get(reverse("groups", args=[name()]), {"status": "problems"}).content.decode()
        assert "stopped-grp" in problems and "healthy-grp" not in problems
        assert viewer.get(reverse("groups", args=[name()]), {"status": "BAD"}).status_code == 400
        detail = viewer.get(reverse("group", args=[name(), "stopped-grp"])).content.decode()
        assert 'data-testid="group-status">STOP<' in detail


class TestChartGaps:
    def test_an_outage_breaks_the_line(self):
        from datetime import timedelta

        from dashboard.monitor import fragments
        from dashboard.state import history

        now = datetime.now(UTC)
        for minutes in (50, 49, 48, 20, 19):  # no samples between 48 and 20 minutes ago
            history.record(snapshot(now - timedelta(minutes=minutes), cluster=name()))
        chart = fragments.chart_context(name(), "g1", "1h")["chart"]
        assert chart["lag"] == [10, 10, 10, None, 10, 10]
        assert len(chart["t"]) == len(chart["lag"]) == len(chart["time_lag"])


class TestMessageBrowserWhenUnreachable:
    def test_the_topic_page_reads_no_records_while_the_cluster_is_unreachable(self, viewer):
        """A read would only wait for its timeout; the page says so and Read still tries."""
        store.save(snapshot(cluster=name()))
        store.save(unreachable(cluster=name()))
        started = datetime.now(UTC)
        text = viewer.get(reverse("topic", args=[name(), "orders"])).content.decode()
        assert "did not answer the last poll, so no records were read" in text
        assert (datetime.now(UTC) - started).total_seconds() < 2
