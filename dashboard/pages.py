"""The page frame every feature's views share: the status bar fragment (shown on every cluster page),
full-page rendering around it, the cluster in the URL, and the clear 400 for a bad query."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.template.loader import render_to_string

from dashboard.clusters import UnknownCluster, get_cluster
from dashboard.live.registry import FragmentSpec, renderer
from dashboard.models import AlertState
from dashboard.params import InvalidPage
from dashboard.state import store
from dashboard.state.outage import plain_cause

CRASH_SHOWN_S = 3600.0  # a collector crash stays in the status bar for an hour


def status_context(cluster: str) -> dict[str, Any]:
    state = store.state(cluster)
    health = store.collector_health(cluster)
    crash = health.last if health is not None else None
    if crash is not None and (datetime.now(UTC) - crash.at).total_seconds() > CRASH_SHOWN_S:
        crash = None
    return {
        "state": state,
        "snapshot": state.snapshot,
        "firing_alerts": list(AlertState.firing(cluster)[:50]),
        "failure_cause": plain_cause(state.failure.message) if state.failure else "",
        "collector_crash": crash,
        "collector_restarts": health.total if health is not None else 0,
        "first_cycle": store.first_cycle(cluster) if state.snapshot is None else None,
    }


def status_bar(cluster: str, context: dict[str, Any], live: bool) -> str:
    """The status bar fragment for this status context, on a live page or not.

    Rendered once per stored state, failure, firing alerts and live-ness (store.derived), not on
    every page request: what it shows depends on those alone, except a collector crash's "ago",
    which changes with the clock (drawn each time, as is the bar before the first snapshot).
    """
    state: store.ClusterState = context["state"]

    def build(state: store.ClusterState) -> str:
        return render_to_string("partials/status.html", {"cluster": cluster, "ws_url": live, **context})

    if context["collector_crash"] is not None or state.snapshot is None:
        return build(state)
    alerts = tuple((a.pk, a.rule.name, a.subject) for a in context["firing_alerts"])
    return store.derived(state, ("status-bar", live, state.failure, state.cache_error, alerts), build)


@renderer("status")
def render_status(spec: FragmentSpec) -> str:
    return status_bar(spec.cluster, status_context(spec.cluster), live=False)


def bad_request(request: HttpRequest, message: str) -> HttpResponse:
    html = render_to_string("error.html", {"status": 400, "message": message}, request=request)
    return HttpResponseBadRequest(html)


def cluster_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Resolve the cluster in the URL (404 when unknown) and turn InvalidPage into a clear 400."""

    @wraps(view)
    def wrapper(request: HttpRequest, cluster: str, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            get_cluster(cluster)
        except UnknownCluster:
            raise Http404("unknown cluster") from None
        try:
            return view(request, cluster, *args, **kwargs)
        except InvalidPage as exc:
            return bad_request(request, str(exc))

    return wrapper


def ws_url(page: str, cluster: str, params: tuple[tuple[str, str], ...] = ()) -> str:
    return f"/ws/live/{page}/?" + urlencode([("cluster", cluster), *params])


def page(request: HttpRequest, template: str, cluster: str, section: str, live: str, **context: Any) -> HttpResponse:
    status = status_context(cluster)
    context.update(cluster=cluster, section=section, ws_url=live, status_bar=status_bar(cluster, status, bool(live)))
    context.update(status)
    return render(request, template, context)
