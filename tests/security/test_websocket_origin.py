"""The websocket's Origin must be the page's own origin: scheme, host and port, as the request came in
(Host header; https from wss or the configured proxy header), or one of DJANGO_CSRF_TRUSTED_ORIGINS."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from channels.testing import WebsocketCommunicator

from dashboard.clusters import default_cluster
from dashboard.state import store
from tests.factories import snapshot

pytestmark = pytest.mark.django_db(transaction=True)


def connect(host: bytes | None, origin: bytes | None, extra: list | None = None, scheme: str | None = None) -> bool:
    from config.asgi import application

    headers = [(b"host", host)] if host is not None else []
    if origin is not None:
        headers.append((b"origin", origin))
    headers += extra or []

    async def go() -> bool:
        comm = WebsocketCommunicator(application, f"/ws/live/overview/?cluster={default_cluster().name}", headers)
        if scheme:
            comm.scope["scheme"] = scheme  # what daphne sets for a wss:// handshake
        connected, _ = await comm.connect(timeout=5)
        if connected:
            await comm.receive_from(timeout=5)
            await comm.disconnect()
        return connected

    return asyncio.run(go())


@pytest.fixture(autouse=True)
def anonymous_readers(settings):
    """No login in the way: these cases are about the origin alone."""
    settings.ALLOW_ANONYMOUS_READ = True
    store.save(snapshot(at=datetime.now(UTC), cluster=default_cluster().name))


ACCEPTED = {
    "same host": (b"localhost", b"http://localhost"),
    "same host and port": (b"localhost:8000", b"http://localhost:8000"),
    "default port spelled out": (b"localhost", b"http://localhost:80"),
    "case": (b"localhost:8000", b"http://LocalHost:8000"),
    "IPv6": (b"[::1]:8000", b"http://[::1]:8000"),
    "IPv4": (b"127.0.0.1:8000", b"http://127.0.0.1:8000"),
}
REFUSED = {
    "another port": (b"localhost", b"http://localhost:1"),
    "another port (Host has one)": (b"localhost:8000", b"http://localhost:8001"),
    "https page origin on plain ws": (b"localhost", b"https://localhost"),
    "https with another port": (b"localhost", b"https://localhost:1234"),
    "a suffix of the host": (b"localhost", b"http://localhost.evil.example"),
    "a foreign host": (b"localhost", b"http://evil.example"),
    "null": (b"localhost", b"null"),
    "a path": (b"localhost", b"http://localhost/x"),
    "credentials": (b"localhost", b"http://u@localhost"),
    "no Origin": (b"localhost", None),
    "no Host": (None, b"http://localhost"),
    "a Host not in ALLOWED_HOSTS, origin to match": (b"evil.example", b"http://evil.example"),
    "unparseable port": (b"localhost", b"http://localhost:x"),
}


@pytest.mark.parametrize("case", list(ACCEPTED))
def test_own_origin_is_accepted(case):
    host, origin = ACCEPTED[case]
    assert connect(host, origin), case


@pytest.mark.parametrize("case", list(REFUSED))
def test_other_origins_are_refused(case):
    host, origin = REFUSED[case]
    assert not connect(host, origin), case


def test_wss_needs_an_https_origin():
    assert connect(b"localhost", b"https://localhost", scheme="wss")
    assert not connect(b"localhost", b"http://localhost", scheme="wss")


def test_behind_a_tls_proxy_the_forwarded_scheme_counts(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    https = [(b"x-forwarded-proto", b"https")]
    assert connect(b"localhost", b"https://localhost", https)
    assert not connect(b"localhost", b"http://localhost", https)
    assert connect(b"localhost", b"http://localhost", [(b"x-forwarded-proto", b"http")])
    assert not connect(b"localhost", b"https://localhost:1234", https)


def test_csrf_trusted_origins_are_accepted_as_written(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://dash.example.com", "https://*.wall.example.com"]
    assert connect(b"localhost:8000", b"https://dash.example.com")
    assert connect(b"localhost:8000", b"https://tv1.wall.example.com")
    assert not connect(b"localhost:8000", b"http://dash.example.com")  # scheme differs
    assert not connect(b"localhost:8000", b"https://dash.example.com:8443")  # port differs
    assert not connect(b"evil.example", b"https://dash.example.com")  # the Host must still be allowed
