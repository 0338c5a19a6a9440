"""/metrics at size: the cycle's text rendered once and reused by every scrape, no broker call, and the
per-partition group series left out above METRICS_PARTITION_SERIES_MAX (the per-group series stay)."""

from __future__ import annotations

import pytest
from prometheus_client import generate_latest

from dashboard import metrics
from dashboard.state import store
from dashboard.state.store import ClusterState
from kafka_admin import clients
from tests.unit.test_metrics import busy_cluster, name, of, parse, scrape

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]


@pytest.fixture
def counted(monkeypatch):
    """How often the cycle's text is built, and how often anything builds a broker client."""
    calls = {"cycle": 0, "admin": 0}
    build = metrics._render_cycle

    def counting(*args, **kwargs):
        calls["cycle"] += 1
        return build(*args, **kwargs)

    def no_admin(*args, **kwargs):
        calls["admin"] += 1
        raise AssertionError("a scrape built a broker client")

    monkeypatch.setattr(metrics, "_render_cycle", counting)
    monkeypatch.setattr(clients, "make_admin", no_admin)
    return calls


class TestRenderedOncePerCycle:
    def test_scrapes_reuse_the_cycles_text(self, client, counted):
        snap, figures = busy_cluster(name())
        store.save(snap, figures)
        moving = "kafka_dashboard_snapshot_age_seconds"
        first = scrape(client)
        for _ in range(5):
            found = scrape(client)
            assert {k: v for k, v in found.items() if k[0] != moving} == {
                k: v for k, v in first.items() if k[0] != moving
            }
        assert counted == {"cycle": 1, "admin": 0}
        later_snap, later_figures = busy_cluster(name())  # the next cycle: new objects, rendered again once
        store.save(later_snap, later_figures)
        scrape(client)
        scrape(client)
        assert counted == {"cycle": 2, "admin": 0}

    def test_the_poller_prerenders_once_metrics_are_scraped(self, client, counted):
        snap, figures = busy_cluster(name())
        store.save(snap, figures)
        metrics.prerender(store.state(name()))
        scrape(client)
        assert counted["cycle"] == 1
        store.save(*busy_cluster(name()))
        metrics.prerender(store.state(name()))  # what Poller.cycle does after store.save
        assert counted["cycle"] == 2
        scrape(client)
        scrape(client)
        assert counted["cycle"] == 2

    def test_per_scrape_values_still_move(self, client, counted):
        snap, figures = busy_cluster(name())
        store.save(snap, figures)
        age = of(scrape(client), "kafka_dashboard_snapshot_age_seconds")
        again = of(scrape(client), "kafka_dashboard_snapshot_age_seconds")
        assert next(iter(again.values())) >= next(iter(age.values())) > 0


class TestPartitionSeriesOptIn:
    PER_PARTITION = ("kafka_consumergroup_lag", "kafka_consumergroup_current_offset")
    PER_GROUP = ("kafka_consumergroup_lag_sum", "kafka_consumergroup_members", "kafka_dashboard_consumergroup_status")

    def test_left_out_above_the_setting_with_the_group_series_kept(self, client, settings):
        settings.METRICS_PARTITION_SERIES_MAX = 4  # busy_cluster has 5 group-partitions
        store.save(*busy_cluster(name()))
        found = scrape(client)
        assert of(found, *self.PER_PARTITION) == {}
        assert of(found, "kafka_dashboard_consumergroup_lag_seconds") == {}
        assert len(of(found, "kafka_consumergroup_lag_sum")) == 3
        assert len(of(found, "kafka_consumergroup_members")) == 2
        assert len(of(found, "kafka_dashboard_consumergroup_status")) == 2
        assert list(of(found, "kafka_dashboard_consumergroup_partition_series").values()) == [0]
        assert len(of(found, "kafka_topic_partition_current_offset")) == 6  # topics are not group-partitions

    @pytest.mark.parametrize("limit", [5, 0])
    def test_exported_at_or_below_the_setting_and_when_it_is_zero(self, client, settings, limit):
        settings.METRICS_PARTITION_SERIES_MAX = limit
        store.save(*busy_cluster(name()))
        found = scrape(client)
        assert len(of(found, "kafka_consumergroup_current_offset")) == 5
        assert list(of(found, "kafka_dashboard_consumergroup_partition_series").values()) == [1]

    @pytest.mark.parametrize("limit", [4, 0])
    def test_the_output_equals_generate_latest(self, settings, limit):
        settings.METRICS_PARTITION_SERIES_MAX = limit
        snap, figures = busy_cluster("local")
        cm = [metrics.ClusterMetrics(ClusterState("local", snap, None, figures), {"orders-dlq": 2})]
        body = metrics.render(cm, snap.collected_at)
        assert body == generate_latest(metrics.registry_for(cm, snap.collected_at))
        assert parse(body.decode())
