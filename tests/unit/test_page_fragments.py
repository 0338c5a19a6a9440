"""The group page's snapshot-only fragments (summary, partitions, members) and the overview's are
rendered once per stored state (store.derived), shared by the page and the live publisher, and
must still show each new cycle's data and an outage."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.clusters import default_cluster
from dashboard.live.registry import FragmentSpec
from dashboard.monitor import fragments
from dashboard.state import store
from kafka_admin.figures.tracker import FigureTracker
from tests.factories import later, snapshot, unreachable

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]


def name() -> str:
    return default_cluster().name


def save(at: float, committed: int) -> None:
    snap = snapshot(at=later(at), cluster=name(), groups={"g1": {("orders", 0): committed}, "g2": {("orders", 1): 3}})
    store.save(snap, FigureTracker().update(snap))


def test_page_and_websocket_get_the_same_fragments(viewer):
    save(0, 90)
    html = viewer.get(reverse("group", args=[name(), "g1"])).content.decode()
    for fragment, template in (
        ("group-summary", "group_summary"),
        ("group-partitions", "group_partitions"),
        ("group-members", "group_members"),
    ):
        spec = FragmentSpec(fragment, name(), (("group", "g1"),))
        drawn = {
            "group-summary": fragments.render_group_summary,
            "group-partitions": fragments.render_group_partitions,
            "group-members": fragments.render_group_members,
        }[fragment](spec)
        assert drawn.startswith(f'<section id="{fragment}"'), template
        assert drawn in html


def test_built_once_per_snapshot_and_group_then_a_new_cycle_shows_new_lags(viewer):
    save(0, 90)
    first = fragments.group_fragments(name(), "g1")
    assert fragments.group_fragments(name(), "g1") is first  # the per-snapshot copy
    assert fragments.group_fragments(name(), "g2") is not first
    assert 'data-testid="group-lag">10<' in first["group_summary"]
    save(5, 40)
    url = reverse("group", args=[name(), "g1"])
    html = viewer.get(url).content.decode()
    assert 'data-testid="group-lag">60<' in html and 'data-testid="group-lag">10<' not in html


def test_before_the_first_snapshot_nothing_is_kept():
    store.clear(name())
    assert fragments.group_fragments(name(), "g1")["group_summary"].startswith('<section id="group-summary"')
    assert name() not in store._derived


def test_overview_page_and_websocket_get_the_same_fragments(viewer):
    save(0, 90)
    html = viewer.get(reverse("overview", args=[name()])).content.decode()
    for fragment, render in (
        ("overview-health", fragments.render_overview_health),
        ("overview-groups", fragments.render_overview_groups),
        ("overview-topics", fragments.render_overview_topics),
    ):
        drawn = render(FragmentSpec(fragment, name()))
        assert drawn.startswith(f'<section id="{fragment}"') and drawn in html
    assert fragments.overview_fragments(name()) is fragments.overview_fragments(name())


def test_overview_shows_an_outage_on_the_same_snapshot(viewer):
    save(0, 90)
    assert "stale" not in fragments.render_overview_health(FragmentSpec("overview-health", name()))
    store.save(unreachable(at=later(5), cluster=name()))
    sent = fragments.render_overview_health(FragmentSpec("overview-health", name()))
    assert 'class="tiles stale"' in sent
    assert sent in viewer.get(reverse("overview", args=[name()])).content.decode()


def test_group_fragments_take_one_derived_value_and_are_bounded(monkeypatch):
    monkeypatch.setattr(fragments, "GROUPS_KEPT", 3)
    snap = snapshot(cluster=name(), groups={f"g{i}": {("orders", 0): i} for i in range(5)})
    store.save(snap, FigureTracker().update(snap))
    for i in range(5):
        fragments.group_fragments(name(), f"g{i}")
    values = store._derived[name()][2]
    assert [k for k in values if "group-fragments" in str(k)] == ["group-fragments"]
    assert list(values["group-fragments"]) == ["g2", "g3", "g4"]  # the oldest make room
    assert 'data-testid="group-lag">100<' in fragments.group_fragments(name(), "g0")["group_summary"]
