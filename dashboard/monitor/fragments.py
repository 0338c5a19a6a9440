"""What each live fragment shows: context builders and renderers, shared by the full-page views
(first load) and the publisher (websocket updates), so there is one way to draw each thing.

Fragments never depend on who is looking (they are rendered once for everybody); per-user
controls stay outside them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.text import Truncator

from dashboard.live.registry import FragmentSpec, live_page, renderer
from dashboard.monitor.queries import RANGES, GroupListQuery, TopicListQuery
from dashboard.params import choice_param, name_param, paginate
from dashboard.state import history, store
from dashboard.templatetags import dash
from kafka_admin.figures.rates import sparkline_points
from kafka_admin.figures.timelag import TimeLag
from kafka_admin.figures.tracker import GroupFigures
from kafka_admin.snapshot.model import ClusterSnapshot, Group, Topic

SPARK_W, SPARK_H = 120, 28
GAP_FACTOR = 3  # a gap longer than 3 expected sample spacings is drawn as a gap, not bridged
NO_TIME_LAG = TimeLag(None, False, "no history")


class GroupRow:
    """One group as the groups list shows it.

    Built once per stored snapshot (store.derived) and shared by every request until the next
    cycle, so the values every request sorts and filters on are computed here once, and the
    display strings once per row shown. Read-only after construction.
    """

    def __init__(self, group: Group, figures: GroupFigures | None, cluster: str = "") -> None:
        self.group = group
        self.figures = figures
        self.cluster = cluster
        self.group_id = group.group_id
        self.total_lag = group.total_lag
        self.unknown_lag = any(o.lag is None for o in group.offsets)
        self.time_lag: TimeLag = figures.time_lag if figures else NO_TIME_LAG
        self.time_lag_sort = self.time_lag.seconds if self.time_lag.seconds is not None else -1.0
        self.status = str(figures.status.status) if figures and figures.status else "NODATA"
        self.status_rank = STATUS_RANK.get(self.status, 0)
        self.topics = group.topics
        self.id_lower = self.group_id.lower()
        self.topics_lower = tuple(t.lower() for t in self.topics)

    def matches(self, needle: str) -> bool:
        """The search box: a lower-cased needle in the group id or in one of its topics."""
        return needle in self.id_lower or any(needle in t for t in self.topics_lower)

    @cached_property
    def sparkline(self) -> str:
        """Computed only for the rows a page shows, not for every group in the cluster."""
        return sparkline(self.figures)

    # Display strings of the groups table: one attribute lookup per cell instead of filter chains.

    @cached_property
    def href(self) -> str:
        try:
            return reverse("group", args=[self.cluster, self.group_id])
        except NoReverseMatch:  # an id the URL pattern cannot carry: shown without a link
            return ""

    @cached_property
    def status_class(self) -> str:
        return dash.status_class(self.status)

    @cached_property
    def status_label(self) -> str:
        return dash.status_name(self.status)

    @cached_property
    def status_reason(self) -> str:
        return self.figures.status.reason if self.figures and self.figures.status else ""

    @cached_property
    def state_class(self) -> str:
        return dash.state_class(self.group.state)

    @cached_property
    def lag_text(self) -> str:
        return dash.num(self.total_lag)

    @cached_property
    def topics_text(self) -> str:
        return Truncator(", ".join(self.topics)).chars(60)

    @cached_property
    def time_lag_text(self) -> str:
        return stable_timelag(self.time_lag)


def stable_timelag(tl: TimeLag) -> str:
    """Time lag as the groups list shows it: a lower bound ("≥", older than the history) rounded
    down to a step of LOWER_BOUND_STEPS_S.

    Why: a consumer parked behind old records has a lower bound of "now - oldest point", which grows
    every cycle; shown to the second it changed the whole table on every cycle, and the live
    publisher re-sent it to every open page although nothing happened. Rounded down it is still a
    true lower bound, and it changes only when it passes a step. Exact values stay exact.
    """
    if tl.seconds is None or not tl.lower_bound:
        return dash.timelag(tl)
    step = max((s for s in LOWER_BOUND_STEPS_S if s <= tl.seconds), default=0)
    if step == 0:  # under 10 s: whole seconds ("≥ 0 s" would say nothing), for a few cycles at most
        return f"≥ {int(tl.seconds)} s"
    return "≥ " + (dash.duration(step) if step >= 60 else f"{step} s")


# Steps of a shown lower bound (below the first: whole seconds): 10 s, 30 s,
# 1 min, 2, 5, 10, 15, 30 min, 1, 2, 3, 6, 12 h, 1, 2, 7 d.
LOWER_BOUND_STEPS_S = (10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800)


@dataclass(frozen=True)
class TopicRow:
    topic: Topic
    produce_rate: float | None
    groups: tuple[str, ...]


def sparkline(figures: GroupFigures | None) -> str:
    if figures is None:
        return ""
    lags = [lag for _, lag in figures.lag_history]
    if len(lags) > 2 and min(lags) == max(lags):
        # A flat line drawn with two points looks the same as with N, and does not change every
        # time the history grows by a sample: an idle group's row stays the same, so it is not re-sent.
        lags = lags[:2]
    return sparkline_points(lags, SPARK_W, SPARK_H, pad=2)


def group_rows(state: store.ClusterState) -> list[GroupRow]:
    """Every group of the stored snapshot as a GroupRow, built once per snapshot and process."""
    return store.derived(state, "group-rows", _build_group_rows)


def _build_group_rows(state: store.ClusterState) -> list[GroupRow]:
    snap = state.snapshot
    if snap is None:
        return []
    figures = state.figures.groups
    return [GroupRow(g, figures.get(g.group_id), state.cluster) for g in snap.groups]


GROUP_SORT_KEYS = {
    "lag": lambda r: (r.total_lag, r.group_id),
    "time_lag": lambda r: (r.time_lag_sort, r.group_id),
    "name": lambda r: r.id_lower,
    "members": lambda r: (len(r.group.members), r.group_id),
    "state": lambda r: (r.group.state, r.group_id),
    "status": lambda r: (r.status_rank, r.total_lag, r.group_id),
}
STATUS_RANK = {"NODATA": 0, "OK": 1, "WARN": 2, "REWIND": 3, "STALL": 4, "STOP": 5}


def sorted_groups(state: store.ClusterState, sort: str, desc: bool) -> list[GroupRow]:
    """All rows in one order, sorted once per snapshot and process (callers must not mutate it).

    Filtering the sorted list gives the same order as sorting the filtered one (a stable sort)."""
    return store.derived(
        state,
        ("group-rows-sorted", sort, desc),
        lambda s: sorted(group_rows(s), key=GROUP_SORT_KEYS[sort], reverse=desc),
    )


def filtered_groups(state: store.ClusterState, query: GroupListQuery) -> list[GroupRow]:
    rows = sorted_groups(state, query.sort, query.desc)
    if query.q:
        needle = query.q.lower()
        rows = [r for r in rows if r.matches(needle)]
    if query.state:
        rows = [r for r in rows if r.group.state == query.state]
    if query.status == "problems":
        rows = [r for r in rows if r.status_rank >= STATUS_RANK["WARN"]]
    elif query.status:
        rows = [r for r in rows if r.status == query.status]
    return list(rows)


def consumers_by_topic(snap: ClusterSnapshot | None) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    if snap is None:
        return out
    for g in snap.groups:
        for topic in g.topics:
            out.setdefault(topic, set()).add(g.group_id)
    return out


TOPIC_SORT_KEYS = {
    "name": lambda r: r.topic.name.lower(),
    "partitions": lambda r: (len(r.topic.partitions), r.topic.name),
    "records": lambda r: (r.topic.records, r.topic.name),
    "rate": lambda r: (r.produce_rate or 0.0, r.topic.name),
    "groups": lambda r: (len(r.groups), r.topic.name),
}


def filtered_topics(state: store.ClusterState, query: TopicListQuery) -> list[TopicRow]:
    snap = state.snapshot
    if snap is None:
        return []
    consumers = consumers_by_topic(snap)
    rates = state.figures.topics
    rows = [
        TopicRow(t, rates[t.name].produce_rate if t.name in rates else None, tuple(sorted(consumers.get(t.name, ()))))
        for t in snap.topics
        if query.internal or not t.internal
    ]
    if query.q:
        rows = [r for r in rows if query.q.lower() in r.topic.name.lower()]
    rows.sort(key=TOPIC_SORT_KEYS[query.sort], reverse=query.desc)
    return rows


# --- renderers: one partial template per fragment, each with a stable id -----------------------


def _render(template: str, spec: FragmentSpec, **context: Any) -> str:
    return render_to_string(f"partials/{template}.html", {"cluster": spec.cluster, **context})


def overview_context(cluster: str) -> dict[str, Any]:
    state = store.state(cluster)
    snap = state.snapshot
    rows = sorted(group_rows(state), key=lambda r: (-r.total_lag, r.group_id))
    topics = [t for t in snap.topics if not t.internal] if snap else []
    rates = state.figures.topics
    busiest = sorted(
        ((t, rates[t.name].produce_rate if t.name in rates else None) for t in topics),
        key=lambda pair: -(pair[1] or 0.0),
    )
    return {
        "state": state,
        "snapshot": snap,
        "top_groups": rows[:10],
        "lagging_groups": sum(1 for r in rows if r.total_lag > 0),
        "group_count": len(rows),
        "topic_count": len(topics),
        "produce_rate": state.figures.produce_rate,
        "busiest_topics": busiest[:8],
    }


@renderer("overview-health")
def render_overview_health(spec: FragmentSpec) -> str:
    return _render("overview_health", spec, **overview_context(spec.cluster))


@renderer("overview-groups")
def render_overview_groups(spec: FragmentSpec) -> str:
    return _render("overview_groups", spec, **overview_context(spec.cluster))


@renderer("overview-topics")
def render_overview_topics(spec: FragmentSpec) -> str:
    return _render("overview_topics", spec, **overview_context(spec.cluster))


def brokers_context(cluster: str) -> dict[str, Any]:
    state = store.state(cluster)
    snap = state.snapshot
    led: dict[int, int] = {}
    if snap:
        for t in snap.topics:
            for p in t.partitions:
                if p.leader is not None:
                    led[p.leader] = led.get(p.leader, 0) + 1
    brokers = [(b, led.get(b.id, 0)) for b in snap.brokers] if snap else []
    return {"state": state, "snapshot": snap, "brokers": brokers}


@renderer("brokers-table")
def render_brokers(spec: FragmentSpec) -> str:
    return _render("brokers_table", spec, **brokers_context(spec.cluster))


def topics_context(cluster: str, query: TopicListQuery) -> dict[str, Any]:
    state = store.state(cluster)
    return {"state": state, "query": query, "page": paginate(filtered_topics(state, query), query.page)}


@renderer("topics-table")
def render_topics(spec: FragmentSpec) -> str:
    return _render("topics_table", spec, **topics_context(spec.cluster, TopicListQuery.parse(dict(spec.params))))


def topic_context(cluster: str, name: str) -> dict[str, Any]:
    state = store.state(cluster)
    snap = state.snapshot
    topic = snap.topic(name) if snap else None
    figures = state.figures.topics.get(name)
    partitions = (
        [(p, figures.partition_rates.get(p.partition) if figures else None) for p in topic.partitions]
        if (topic)
        else []
    )
    consumers = []
    if snap and topic:
        for g in snap.groups:
            offsets = [o for o in g.offsets if o.topic == name]
            assigned = any(a.topic == name for m in g.members for a in m.assignments)
            if offsets or assigned:
                lags = [o.lag for o in offsets if o.lag is not None]
                gf = state.figures.groups.get(g.group_id)
                tls = [
                    gf.partition_time_lags[(o.topic, o.partition)]
                    for o in offsets
                    if gf and (o.topic, o.partition) in gf.partition_time_lags
                ]
                worst = max((t for t in tls if t.seconds is not None), key=lambda t: t.seconds, default=NO_TIME_LAG)
                consumers.append({"group": g, "lag": sum(x for x in lags if x > 0), "time_lag": worst})
    consumers.sort(key=lambda c: (-c["lag"], c["group"].group_id))
    return {
        "state": state,
        "topic": topic,
        "topic_name": name,
        "partitions": partitions,
        "produce_rate": figures.produce_rate if figures else None,
        "consumers": consumers,
    }


@renderer("topic-partitions")
def render_topic_partitions(spec: FragmentSpec) -> str:
    return _render("topic_partitions", spec, **topic_context(spec.cluster, spec.param("topic")))


@renderer("topic-groups")
def render_topic_groups(spec: FragmentSpec) -> str:
    return _render("topic_groups", spec, **topic_context(spec.cluster, spec.param("topic")))


def groups_context(cluster: str, query: GroupListQuery) -> dict[str, Any]:
    state = store.state(cluster)
    return {"state": state, "query": query, "page": paginate(filtered_groups(state, query), query.page)}


def groups_table(cluster: str, query: GroupListQuery) -> str:
    """The groups-table fragment, rendered once per stored snapshot and query in this process.

    Page loads, htmx filter requests, websocket connects and the live publisher all draw it here,
    so at 1,000 groups a page load between two cycles costs a lookup, not a sort and a table. The
    fragment depends on the snapshot, the figures and the query alone (never on who is looking).
    """
    state = store.state(cluster)

    def build(state: store.ClusterState) -> str:
        context = {"state": state, "query": query, "page": paginate(filtered_groups(state, query), query.page)}
        return render_to_string("partials/groups_table.html", {"cluster": cluster, **context})

    if state.snapshot is None:
        return build(state)  # "waiting for the first snapshot": nothing worth keeping
    return store.derived(state, ("groups-table", query.params()), build)


@renderer("groups-table")
def render_groups(spec: FragmentSpec) -> str:
    return groups_table(spec.cluster, GroupListQuery.parse(dict(spec.params)))


def group_context(cluster: str, group_id: str) -> dict[str, Any]:
    state = store.state(cluster)
    snap = state.snapshot
    group = snap.group(group_id) if snap else None
    figures = state.figures.groups.get(group_id)
    rows = []
    if group is not None and snap is not None:
        committed = {(o.topic, o.partition): o for o in group.offsets}
        owners = {(a.topic, a.partition): m for m in group.members for a in m.assignments}
        ends = {(t.name, p.partition): p.end_offset for t in snap.topics for p in t.partitions}
        for tp in sorted(set(committed) | set(owners)):
            o = committed.get(tp)
            rows.append(
                {
                    "topic": tp[0],
                    "partition": tp[1],
                    "committed": o.committed if o else None,
                    "end_offset": o.end_offset if o else ends.get(tp),
                    "lag": o.lag if o else None,
                    "time_lag": figures.partition_time_lags.get(tp, NO_TIME_LAG) if figures else NO_TIME_LAG,
                    "status": figures.partition_statuses.get(tp) if figures else None,
                    "owner": owners.get(tp),
                }
            )
    return {
        "state": state,
        "group": group,
        "group_id": group_id,
        "figures": figures,
        "rows": rows,
        "sparkline": sparkline(figures),
    }


@renderer("group-summary")
def render_group_summary(spec: FragmentSpec) -> str:
    return _render("group_summary", spec, **group_context(spec.cluster, spec.param("group")))


@renderer("group-partitions")
def render_group_partitions(spec: FragmentSpec) -> str:
    return _render("group_partitions", spec, **group_context(spec.cluster, spec.param("group")))


@renderer("group-members")
def render_group_members(spec: FragmentSpec) -> str:
    return _render("group_members", spec, **group_context(spec.cluster, spec.param("group")))


def chart_context(cluster: str, group_id: str, time_range: str) -> dict[str, Any]:
    since = datetime.now(UTC) - history.RANGES[time_range]
    series = history.group_series(cluster, group_id, since)
    t: list[float] = []
    lag: list[int | None] = []
    time_lag: list[float | None] = []
    previous = None
    now = datetime.now(UTC).timestamp()
    for ts, total, tl in series:
        stamp = round(ts.timestamp(), 1)
        if previous is not None and stamp - previous > GAP_FACTOR * expected_spacing(now - previous):
            t.append(previous + 1)  # no data here (dashboard or cluster down): break the line, don't bridge it
            lag.append(None)
            time_lag.append(None)
        t.append(stamp)
        lag.append(total)
        time_lag.append(None if tl is None else round(tl, 1))
        previous = stamp
    return {
        "group_id": group_id,
        "range": time_range,
        "chart": {"t": t, "lag": lag, "time_lag": time_lag},
        "points": len(series),
    }


def expected_spacing(age_s: float) -> float:
    """Seconds between stored samples of this age (the history tiers: cycle, minute, ten minutes)."""
    if age_s < settings.HISTORY_RAW_S:
        return max(settings.POLL_INTERVAL_S, 60.0)  # a minute of slack: cycles vary, pages may lag
    if age_s < settings.HISTORY_MINUTE_S:
        return 60.0
    return 600.0


@renderer("group-chart")
def render_group_chart(spec: FragmentSpec) -> str:
    return _render("group_chart", spec, **chart_context(spec.cluster, spec.param("group"), spec.param("range", "1h")))


def topic_configs(cluster: str, topic: str) -> list[tuple[str, str | None, bool]]:
    return store.topic_configs(cluster).get(topic, [])


# --- pages: which fragments each monitoring page shows -----------------------------------------


def _specs(cluster: str, *fragments: str | tuple[str, tuple[tuple[str, str], ...]]) -> list[FragmentSpec]:
    """The status bar first, then the page's own fragments (a name, or a name and its parameters)."""
    out = [FragmentSpec("status", cluster)]
    for f in fragments:
        name, params = (f, ()) if isinstance(f, str) else f
        out.append(FragmentSpec(name, cluster, params))
    return out


