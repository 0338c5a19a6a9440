"""Template context shared by every page: the clusters and the current one's freshness."""

from __future__ import annotations

from django.http import HttpRequest

from dashboard.clusters import cluster_names


def dashboard_context(request: HttpRequest) -> dict[str, object]:
    return {"cluster_names": cluster_names()}
