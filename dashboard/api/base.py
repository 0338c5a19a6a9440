"""The API's frame, shared by every feature's JSON views (docs/api.md): authentication, JSON answers
and errors, the cluster in the path, paging, and the envelope every cluster-scoped answer starts with.

Every response is JSON with `Cache-Control: no-store`; every error is `{"error": "<message>"}` with
its status (400 bad parameter, 401 no or bad credentials, 404 unknown cluster/topic/group/path,
405 not GET, 503 no data collected yet).

Authentication: `Authorization: Bearer <token>` (dashboard/access/tokens.py) for scripts, the login
session for browsers, nothing at all with ALLOW_ANONYMOUS_READ. The read views are exempt from CSRF
because they only answer GET/HEAD; a view that mutates must not use api_view without it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt

from dashboard.access import tokens
from dashboard.clusters import UnknownCluster, get_cluster
from dashboard.params import PAGE_SIZE, InvalidPage, int_param, paginate
from dashboard.state import store
from kafka_admin.config import ClusterConfig
from kafka_admin.snapshot.model import ClusterSnapshot

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


def echo(value: str) -> str:
    """A name from the request, short enough to repeat in an error message."""
    return value if len(value) <= MAX_ECHO else value[:MAX_ECHO] + "…"


def authenticate(request: HttpRequest) -> JsonResponse | None:
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
        denied = authenticate(request)
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
            message = f"no such API endpoint: API paths end with a slash ({echo(request.path)}/)"
    return error_response(404, message)


# --- reading the store ----------------------------------------------------------------------------


def cluster_config(name: str) -> ClusterConfig:
    try:
        return get_cluster(name)
    except UnknownCluster:
        raise ApiError(404, f"unknown cluster: {echo(name)}") from None


def scrub(message: str, config: ClusterConfig) -> str:
    """Collector messages come from librdkafka; make sure a configured secret can never pass through."""
    if config.sasl_password:
        message = message.replace(config.sasl_password, "***")
    return message


def finite(value: float | None) -> float | None:
    """A float JSON can carry (no NaN or infinity)."""
    return value if value is None or math.isfinite(value) else None


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def envelope(config: ClusterConfig, state: store.ClusterState) -> Json:
    """What every cluster-scoped answer starts with: which cluster, how old the data is, and whether it is stale."""
    failure = state.failure
    return {
        "cluster": config.name,
        "stale": state.stale,
        "age_s": None if state.age_s is None else round(state.age_s, 3),
        "stale_reason": scrub(failure.message, config) if failure else None,
        "stale_since": iso(failure.since) if failure else None,
        "collected_at": iso(state.snapshot.collected_at) if state.snapshot else None,
    }


def snapshot_or_503(config: ClusterConfig, state: store.ClusterState) -> ClusterSnapshot:
    if state.snapshot is not None:
        return state.snapshot
    reason = f": {scrub(state.failure.message, config)}" if state.failure else ""
    raise ApiError(503, f"no data for cluster {config.name} yet (no poll cycle has succeeded{reason})")


def page_size(request: HttpRequest) -> int:
    return int_param(request.GET, "page_size", PAGE_SIZE, 1, MAX_PAGE_SIZE)


def paged(items: list, number: int, size: int, to_json: Callable[[Any], Json]) -> Json:
    page = paginate(items, number, size)
    return {
        "count": page.total,
        "page": page.number,
        "pages": page.pages,
        "page_size": size,
        "results": [to_json(item) for item in page.items],
    }
