"""What each live fragment shows: context builders and renderers, shared by the full-page views
(first load) and the publisher (websocket updates), so there is one way to draw each thing.

Fragments never depend on who is looking (they are rendered once for everybody); per-user
controls stay outside them.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from dashboard.live.registry import FragmentSpec, live_page, renderer
from dashboard.monitor.queries import GROUP_TYPE_FILTERS, LAG_STATUSES, RANGES, GroupListQuery, TopicListQuery
from dashboard.monitor.rows import (
    GAP_FACTOR,
    NO_TIME_LAG,
    filtered_groups,
    filtered_topics,
    group_index,
    group_rows,
    sparkline,
    topic_index,
)
from dashboard.params import choice_param, name_param, paginate
from dashboard.state import history, store
from kafka_admin.figures.tracker import GroupFigures
from kafka_admin.snapshot.groups.registry import GROUP_STATES
from kafka_admin.snapshot.model import Group, Member

# --- renderers: one partial template per fragment, each with a stable id -----------------------


def _render(template: str, spec: FragmentSpec, **context: Any) -> str:
    return render_to_string(f"partials/{template}.html", {"cluster": spec.cluster, **context})


NO_BAND = -(10**9)  # zero, negative or unknown: below every band


def coarse(value: float | None) -> int:
    """A value's band, a quarter of a decade wide (x1.78): the overview orders by bands, then by name.

    Why: lags of 3, 5 and 4 messages swap places every cycle when sorted exactly, and the rows under
    the reader's eyes jump; within a band the order is the name's, so noise no longer reorders rows.
    """
    if value is None or value <= 0:
        return NO_BAND
    return math.floor(math.log10(value) * 4)


def overview_context(cluster: str) -> dict[str, Any]:
    """What the overview's three fragments show: built once per stored cycle and process, not per
    fragment and request (it sorts every group)."""
    state = store.state(cluster)
    return store.derived(state, "overview", _overview)


def _overview(state: store.ClusterState) -> dict[str, Any]:
    snap = state.snapshot
    # The groups that need attention first, then by lag band and name: a group a few records behind
    # is no news, and lags that only wobble do not swap rows.
    rows = sorted(group_rows(state), key=lambda r: (not r.attention, -coarse(r.total_lag), r.group_id))
    topics = [t for t in snap.topics if not t.internal] if snap else []
    rates = state.figures.topics
    busiest = sorted(
        ((t, rates[t.name].produce_rate if t.name in rates else None) for t in topics),
        key=lambda pair: (-coarse(pair[1]), pair[0].name),
    )
    return {
        "state": state,
        "snapshot": snap,
        "top_groups": rows[:10],
        "lagging_groups": sum(1 for r in rows if r.attention),
        "attention_time_lag_s": settings.ATTENTION_TIME_LAG_S,
        "group_count": len(rows),
        "topic_count": len(topics),
        "produce_rate": state.figures.produce_rate,
        "busiest_topics": busiest[:8],
    }


OVERVIEW_FRAGMENTS = ("overview_health", "overview_groups", "overview_topics")


def overview_fragments(cluster: str) -> dict[str, str]:
    """The overview's three fragments by template name, rendered once per stored state (its
    snapshot, figures, failure and cache error) in this process, for page loads and the publisher.

    Drawn with the state read now: an outage keeps the snapshot but marks it stale.
    """
    state = store.state(cluster)

    def build(state: store.ClusterState) -> dict[str, str]:
        context = {"cluster": cluster, **store.derived(state, "overview", _overview), "state": state}
        return {name: render_to_string(f"partials/{name}.html", context) for name in OVERVIEW_FRAGMENTS}

    if state.snapshot is None:
        return build(state)  # "waiting for the first snapshot": nothing worth keeping
    return store.derived(state, ("overview-fragments", state.failure, state.cache_error), build)


@renderer("overview-health")
def render_overview_health(spec: FragmentSpec) -> str:
    return overview_fragments(spec.cluster)["overview_health"]


@renderer("overview-groups")
def render_overview_groups(spec: FragmentSpec) -> str:
    return overview_fragments(spec.cluster)["overview_groups"]


@renderer("overview-topics")
def render_overview_topics(spec: FragmentSpec) -> str:
    return overview_fragments(spec.cluster)["overview_topics"]


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


@lru_cache(maxsize=256)  # bounded: a query carries the search text someone typed
def groups_filters(cluster: str, query: GroupListQuery) -> str:
    """The groups page's filter form, set to the query: the same for every cycle and viewer, so
    rendered once per query and process."""
    context = {"group_states": GROUP_STATES, "group_types": GROUP_TYPE_FILTERS, "lag_statuses": LAG_STATUSES}
    return render_to_string("partials/groups_filters.html", {"cluster": cluster, "query": query, **context})


@renderer("groups-table")
def render_groups(spec: FragmentSpec) -> str:
    return groups_table(spec.cluster, GroupListQuery.parse(dict(spec.params)))


def group_context(cluster: str, group_id: str) -> dict[str, Any]:
    return _group_context(store.state(cluster), group_id)


def _group_context(state: store.ClusterState, group_id: str) -> dict[str, Any]:
    snap = state.snapshot
    group = group_index(state).get(group_id) if snap else None  # a lookup, not a scan of every group
    figures = state.figures.groups.get(group_id)
    rows: list[dict[str, Any]] = []
    if group is not None and snap is not None and group.share_partitions:
        rows = share_rows(group, figures)
    elif group is not None and snap is not None:
        committed = {(o.topic, o.partition): o for o in group.offsets}
        owners = {(a.topic, a.partition): m for m in group.members for a in m.assignments}
        topics = topic_index(state)
        ends = {
            (name, p.partition): p.end_offset
            for name in {tp[0] for tp in owners if tp not in committed}
            if name in topics
            for p in topics[name].partitions
        }
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


def share_rows(group: Group, figures: GroupFigures | None) -> list[dict[str, Any]]:
    """A share group's partitions: its start offset and Kafka's lag, every member that holds it
    (a share partition is read by several members at once)."""
    holders: dict[tuple[str, int], list[Member]] = {}
    for m in group.members:
        for a in m.assignments:
            holders.setdefault((a.topic, a.partition), []).append(m)
    return [
        {
            "topic": p.topic,
            "partition": p.partition,
            "start_offset": p.start_offset,
            "end_offset": p.end_offset,
            "lag": p.lag,
            "time_lag": figures.partition_time_lags.get((p.topic, p.partition), NO_TIME_LAG)
            if figures
            else NO_TIME_LAG,
            "status": figures.partition_statuses.get((p.topic, p.partition)) if figures else None,
            "holders": holders.get((p.topic, p.partition), []),
        }
        for p in group.share_partitions
    ]


GROUP_FRAGMENTS = ("group_summary", "group_partitions", "group_members")
GROUPS_KEPT = 500  # groups whose fragments are kept per cycle (about 10 kB each)
_kept_lock = threading.Lock()


def group_fragments(cluster: str, group_id: str) -> dict[str, str]:
    """The group page's fragments drawn from the snapshot alone (not the chart, which reads the
    history), by template name: rendered once per stored snapshot and group in this process.

    Page loads and the live publisher both draw them here, as groups_table does for the groups
    list. All groups share one store.derived value, a bounded dict of their own: store.derived
    keeps 64 values per cycle, and one per open group page would push out the sorted rows.
    """
    state = store.state(cluster)

    def build(state: store.ClusterState) -> dict[str, str]:
        context = {"cluster": cluster, **_group_context(state, group_id)}
        return {name: render_to_string(f"partials/{name}.html", context) for name in GROUP_FRAGMENTS}

    if state.snapshot is None:
        return build(state)  # "waiting for the first snapshot": nothing worth keeping
    kept: dict[str, dict[str, str]] = store.derived(state, "group-fragments", lambda s: {})
    found = kept.get(group_id)
    if found is not None:
        return found
    value = build(state)  # outside the lock, as store.derived: two requests may build it, one wins
    with _kept_lock:
        while len(kept) >= GROUPS_KEPT:
            kept.pop(next(iter(kept)))
        kept[group_id] = value
    return value


@renderer("group-summary")
def render_group_summary(spec: FragmentSpec) -> str:
    return group_fragments(spec.cluster, spec.param("group"))["group_summary"]


@renderer("group-partitions")
def render_group_partitions(spec: FragmentSpec) -> str:
    return group_fragments(spec.cluster, spec.param("group"))["group_partitions"]


@renderer("group-members")
def render_group_members(spec: FragmentSpec) -> str:
    return group_fragments(spec.cluster, spec.param("group"))["group_members"]


def chart_context(cluster: str, group_id: str, time_range: str) -> dict[str, Any]:
    """The lag chart: the stored rows, drawn as steps, and the latest snapshot's values at its end.

    The poller writes a row when the group's offsets changed or as a heartbeat (state/history_writer.py),
    so a value holds from its row until the next: each row is repeated just before the next one
    (a flat line, then the step) and the latest snapshot's lag closes the line at "now".
    """
    since = datetime.now(UTC) - history.RANGES[time_range]
    series = history.group_series(cluster, group_id, since)
    points = [(round(ts.timestamp(), 1), total, None if tl is None else round(tl, 1)) for ts, total, tl in series]
    latest = _latest_point(cluster, group_id)
    if latest is not None and (not points or latest[0] > points[-1][0]):
        points.append(latest)
    t: list[float] = []
    lag: list[int | None] = []
    time_lag: list[float | None] = []
    previous = None
    now = datetime.now(UTC).timestamp()
    step = settings.POLL_INTERVAL_S
    for stamp, total, tl in points:
        if previous is not None and stamp - previous[0] > GAP_FACTOR * expected_spacing(now - previous[0]):
            t.append(previous[0] + 1)  # no data here (dashboard or cluster down): break the line, don't bridge it
            lag.append(None)
            time_lag.append(None)
        elif previous is not None and stamp - previous[0] > 2 * step and previous[1] != total:
            t.append(round(stamp - step, 1))  # unchanged until the cycle before this row: flat, then the step
            lag.append(previous[1])
            time_lag.append(previous[2])
        t.append(stamp)
        lag.append(total)
        time_lag.append(tl)
        previous = (stamp, total, tl)
    return {
        "group_id": group_id,
        "range": time_range,
        "chart": {"t": t, "lag": lag, "time_lag": time_lag},
        "points": len(series),
    }


def _latest_point(cluster: str, group_id: str) -> tuple[float, int, float | None] | None:
    """(time, lag, time lag) of the group in the latest stored snapshot, None without one."""
    state = store.state(cluster)
    if state.snapshot is None or state.stale:
        return None
    group = group_index(state).get(group_id)
    if group is None:
        return None
    figures = state.figures.groups.get(group_id)
    seconds = figures.time_lag.seconds if figures is not None else None
    stamp = round(state.snapshot.collected_at.timestamp(), 1)
    return stamp, group.total_lag, None if seconds is None else round(seconds, 1)


def expected_spacing(age_s: float) -> float:
    """Seconds between stored samples of this age (the history tiers: cycle, minute, ten minutes),
    at most a heartbeat apart while nothing changes (state/history_writer.py)."""
    heartbeat = settings.HISTORY_HEARTBEAT_S
    if age_s < settings.HISTORY_RAW_S:
        return max(settings.POLL_INTERVAL_S, 60.0, heartbeat)  # a minute of slack: cycles vary, pages may lag
    if age_s < settings.HISTORY_MINUTE_S:
        return max(60.0, heartbeat)
    return max(600.0, heartbeat)


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
