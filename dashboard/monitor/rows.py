"""The groups and topics lists: one row per group or topic with its display strings, sorting and
filtering, computed once per cycle (state.store.derived) and shared by pages, fragments and the API."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.text import Truncator

from dashboard.monitor.queries import OTHER_TYPE, GroupListQuery, TopicListQuery
from dashboard.state import store
from dashboard.templatetags import dash
from kafka_admin.figures.attention import needs_attention
from kafka_admin.figures.rates import sparkline_points
from kafka_admin.figures.status import steady_step
from kafka_admin.figures.timelag import TimeLag
from kafka_admin.figures.tracker import GroupFigures
from kafka_admin.snapshot.groups.registry import GROUP_TYPE_NAMES
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
        self.attention = needs_attention(self.status, self.time_lag.seconds, settings.ATTENTION_TIME_LAG_S)
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
    def type_text(self) -> str:
        """The type as pages show it: "unknown" when no type was named (a broker before Kafka 3.7)."""
        return self.group.type or "unknown"

    @cached_property
    def protocol_text(self) -> str:
        """The protocol type, "-" for a group that only commits offsets; "" when the listing did not say."""
        protocol = self.group.protocol
        return "" if protocol is None else (protocol or "-")

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
    down to a step of STEADY_STEPS_S (kafka_admin/figures/status.py), like a stopped group's reason.

    Why: a consumer parked behind old records has a lower bound of "now - oldest point", which grows
    every cycle; shown to the second it changed the whole table on every cycle, and the live
    publisher re-sent it to every open page although nothing happened. Rounded down it is still a
    true lower bound, and it changes only when it passes a step. Exact values stay exact.
    """
    if tl.seconds is None:
        return dash.timelag(tl)
    if not tl.lower_bound:
        # An exact time lag read from a stuck group's record (docs/time-lag.md) grows every cycle
        # too: beyond ten minutes the list shows whole minutes, which change once a minute.
        return dash.timelag(tl) if tl.seconds < 600 else dash.duration(tl.seconds // 60 * 60)
    step = steady_step(tl.seconds)
    if step == 0:  # under 10 s: whole seconds ("≥ 0 s" would say nothing), for a few cycles at most
        return f"≥ {int(tl.seconds)} s"
    return "≥ " + (dash.duration(step) if step >= 60 else f"{step} s")


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


# The column's own value; ties are ordered by name, A to Z in either direction (order_groups), so a
# live update never swaps two rows whose values are equal.
GROUP_SORT_KEYS = {
    "lag": lambda r: r.total_lag,
    "time_lag": lambda r: r.time_lag_sort,
    "name": lambda r: r.id_lower,
    "members": lambda r: len(r.group.members),
    "state": lambda r: r.group.state,
    "type": lambda r: r.type_text,
    "status": lambda r: (r.status_rank, r.total_lag),
}


def order_groups(rows: Iterable[GroupRow], sort: str, desc: bool) -> list[GroupRow]:
    """Rows by the column, ties by name ascending (a stable sort keeps the name order for ties)."""
    by_name = sorted(rows, key=lambda r: r.group_id)
    return sorted(by_name, key=GROUP_SORT_KEYS[sort], reverse=desc)


STATUS_RANK = {"NODATA": 0, "OK": 1, "WARN": 2, "REWIND": 3, "STALL": 4, "STOP": 5}


def sorted_groups(state: store.ClusterState, sort: str, desc: bool) -> list[GroupRow]:
    """All rows in one order, sorted once per snapshot and process (callers must not mutate it).

    Filtering the sorted list gives the same order as sorting the filtered one (a stable sort)."""
    return store.derived(
        state,
        ("group-rows-sorted", sort, desc),
        lambda s: order_groups(group_rows(s), sort, desc),
    )


def filtered_groups(state: store.ClusterState, query: GroupListQuery) -> list[GroupRow]:
    rows = sorted_groups(state, query.sort, query.desc)
    if query.q:
        needle = query.q.lower()
        rows = [r for r in rows if r.matches(needle)]
    if query.state:
        rows = [r for r in rows if r.group.state == query.state]
    if query.type == OTHER_TYPE:
        rows = [r for r in rows if r.group.type not in GROUP_TYPE_NAMES]
    elif query.type:
        rows = [r for r in rows if r.group.type == query.type]
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


TOPIC_SORT_KEYS = {  # ties by name ascending, as for groups
    "name": lambda r: r.topic.name.lower(),
    "partitions": lambda r: len(r.topic.partitions),
    "records": lambda r: r.topic.records,
    "rate": lambda r: r.produce_rate or 0.0,
    "groups": lambda r: len(r.groups),
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
    rows.sort(key=lambda r: r.topic.name)
    rows.sort(key=TOPIC_SORT_KEYS[query.sort], reverse=query.desc)
    return rows
