"""The Content-Security-Policy header on every response (docs/security.md).

Only the dashboard's own files may run or style the page: no inline scripts, no inline styles, no
eval, no plugins, no framing. Pages comply by construction: JavaScript lives in static/js/app.js and
the vendored libraries, styles in static/css; templates carry no `style=` or `on*=` attributes, and
htmx is told not to inject its indicator <style> (the htmx-config meta tag in base.html). Element
styles set from JavaScript through the CSSOM (uPlot does this) are not inline styles for CSP.

The websocket of the live updates is same-origin; `connect-src 'self'` covers ws(s) in current
browsers, and the explicit ws(s)://<host> helps older ones. SameOriginValidator holds the websocket
handshake to the same rule: its Origin must be the page's own origin, scheme and port included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.utils.http import is_same_domain

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


Origin = tuple[str, str, int]  # scheme, host (lower case, IPv6 in brackets), port
DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_origin(value: str) -> Origin | None:
    """scheme://host[:port] and nothing else (no path, no credentials), or None."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if scheme not in DEFAULT_PORTS or not host or parts.username is not None or parts.path or parts.query:
        return None
    if parts.fragment or "#" in value:
        return None
    return scheme, f"[{host}]" if ":" in host else host, port or DEFAULT_PORTS[scheme]


class _Handshake(HttpRequest):
    """The websocket handshake seen as a Django request, so that Host validation (ALLOWED_HOSTS) and
    the scheme (wss, or SECURE_PROXY_SSL_HEADER behind a TLS proxy) follow exactly the HTTP rules."""

    def __init__(self, scope: dict[str, Any]) -> None:
        super().__init__()
        for name, value in scope.get("headers", []):
            key = "HTTP_" + name.decode("latin1").upper().replace("-", "_")
            self.META.setdefault(key, value.decode("latin1"))
        self._ws_scheme = "https" if scope.get("scheme") == "wss" else "http"

    def _get_scheme(self) -> str:
        return self._ws_scheme


def own_origin(scope: dict[str, Any]) -> Origin | None:
    """The origin the handshake came to, or None when its Host is missing or not allowed."""
    request = _Handshake(scope)
    if "HTTP_HOST" not in request.META:
        return None
    try:
        host = request.get_host()
    except DisallowedHost:
        return None
    return parse_origin(f"{request.scheme}://{host}")


def trusted(origin: Origin) -> bool:
    """One of CSRF_TRUSTED_ORIGINS (`https://dash.example.com`, `https://*.example.com`), as Django's
    CSRF check reads them: for a public origin that differs from the Host the proxy forwards."""
    scheme, host, port = origin
    for entry in settings.CSRF_TRUSTED_ORIGINS:
        wildcard = "://*." in entry
        allowed = parse_origin(entry.replace("://*.", "://", 1))
        if allowed is None or allowed[0] != scheme or allowed[2] != port:
            continue
        if host == allowed[1] or (wildcard and is_same_domain(host, "." + allowed[1])):
            return True
    return False


class SameOriginValidator:
    """ASGI middleware for websockets: the Origin header must equal the handshake's own origin
    (scheme, host and port) or be a trusted origin; else the handshake is refused (403).

    Channels' AllowedHostsOriginValidator compared the host only, so http://localhost:1 and
    https://localhost:1234 were accepted as if they were the dashboard itself."""

    def __init__(self, application: Callable) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> Any:
        if scope["type"] == "websocket" and not self.allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)

    @staticmethod
    def allowed(scope: dict[str, Any]) -> bool:
        values = [value for name, value in scope.get("headers", []) if name == b"origin"]
        if len(values) != 1:
            return False
        origin = parse_origin(values[0].decode("latin1"))
        own = own_origin(scope)
        return origin is not None and own is not None and (origin == own or trusted(origin))
