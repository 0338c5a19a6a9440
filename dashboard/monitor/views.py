"""Thin views: parse the page's query, read the store through dashboard.monitor.fragments, render.

No broker calls for monitoring data here. The one page that reads records (the message browser)
calls kafka_admin.records.read (in the pool of reader children, kafka_admin.isolation.reads), an action
by the person looking, not monitoring.
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from dashboard.clusters import cluster_names, default_cluster, get_cluster
from dashboard.monitor import fragments
from dashboard.monitor.browser import browse_context
from dashboard.monitor.queries import (
    RANGES,
    GroupListQuery,
    TopicListQuery,
)
from dashboard.monitor.rows import group_index
from dashboard.pages import cluster_page, page, ws_url
from dashboard.params import choice_param
from dashboard.relations import chain_view, dlqs_of, is_dlq_name, original_of
from dashboard.state import store
from kafka_admin.isolation import reads
from kafka_admin.snapshot.groups.registry import reset_refused


def home(request: HttpRequest) -> HttpResponse:
    """The default cluster's overview, or the one the cluster switcher asked for (?cluster=)."""
    wanted = request.GET.get("cluster")
    name = wanted if wanted in cluster_names() else default_cluster().name
    return redirect("overview", cluster=name)


@cluster_page
def overview(request: HttpRequest, cluster: str) -> HttpResponse:
    return page(
        request,
        "overview.html",
        cluster,
        "overview",
        ws_url("overview", cluster),
        overview_fragments=fragments.overview_fragments(cluster),  # as the websocket sends them
        **fragments.overview_context(cluster),
    )


@cluster_page
def brokers(request: HttpRequest, cluster: str) -> HttpResponse:
    return page(
        request, "brokers.html", cluster, "brokers", ws_url("brokers", cluster), **fragments.brokers_context(cluster)
    )


@cluster_page
def topics(request: HttpRequest, cluster: str) -> HttpResponse:
    query = TopicListQuery.parse(request.GET)
    context = fragments.topics_context(cluster, query)
    if request.htmx and request.htmx.target == "topics-table":
        return render(request, "partials/topics_table.html", {"cluster": cluster, **context})
    return page(request, "topics.html", cluster, "topics", ws_url("topics", cluster, query.params()), **context)


@cluster_page
def topic(request: HttpRequest, cluster: str, topic: str) -> HttpResponse:
    context = fragments.topic_context(cluster, topic)
    if context["state"].snapshot is not None and context["topic"] is None:
        raise Http404("unknown topic")
    context.update(browse_context(cluster, topic, request, reachable=not context["state"].stale))
    if request.htmx and request.htmx.target == "messages":
        return render(request, "partials/messages.html", {"cluster": cluster, **context})
    context["configs"] = fragments.topic_configs(cluster, topic)
    snap = context["state"].snapshot
    context["related"] = {
        "is_dlq": is_dlq_name(topic),
        "original": original_of(topic) if is_dlq_name(topic) else None,
        "dlqs": dlqs_of(snap, topic),
    }
    context["chain"] = chain_view(snap, topic)
    return page(request, "topic.html", cluster, "topics", ws_url("topic", cluster, (("topic", topic),)), **context)


@cluster_page
def download(request: HttpRequest, cluster: str, topic: str, partition: int, offset: int, part: str) -> HttpResponse:
    """The whole key or value of one record as a file (never rendered inline: it is untrusted)."""
    if part not in ("key", "value"):
        raise Http404("no such part of a record")
    record = reads.read_one(get_cluster(cluster), topic, partition, offset)
    if record is None:
        raise Http404("no record at that offset")
    data = (record.key if part == "key" else record.value) or b""
    response = HttpResponse(data, content_type="application/octet-stream")
    filename = f"{topic}-{partition}-{offset}-{part}.bin"
    response["Content-Disposition"] = f'attachment; filename="{quote(filename)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@cluster_page
def groups(request: HttpRequest, cluster: str) -> HttpResponse:
    query = GroupListQuery.parse(request.GET)
    table = fragments.groups_table(cluster, query)  # the same fragment the websocket sends, drawn once per cycle
    if request.htmx and request.htmx.target == "groups-table":
        return HttpResponse(table)
    return page(
        request,
        "groups.html",
        cluster,
        "groups",
        ws_url("groups", cluster, query.params()),
        query=query,
        groups_filters=fragments.groups_filters(cluster, query),
        groups_table=table,
    )


@cluster_page
def group(request: HttpRequest, cluster: str, group: str) -> HttpResponse:
    time_range = choice_param(request.GET, "range", RANGES, "1h")
    state = store.state(cluster)
    known = group_index(state).get(group) if state.snapshot is not None else None
    if state.snapshot is not None and known is None:
        raise Http404("unknown consumer group")
    # The partitions' rows live in the fragments, built once per snapshot: not again per request.
    context = {"group_id": group, "group": known, **fragments.chart_context(cluster, group, time_range)}
    context["group_fragments"] = fragments.group_fragments(cluster, group)  # as the websocket sends them
    context["reset_refused"] = reset_refused(known.type, known.protocol) if known is not None else ""
    live = ws_url("group", cluster, (("group", group), ("range", time_range)))
    return page(request, "group.html", cluster, "groups", live, ranges=RANGES, **context)


@login_not_required
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is alive (for load balancers and liveness probes)."""
    return JsonResponse({"status": "ok"})


@login_not_required
def readyz(request: HttpRequest) -> HttpResponse:
    """Every cluster's latest snapshot is fresh and its broker reachable (readiness probes)."""
    limit = max(3 * settings.POLL_INTERVAL_S, 30.0)
    problems = {}
    for name in cluster_names():
        state = store.state(name)
        if state.snapshot is None:
            problems[name] = "no snapshot yet"
        elif state.stale:
            problems[name] = "cluster unreachable"
        elif state.age_s is not None and state.age_s > limit:
            problems[name] = f"snapshot is {state.age_s:.0f} s old"
    status = 503 if problems else 200
    return JsonResponse({"status": "unavailable" if problems else "ready", "problems": problems}, status=status)
