"""The JSON API (docs/api.md): read-only views of the latest snapshot, its derived figures and the history.

Like the pages, it reads the store and the history only and never talks to the broker. Objects
keep the field names of the snapshot JSON (kafka_admin.snapshot.model.*_to_dict) with the derived figures
added under their own keys. Every response is JSON with `Cache-Control: no-store`; every error is
`{"error": "<message>"}` with its status (400 bad parameter, 401 no or bad credentials, 404 unknown
cluster/topic/group/path, 405 not GET, 503 no data collected yet).

Authentication: `Authorization: Bearer <token>` (dashboard/access/tokens.py) for scripts, the login
session for browsers, nothing at all with ALLOW_ANONYMOUS_READ. The views are exempt from CSRF
because they only answer GET/HEAD; a view that mutates must not be added here without it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt

from dashboard.access import tokens
from dashboard.clusters import UnknownCluster, configured_clusters, get_cluster
from dashboard.monitor import fragments
from dashboard.pages import (
    MAX_PAGE,
    PAGE_SIZE,
    RANGES,
    GroupListQuery,
    InvalidPage,
    TopicListQuery,
    choice_param,
    int_param,
)
from dashboard.state import history, store
from kafka_admin.config import ClusterConfig
from kafka_admin.figures.rates import UNKNOWN
from kafka_admin.figures.tracker import GroupFigures, TopicFigures
from kafka_admin.snapshot.model import (
    Broker,
    ClusterSnapshot,
    Group,
    Topic,
    broker_to_dict,
    error_to_dict,
    group_to_dict,
    topic_to_dict,
)

log = logging.getLogger(__name__)

ALLOWED_METHODS = ("GET", "HEAD")
MAX_PAGE_SIZE = 500
MAX_ECHO = 200
BEARER_CHALLENGE = 'Bearer realm="api"'

Json = dict[str, Any]


class ApiError(Exception):
    """An answer that is an error: the status and a message meant for a person."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def json_response(data: Json, status: int = 200, headers: dict[str, str] | None = None) -> JsonResponse:
    response = JsonResponse(data, status=status, headers=headers)
    response["Cache-Control"] = "no-store"
    return response


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JsonResponse:
    return json_response({"error": message}, status, headers)


def _echo(value: str) -> str:
    """A name from the request, short enough to repeat in an error message."""
    return value if len(value) <= MAX_ECHO else value[:MAX_ECHO] + "…"


def _authenticate(request: HttpRequest) -> JsonResponse | None:
    """None when the request may read; else the 401 answer. A bearer header wins over the session."""
    if tokens.has_authorization(request):
        if tokens.bearer_token(request) is None:
            return error_response(
                401,
                "unsupported authorization scheme: send 'Authorization: Bearer <token>'",
                {"WWW-Authenticate": BEARER_CHALLENGE},
            )
        user = tokens.authenticate_bearer(request)
        if user is None:
            return error_response(
                401, "invalid token", {"WWW-Authenticate": f'{BEARER_CHALLENGE}, error="invalid_token"'}
            )
        request.user = user
        return None
    if request.user.is_authenticated or settings.ALLOW_ANONYMOUS_READ:
        return None
    return error_response(
        401,
        "authentication required: log in, or send 'Authorization: Bearer <token>'",
        {"WWW-Authenticate": BEARER_CHALLENGE},
    )


