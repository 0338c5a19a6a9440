"""The groups list's per-snapshot work: rows, orders and the rendered table are computed once per
stored snapshot and process (store.derived), and must still show each new cycle's data."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from django.urls import reverse

from dashboard.clusters import default_cluster
from dashboard.monitor import fragments, rows
from dashboard.monitor.queries import GroupListQuery
from dashboard.state import store
from kafka_admin.figures.timelag import TimeLag
from kafka_admin.figures.tracker import FigureTracker
from kafka_admin.snapshot.model import Group
from tests.factories import later, snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]


def name() -> str:
    return default_cluster().name


class TestStableTimeLag:
    @pytest.mark.parametrize(
        ("seconds", "shown"),
        [
            (0.0, "≥ 0 s"),
            (4.7, "≥ 4 s"),
            (9.9, "≥ 9 s"),
            (12.0, "≥ 10 s"),
            (59.0, "≥ 30 s"),
            (61.0, "≥ 1m 00s"),
            (299.0, "≥ 2m 00s"),
        ],
    )
    def test_a_lower_bound_is_rounded_down_to_a_step(self, seconds, shown):
        assert rows.stable_timelag(TimeLag(seconds, True, "older than history")) == shown

    def test_the_text_holds_still_between_steps(self):
        shown = {rows.stable_timelag(TimeLag(float(s), True, "older than history")) for s in range(300, 600, 5)}
        assert shown == {"≥ 5m 00s"}

    def test_exact_values_stay_exact(self):
        assert rows.stable_timelag(TimeLag(12.3, False, "interpolated")) == "12 s"
        assert rows.stable_timelag(TimeLag(545.0, False, "record timestamp")) == "9m 05s"
        stuck = {rows.stable_timelag(TimeLag(float(s), False, "record timestamp")) for s in range(7200, 7260, 5)}
        assert stuck == {"2h 00m"}  # an exact, growing time lag changes the list once a minute
        assert rows.stable_timelag(TimeLag(725.0, False, "record timestamp")) == "12m 00s"
        assert rows.stable_timelag(TimeLag(None, False, "no history")) == "—"


class TestDerived:
    def test_built_once_per_stored_snapshot(self):
        calls = []

        def build(state: store.ClusterState) -> int:
            calls.append(state.snapshot)
            return len(calls)

        store.save(snapshot(cluster=name()))
        first = store.derived(store.state(name()), "k", build)
        assert store.derived(store.state(name()), "k", build) == first == 1
        store.save(snapshot(at=later(5), cluster=name()))
        assert store.derived(store.state(name()), "k", build) == 2

    def test_a_state_read_afresh_from_the_cache_starts_over(self):
        store.save(snapshot(cluster=name()))
        assert store.derived(store.state(name()), "k", lambda s: "old") == "old"
        store._memo.clear()  # another process: it unpickles its own copy
        assert store.derived(store.state(name()), "k", lambda s: "new") == "new"

    def test_bounded(self):
        store.save(snapshot(cluster=name()))
        state = store.state(name())
        for i in range(store.DERIVED_MAX + 10):
            store.derived(state, ("q", i), lambda s, i=i: i)
        assert len(store._derived[name()][2]) == store.DERIVED_MAX


class TestGroupsTable:
    def test_a_new_cycle_shows_new_lags(self, viewer):
        url = reverse("groups", args=[name()])
        store.save(snapshot(cluster=name(), groups={"g1": {("orders", 0): 90}}))
        assert ">10<" in viewer.get(url).content.decode()
        assert ">10<" in viewer.get(url).content.decode()  # from the per-snapshot copy
        store.save(snapshot(at=later(5), cluster=name(), groups={"g1": {("orders", 0): 40}}))
        html = viewer.get(url).content.decode()
        assert ">60<" in html and ">10<" not in html

    def test_page_htmx_and_websocket_get_the_same_fragment(self, viewer):
        store.save(snapshot(cluster=name(), groups={f"g{i}": {("orders", 0): i} for i in range(60)}))
        url = reverse("groups", args=[name()])
        query = {"sort": "lag", "order": "desc", "page": "2"}
        fragment = fragments.render_groups(
            fragments.FragmentSpec("groups-table", name(), GroupListQuery.parse(query).params())
        )
        assert fragment.startswith('<section id="groups-table"')
        assert fragment in viewer.get(url, query).content.decode()
        assert viewer.get(url, query, headers={"HX-Request": "true", "HX-Target": "groups-table"}).content.decode() == (
            fragment
        )

    def test_hostile_group_ids_are_escaped(self, viewer):
        hostile = '<script>alert("x")</script>'
        store.save(snapshot(cluster=name(), groups={hostile: {("orders", 0): 1}, "g/with/slash": {("orders", 0): 2}}))
        for _ in range(2):  # rendered, then served from the per-snapshot copy
            html = viewer.get(reverse("groups", args=[name()])).content.decode()
            assert hostile not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
            assert ">g/with/slash<" in html

    def test_filters_and_orders_equal_a_plain_sort_of_the_filtered_rows(self):
        rng = random.Random(6)
        groups = {
            f"{rng.choice(['Pay', 'pay', 'ship', 'Ship'])}-{i:03d}": {("orders", 0): rng.randint(0, 100)}
            for i in range(150)
        }
        states = {gid: rng.choice(["Stable", "Empty"]) for gid in groups}
        tracker = FigureTracker()
        snap = snapshot(cluster=name(), groups=groups, states=states)
        store.save(snap, tracker.update(snap))
        state = store.state(name())
        for sort in rows.GROUP_SORT_KEYS:
            for order in ("asc", "desc"):
                for extra in ({}, {"q": "pay"}, {"state": "Empty"}, {"status": "problems"}, {"q": "ORDERS"}):
                    query = GroupListQuery.parse({"sort": sort, "order": order, **extra})
                    plain = [rows.GroupRow(g, state.figures.groups.get(g.group_id)) for g in snap.groups]
                    if query.q:
                        plain = [r for r in plain if r.matches(query.q.lower())]
                    if query.state:
                        plain = [r for r in plain if r.group.state == query.state]
                    if query.status == "problems":
                        plain = [r for r in plain if r.status_rank >= 2]
                    plain = rows.order_groups(plain, sort, query.desc)
                    got = [r.group_id for r in rows.filtered_groups(state, query)]
                    assert got == [r.group_id for r in plain], (sort, order, extra)


class TestIdleTableHoldsStill:
    def test_an_idle_clusters_table_changes_only_when_a_lower_bound_passes_a_step(self):
        """Groups parked behind old records, nothing produced or committed: after the status windows
        fill, the rendered table (so what the publisher sends) stays the same from cycle to cycle."""
        ends = {f"t{i}": [10] * 10 for i in range(3)}
        groups = {f"g{i:02d}": {(f"t{i % 3}", p): 5 + (i + p) % 5 for p in range(10)} for i in range(20)}
        tracker = FigureTracker()
        query = GroupListQuery.parse({"sort": "lag", "order": "desc"})
        changed, previous = [], None
        for cycle in range(60):
            snap = snapshot(at=later(5 * cycle), cluster=name(), ends=ends, groups=groups)
            store.save(snap, tracker.update(snap))
            html = fragments.groups_table(name(), query)
            if html != previous:
                changed.append(cycle)
            previous = html
        late = [c for c in changed if c >= 20]
        assert len(late) <= 2, late  # "≥ 1m 00s" -> "≥ 2m 00s" once in these 40 cycles, not 40 changes
        assert "≥ 2m 00s" in previous and "older than history" in previous


class TestTypes:
    """Every type the broker lists is a row, with its type and protocol; the type is a filter."""

    def save_mixed(self) -> None:
        snap = snapshot(cluster=name(), groups={"c": {}})
        snap = replace(
            snap,
            groups=(
                Group("c", "Stable", "classic", protocol="connect"),
                Group("k", "Reconciling", "consumer", protocol="consumer"),
                Group("q", "Empty", "share", protocol="share"),
                Group("s", "NotReady", "streams", protocol="streams"),
                Group("odd", "Brewing", "cauldron", protocol="odd"),
                Group("old", "Stable", None),
            ),
        )
        store.save(snap, FigureTracker().update(snap))

    def ids(self, **query: str) -> list[str]:
        return [r.group_id for r in rows.filtered_groups(store.state(name()), GroupListQuery.parse(query))]

    def test_the_type_filter(self):
        self.save_mixed()
        assert sorted(self.ids()) == ["c", "k", "odd", "old", "q", "s"]
        assert self.ids(type="share") == ["q"]
        assert self.ids(type="streams") == ["s"]
        assert sorted(self.ids(type="other")) == ["odd", "old"]
        assert self.ids(type="classic", state="Stable") == ["c"]

    def test_an_unknown_type_filter_is_a_clear_400_not_a_500(self, viewer):
        response = viewer.get(reverse("groups", args=[name()]), {"type": "<script>"})
        assert response.status_code == 400
        assert b"<script>" not in response.content

    def test_the_page_shows_type_protocol_and_every_state(self, viewer):
        self.save_mixed()
        html = viewer.get(reverse("groups", args=[name()]), {"sort": "name"}).content.decode()
        assert 'class="type">classic <span class="muted" title="protocol type">· connect</span>' in html
        assert 'class="type">share</td>' in html and 'class="type">unknown</td>' in html
        assert "Reconciling" in html and "NotReady" in html and "Brewing" in html
        assert '<option value="streams"' in html and '<option value="NotReady"' in html


class TestTiesByName:
    def test_equal_values_order_by_name_ascending_in_both_directions(self):
        groups = {gid: {("orders", 0): 90} for gid in ("zeta", "alpha", "mid")}
        snap = snapshot(cluster=name(), groups=groups)
        store.save(snap, FigureTracker().update(snap))
        state = store.state(snap.cluster)
        for order in ("asc", "desc"):
            got = [
                r.group_id for r in rows.filtered_groups(state, GroupListQuery.parse({"sort": "lag", "order": order}))
            ]
            assert got == ["alpha", "mid", "zeta"], order


class TestFilters:
    def test_the_form_shows_the_query_escaped_and_is_kept_per_query(self, viewer):
        store.save(snapshot(cluster=name(), groups={"g1": {("orders", 0): 1}}))
        url = reverse("groups", args=[name()])
        hostile = {"q": '"><script>x</script>', "state": "Empty", "status": "problems", "type": "share"}
        for _ in range(2):  # rendered, then the kept copy
            html = viewer.get(url, hostile).content.decode()
            assert 'value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in html and "<script>x" not in html
            assert '<option value="Empty" selected>' in html and '<option value="share" selected>' in html
            assert '<option value="problems" selected>' in html
        plain = viewer.get(url).content.decode()
        assert 'name="q" value=""' in plain and " selected>" not in plain
        kept = fragments.groups_filters(name(), GroupListQuery.parse(hostile))
        assert fragments.groups_filters(name(), GroupListQuery.parse(hostile)) is kept
