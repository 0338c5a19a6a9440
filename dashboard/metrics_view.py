"""GET /metrics: the Prometheus exposition (dashboard/metrics.py), gzip-compressed when asked
(dashboard/metrics_gzip.py), behind METRICS_TOKEN when one is set."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from dashboard import metrics, metrics_gzip
from dashboard.access.tokens import bearer_token


def authorized(request: HttpRequest) -> bool:
    """Open when METRICS_TOKEN is empty; else `Authorization: Bearer <METRICS_TOKEN>` (constant time)."""
    expected = getattr(settings, "METRICS_TOKEN", "")
    if not expected:
        return True
    token = bearer_token(request)
    if not token:
        return False
    return hmac.compare_digest(token.encode(), expected.encode())


@login_not_required
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not authorized(request):
        text = "unauthorized: send Authorization: Bearer <METRICS_TOKEN>\n"
        response = HttpResponse(text, status=401, content_type="text/plain; charset=utf-8")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    metrics.note_scraped()
    clusters = metrics.gather()
    if metrics_gzip.wants_gzip(request):
        parts = metrics.segments(clusters)
        body = metrics_gzip.render_gzip(parts, metrics.cycle_text, metrics.partition_series_max())
        response = HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(metrics.render(clusters), content_type=CONTENT_TYPE_LATEST)
    response["Vary"] = "Accept-Encoding"
    response["Cache-Control"] = "no-store"
    return response
