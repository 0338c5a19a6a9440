"""The monitoring API (docs/api.md): read-only JSON of the latest snapshot, its derived figures and the history.

Like the pages, it reads the store and the history only and never talks to the broker. Objects
keep the field names of the snapshot JSON (kafka_admin.snapshot.model.*_to_dict) with the derived figures
added under their own keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from django.http import HttpRequest

from dashboard.api.base import (
    ApiError,
    Json,
    api_view,
    cluster_config,
    echo,
    envelope,
    finite,
    page_size,
    paged,
    scrub,
    snapshot_or_503,
)
from dashboard.clusters import configured_clusters
from dashboard.monitor import fragments
from dashboard.monitor.queries import RANGES, GroupListQuery, TopicListQuery
from dashboard.monitor.rows import filtered_groups, filtered_topics
from dashboard.params import MAX_PAGE, choice_param, int_param
from dashboard.state import history, store
from kafka_admin.config import ClusterConfig
from kafka_admin.figures.rates import UNKNOWN
from kafka_admin.figures.tracker import GroupFigures, TopicFigures
from kafka_admin.snapshot.model import (
    Broker,
    Group,
    Topic,
    broker_to_dict,
    error_to_dict,
    group_to_dict,
    topic_to_dict,
)

# --- objects: the snapshot JSON plus derived figures --------------------------------------------


def broker_json(broker: Broker, controller_id: int | None, leaders: int) -> Json:
    return {**broker_to_dict(broker), "controller": broker.id == controller_id, "leader_partitions": leaders}


def topic_json(topic: Topic, figures: TopicFigures | None, groups: Iterable[str]) -> Json:
    out = topic_to_dict(topic)
    rates = figures.partition_rates if figures else {}
    for row, p in zip(out["partitions"], topic.partitions, strict=True):
        row.update(
            produce_rate=finite(rates.get(p.partition)),
            records=p.records,
            under_replicated=p.under_replicated,
            offline=p.offline,
        )
    out.update(
        produce_rate=finite(figures.produce_rate) if figures else None,
        records=topic.records,
        replication_factor=topic.replication_factor,
        consumer_groups=sorted(groups),
    )
    return out


def group_json(group: Group, figures: GroupFigures | None) -> Json:
    out = group_to_dict(group)
    time_lags = figures.partition_time_lags if figures else {}
    statuses = figures.partition_statuses if figures else {}
    for row in [*out["offsets"], *out["share_partitions"]]:  # a share partition's: its oldest unacknowledged record
        tl = time_lags.get((row["topic"], row["partition"]))
        ps = statuses.get((row["topic"], row["partition"]))
        row.update(
            time_lag_s=finite(tl.seconds) if tl else None,
            time_lag_lower_bound=bool(tl and tl.lower_bound),
            status=str(ps.status) if ps else None,
            status_reason=ps.reason if ps else None,
        )
    if figures is None:
        out.update(
            status=None,
            status_severity=None,
            time_lag_s=None,
            time_lag_lower_bound=False,
            commit_rate=None,
            produce_rate=None,
            trend={"direction": UNKNOWN, "slope": None},
            catch_up_s=None,
            catch_up_reason="no figures yet",
        )
        return out
    out.update(
        status=str(figures.status.status) if figures.status else None,
        status_severity=figures.status.severity if figures.status else None,
        time_lag_s=finite(figures.time_lag.seconds),
        time_lag_lower_bound=figures.time_lag.lower_bound,
        commit_rate=finite(figures.commit_rate),
        produce_rate=finite(figures.produce_rate),
        trend={"direction": figures.trend.direction, "slope": finite(figures.trend.slope)},
        catch_up_s=finite(figures.catch_up.seconds),
        catch_up_reason=figures.catch_up.reason,
    )
    return out


def cluster_json(config: ClusterConfig, state: store.ClusterState) -> Json:
    """A cluster's identity and health in numbers; never its credentials."""
    snap = state.snapshot
    seen = snap is not None or state.failure is not None
    return {
        "name": config.name,
        "bootstrap_servers": config.bootstrap_servers,
        "security_protocol": config.security_protocol,
        "reachable": (not state.stale) if seen else None,
        **{k: v for k, v in envelope(config, state).items() if k != "cluster"},
        "cluster_id": snap.cluster_id if snap else None,
        "controller_id": snap.controller_id if snap else None,
        "broker_count": len(snap.brokers) if snap else None,
        "topic_count": sum(1 for t in snap.topics if not t.internal) if snap else None,
        "partition_count": snap.partition_count if snap else None,
        "group_count": len(snap.groups) if snap else None,
        "under_replicated_partitions": snap.under_replicated_partitions if snap else None,
        "offline_partitions": snap.offline_partitions if snap else None,
        "produce_rate": finite(state.figures.produce_rate) if snap else None,
    }


# --- endpoints --------------------------------------------------------------------------------------


