"""Thin views: read the store, render. No broker calls for monitoring data here."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard import store
from dashboard.clusters import default_cluster


def home(request: HttpRequest) -> HttpResponse:
    state = store.state(default_cluster().name)
    snapshot = state.snapshot
    groups = sorted(snapshot.groups, key=lambda g: (-g.total_lag, g.group_id)) if snapshot else []
    topics = [t for t in snapshot.topics if not t.internal] if snapshot else []
    return render(request, "home.html", {"state": state, "snapshot": snapshot, "groups": groups, "topics": topics})