def api_view(view: Callable[..., Json]) -> Callable[..., JsonResponse]:
    """GET only, authenticated by token or session, the view's dict as JSON, every failure as JSON."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        if request.method not in ALLOWED_METHODS:
            return error_response(
                405, "method not allowed: the API is read-only (GET)", {"Allow": ", ".join(ALLOWED_METHODS)}
            )
        denied = _authenticate(request)
        if denied is not None:
            return denied
        try:
            return json_response(view(request, *args, **kwargs))
        except ApiError as exc:
            return error_response(exc.status, exc.message, exc.headers)
        except InvalidPage as exc:
            return error_response(400, str(exc))
        except Exception:  # the API answers JSON even when a bug slips through
            log.exception("API request failed: %s", view.__name__)
            return error_response(500, "internal error (see the server log)")

    return login_not_required(csrf_exempt(wrapper))


@login_not_required
@csrf_exempt
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """The last API route: any other /api/ path is a JSON 404, with a hint when only the slash is missing."""
    message = "no such API endpoint (see docs/api.md)"
    path = request.path_info
    if not path.endswith("/"):
        try:
            match = resolve(path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            message = f"no such API endpoint: API paths end with a slash ({_echo(request.path)}/)"
    return error_response(404, message)


# --- reading the store ----------------------------------------------------------------------------


def _cluster(name: str) -> ClusterConfig:
    try:
        return get_cluster(name)
    except UnknownCluster:
        raise ApiError(404, f"unknown cluster: {_echo(name)}") from None


def _scrub(message: str, config: ClusterConfig) -> str:
    """Collector messages come from librdkafka; make sure a configured secret can never pass through."""
    if config.sasl_password:
        message = message.replace(config.sasl_password, "***")
    return message


def _num(value: float | None) -> float | None:
    """A float JSON can carry (no NaN or infinity)."""
    return value if value is None or math.isfinite(value) else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def envelope(config: ClusterConfig, state: store.ClusterState) -> Json:
    """What every cluster-scoped answer starts with: which cluster, how old the data is, and whether it is stale."""
    failure = state.failure
    return {
        "cluster": config.name,
        "stale": state.stale,
        "age_s": None if state.age_s is None else round(state.age_s, 3),
        "stale_reason": _scrub(failure.message, config) if failure else None,
        "stale_since": _iso(failure.since) if failure else None,
        "collected_at": _iso(state.snapshot.collected_at) if state.snapshot else None,
    }


def _snapshot(config: ClusterConfig, state: store.ClusterState) -> ClusterSnapshot:
    if state.snapshot is not None:
        return state.snapshot
    reason = f": {_scrub(state.failure.message, config)}" if state.failure else ""
    raise ApiError(503, f"no data for cluster {config.name} yet (no poll cycle has succeeded{reason})")


def _page_size(request: HttpRequest) -> int:
    return int_param(request.GET, "page_size", PAGE_SIZE, 1, MAX_PAGE_SIZE)


def paged(items: list, number: int, size: int, to_json: Callable[[Any], Json]) -> Json:
    page = fragments.paginate(items, number, size)
    return {
        "count": page.total,
        "page": page.number,
        "pages": page.pages,
        "page_size": size,
        "results": [to_json(item) for item in page.items],
    }


# --- objects: the snapshot JSON plus derived figures --------------------------------------------


def broker_json(broker: Broker, controller_id: int | None, leaders: int) -> Json:
    return {**broker_to_dict(broker), "controller": broker.id == controller_id, "leader_partitions": leaders}


def topic_json(topic: Topic, figures: TopicFigures | None, groups: Iterable[str]) -> Json:
    out = topic_to_dict(topic)
    rates = figures.partition_rates if figures else {}
    for row, p in zip(out["partitions"], topic.partitions, strict=True):
        row.update(
            produce_rate=_num(rates.get(p.partition)),
            records=p.records,
            under_replicated=p.under_replicated,
            offline=p.offline,
        )
    out.update(
        produce_rate=_num(figures.produce_rate) if figures else None,
        records=topic.records,
        replication_factor=topic.replication_factor,
        consumer_groups=sorted(groups),
    )
    return out


def group_json(group: Group, figures: GroupFigures | None) -> Json:
    out = group_to_dict(group)
    time_lags = figures.partition_time_lags if figures else {}
    statuses = figures.partition_statuses if figures else {}
    for row in out["offsets"]:
        tl = time_lags.get((row["topic"], row["partition"]))
        ps = statuses.get((row["topic"], row["partition"]))
        row.update(
            time_lag_s=_num(tl.seconds) if tl else None,
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
        time_lag_s=_num(figures.time_lag.seconds),
        time_lag_lower_bound=figures.time_lag.lower_bound,
        commit_rate=_num(figures.commit_rate),
        produce_rate=_num(figures.produce_rate),
        trend={"direction": figures.trend.direction, "slope": _num(figures.trend.slope)},
        catch_up_s=_num(figures.catch_up.seconds),
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
        "produce_rate": _num(state.figures.produce_rate) if snap else None,
    }


# --- endpoints --------------------------------------------------------------------------------------


@api_view
def clusters(request: HttpRequest) -> Json:
    items = list(configured_clusters().values())
    number = int_param(request.GET, "page", 1, 1, MAX_PAGE)
    return paged(items, number, _page_size(request), lambda c: cluster_json(c, store.state(c.name)))


@api_view
def cluster(request: HttpRequest, cluster: str) -> Json:
    config = _cluster(cluster)
    state = store.state(config.name)
    errors = state.snapshot.errors if state.snapshot else ()
    return {
        **envelope(config, state),
        **cluster_json(config, state),
        "errors": [{**error_to_dict(e), "message": _scrub(e.message, config)} for e in errors],
    }


@api_view
def brokers(request: HttpRequest, cluster: str) -> Json:
    config = _cluster(cluster)
    number = int_param(request.GET, "page", 1, 1, MAX_PAGE)
    size = _page_size(request)
    context = fragments.brokers_context(config.name)
    state = context["state"]
    snap = _snapshot(config, state)
    rows = paged(context["brokers"], number, size, lambda row: broker_json(row[0], snap.controller_id, row[1]))
    return {**envelope(config, state), **rows}


@api_view
def topics(request: HttpRequest, cluster: str) -> Json:
    config = _cluster(cluster)
    query = TopicListQuery.parse(request.GET)
    size = _page_size(request)
    state = store.state(config.name)
    _snapshot(config, state)
    figures = state.figures.topics
    rows = fragments.filtered_topics(state, query)
    return {
        **envelope(config, state),
        **paged(rows, query.page, size, lambda r: topic_json(r.topic, figures.get(r.topic.name), r.groups)),
    }


@api_view
def topic(request: HttpRequest, cluster: str, topic: str) -> Json:
    config = _cluster(cluster)
    context = fragments.topic_context(config.name, topic)
    state = context["state"]
    _snapshot(config, state)
    found: Topic | None = context["topic"]
    if found is None:
        raise ApiError(404, f"unknown topic: {_echo(topic)}")
    consumers = [
        {
            "group_id": c["group"].group_id,
            "state": c["group"].state,
            "lag": c["lag"],
            "time_lag_s": _num(c["time_lag"].seconds),
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
    config = _cluster(cluster)
    query = GroupListQuery.parse(request.GET)
    size = _page_size(request)
    state = store.state(config.name)
    _snapshot(config, state)
    rows = fragments.filtered_groups(state, query)
    return {**envelope(config, state), **paged(rows, query.page, size, lambda r: group_json(r.group, r.figures))}


@api_view
def group(request: HttpRequest, cluster: str, group: str) -> Json:
    config = _cluster(cluster)
    time_range = choice_param(request.GET, "range", RANGES, "1h") if request.GET.get("range") else None
    context = fragments.group_context(config.name, group)
    state = context["state"]
    _snapshot(config, state)
    found: Group | None = context["group"]
    if found is None:
        raise ApiError(404, f"unknown consumer group: {_echo(group)}")
    out = {**envelope(config, state), **group_json(found, context["figures"])}
    out["partitions"] = [
        {
            "topic": row["topic"],
            "partition": row["partition"],
            "committed": row["committed"],
            "end_offset": row["end_offset"],
            "lag": row["lag"],
            "time_lag_s": _num(row["time_lag"].seconds),
            "member_id": row["owner"].member_id if row["owner"] else None,
            "client_id": row["owner"].client_id if row["owner"] else None,
            "host": row["owner"].host if row["owner"] else None,
        }
        for row in context["rows"]
    ]
    if time_range is not None:
        since = datetime.now(UTC) - history.RANGES[time_range]
        out["range"] = time_range
        out["history"] = [
            {"t": ts.isoformat(), "total_lag": lag, "time_lag_s": _num(time_lag)}
            for ts, lag, time_lag in history.group_series(config.name, group, since)
        ]
    return out
