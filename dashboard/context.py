"""Template context shared by every page: the clusters and the current one's freshness."""

from __future__ import annotations

from django.http import HttpRequest

from dashboard.clusters import cluster_names
from dashboard.models import AlertState


def dashboard_context(request: HttpRequest) -> dict[str, object]:
    """Every page: the cluster names (switcher) and what is firing (the banner on pages without a cluster)."""
    return {"cluster_names": cluster_names(), "firing_alerts": lambda: list(AlertState.firing()[:50])}