@live_page("overview")
def overview_page(cluster: str, query: Mapping[str, str]) -> list[FragmentSpec]:
    return _specs(cluster, "overview-health", "overview-groups", "overview-topics", "dlq-table")


@live_page("brokers")
def brokers_page(cluster: str, query: Mapping[str, str]) -> list[FragmentSpec]:
    return _specs(cluster, "brokers-table")


@live_page("topics")
def topics_page(cluster: str, query: Mapping[str, str]) -> list[FragmentSpec]:
    return _specs(cluster, ("topics-table", TopicListQuery.parse(query).params()))


@live_page("topic")
def topic_page(cluster: str, query: Mapping[str, str]) -> list[FragmentSpec]:
    topic = (("topic", name_param(query, "topic")),)
    return _specs(cluster, ("topic-partitions", topic), ("topic-groups", topic))


@live_page("groups")
def groups_page(cluster: str, query: Mapping[str, str]) -> list[FragmentSpec]:
    return _specs(cluster, ("groups-table", GroupListQuery.parse(query).params()))


@live_page("group")
def group_page(cluster: str, query: Mapping[str, str]) -> list[FragmentSpec]:
    group = (("group", name_param(query, "group")),)
    time_range = choice_param(query, "range", RANGES, "1h")
    return _specs(
        cluster,
        ("group-summary", group),
        ("group-partitions", group),
        ("group-members", group),
        ("group-chart", (*group, ("range", time_range))),
    )
