"""Template context shared by every page: the clusters and the current one's freshness."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from dashboard.clusters import cluster_names, default_cluster
from dashboard.models import AlertState


def dashboard_context(request: HttpRequest) -> dict[str, object]:
    """Every page: the cluster names (switcher), the cluster the nav links to on pages without one
    (Alerts, Audit: never a dead end), and what is firing (the banner on pages without a cluster)."""
    return {
        "cluster_names": cluster_names(),
        "nav_cluster": lambda: default_cluster().name,
        "allow_anonymous_read": settings.ALLOW_ANONYMOUS_READ,
        "firing_alerts": lambda: list(AlertState.firing()[:50]),
    }
