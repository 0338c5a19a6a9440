"""The Content-Security-Policy header on every response (docs/security.md).

Only the dashboard's own files may run or style the page: no inline scripts, no inline styles, no
eval, no plugins, no framing. Pages comply by construction: JavaScript lives in static/js/app.js and
the vendored libraries, styles in static/css; templates carry no `style=` or `on*=` attributes, and
htmx is told not to inject its indicator <style> (the htmx-config meta tag in base.html). Element
styles set from JavaScript through the CSSOM (uPlot does this) are not inline styles for CSP.

The websocket of the live updates is same-origin; `connect-src 'self'` covers ws(s) in current
browsers, and the explicit ws(s)://<host> helps older ones.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"

DIRECTIVES: tuple[tuple[str, str], ...] = (
    ("default-src", "'self'"),
    ("script-src", "'self'"),
    ("style-src", "'self'"),
    ("img-src", "'self' data:"),
    ("font-src", "'self'"),
    ("connect-src", "'self'"),
    ("object-src", "'none'"),
    ("base-uri", "'self'"),
    ("form-action", "'self'"),
    ("frame-ancestors", "'none'"),
)


def policy(request: HttpRequest) -> str:
    """The policy for one response: the fixed directives, the websocket origin of this host added."""
    parts = []
    for name, value in DIRECTIVES:
        if name == "connect-src":
            value = " ".join((value, *_websocket_origin(request)))
        parts.append(f"{name} {value}")
    return "; ".join(parts)


def _websocket_origin(request: HttpRequest) -> tuple[str, ...]:
    try:
        host = request.get_host()  # validated against ALLOWED_HOSTS: safe to put in a header
    except DisallowedHost:
        return ()
    return (f"{'wss' if request.is_secure() else 'ws'}://{host}",)


class ContentSecurityPolicyMiddleware:
    """Adds the policy to every response that does not set its own (static files included)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if HEADER not in response:
            response[HEADER] = policy(request)
        return response