@api_view
def clusters(request: HttpRequest) -> Json:
    items = list(configured_clusters().values())
    number = int_param(request.GET, "page", 1, 1, MAX_PAGE)
    return paged(items, number, page_size(request), lambda c: cluster_json(c, store.state(c.name)))


@api_view
def cluster(request: HttpRequest, cluster: str) -> Json:
    config = cluster_config(cluster)
    state = store.state(config.name)
    errors = state.snapshot.errors if state.snapshot else ()
    return {
        **envelope(config, state),
        **cluster_json(config, state),
        "errors": [{**error_to_dict(e), "message": scrub(e.message, config)} for e in errors],
    }


@api_view
def brokers(request: HttpRequest, cluster: str) -> Json:
    config = cluster_config(cluster)
    number = int_param(request.GET, "page", 1, 1, MAX_PAGE)
    size = page_size(request)
    context = fragments.brokers_context(config.name)
    state = context["state"]
    snap = snapshot_or_503(config, state)
    rows = paged(context["brokers"], number, size, lambda row: broker_json(row[0], snap.controller_id, row[1]))
    return {**envelope(config, state), **rows}


@api_view
def topics(request: HttpRequest, cluster: str) -> Json:
    config = cluster_config(cluster)
    query = TopicListQuery.parse(request.GET)
    size = page_size(request)
    state = store.state(config.name)
    snapshot_or_503(config, state)
    figures = state.figures.topics
    rows = filtered_topics(state, query)
    return {
        **envelope(config, state),
        **paged(rows, query.page, size, lambda r: topic_json(r.topic, figures.get(r.topic.name), r.groups)),
    }


@api_view
def topic(request: HttpRequest, cluster: str, topic: str) -> Json:
    config = cluster_config(cluster)
    context = fragments.topic_context(config.name, topic)
    state = context["state"]
    snapshot_or_503(config, state)
    found: Topic | None = context["topic"]
    if found is None:
        raise ApiError(404, f"unknown topic: {echo(topic)}")
    consumers = [
        {
            "group_id": c["group"].group_id,
            "state": c["group"].state,
            "lag": c["lag"],
            "time_lag_s": finite(c["time_lag"].seconds),
            "time_lag_lower_bound": c["time_lag"].lower_bound,
        }
        for c in context["consumers"]
    ]
    groups = [c["group_id"] for c in consumers]
    return {
        **envelope(config, state),
        **topic_json(found, state.figures.topics.get(topic), groups),
        "consumers": consumers,
    }


@api_view
def groups(request: HttpRequest, cluster: str) -> Json:
    config = cluster_config(cluster)
    query = GroupListQuery.parse(request.GET)
    size = page_size(request)
    state = store.state(config.name)
    snapshot_or_503(config, state)
    rows = filtered_groups(state, query)
    return {**envelope(config, state), **paged(rows, query.page, size, lambda r: group_json(r.group, r.figures))}


def share_partition_rows(rows: list[dict]) -> list[Json]:
    """A share group's partitions: start offset in place of a committed one, every member that holds it."""
    return [
        {
            "topic": row["topic"],
            "partition": row["partition"],
            "start_offset": row["start_offset"],
            "end_offset": row["end_offset"],
            "lag": row["lag"],
            "time_lag_s": finite(row["time_lag"].seconds),
            "members": [{"member_id": m.member_id, "client_id": m.client_id, "host": m.host} for m in row["holders"]],
        }
        for row in rows
    ]


@api_view
def group(request: HttpRequest, cluster: str, group: str) -> Json:
    config = cluster_config(cluster)
    time_range = choice_param(request.GET, "range", RANGES, "1h") if request.GET.get("range") else None
    context = fragments.group_context(config.name, group)
    state = context["state"]
    snapshot_or_503(config, state)
    found: Group | None = context["group"]
    if found is None:
        raise ApiError(404, f"unknown consumer group: {echo(group)}")
    out = {**envelope(config, state), **group_json(found, context["figures"])}
    out["partitions"] = (
        share_partition_rows(context["rows"])
        if found.share_partitions
        else [
            {
                "topic": row["topic"],
                "partition": row["partition"],
                "committed": row["committed"],
                "end_offset": row["end_offset"],
                "lag": row["lag"],
                "time_lag_s": finite(row["time_lag"].seconds),
                "member_id": row["owner"].member_id if row["owner"] else None,
                "client_id": row["owner"].client_id if row["owner"] else None,
                "host": row["owner"].host if row["owner"] else None,
            }
            for row in context["rows"]
        ]
    )
    if time_range is not None:
        since = datetime.now(UTC) - history.RANGES[time_range]
        out["range"] = time_range
        out["history"] = [
            {"t": ts.isoformat(), "total_lag": lag, "time_lag_s": finite(time_lag)}
            for ts, lag, time_lag in history.group_series(config.name, group, since)
        ]
    return out
