"""Where an alert webhook may connect: no internal address in any spelling, no redirects, no DNS
rebinding, TLS verified against the URL's host name. Real sockets and real local servers throughout."""

from __future__ import annotations

import base64
import socket
import ssl

import pytest
import trustme

from dashboard.alerts import webhooks
from tests.webhook_server import WebhookServer

LOOPBACK = ("127.0.0.0/8", "::1")


@pytest.fixture
def hook():
    with WebhookServer() as server:
        yield server


REFUSED = [
    "http://127.0.0.1:{port}/x",
    "http://localhost:{port}/x",
    "http://0.0.0.0:{port}/x",
    "http://2130706433:{port}/x",  # 127.0.0.1 as one decimal number
    "http://0177.0.0.1:{port}/x",  # octal
    "http://0x7f.0.0.1:{port}/x",  # hexadecimal
    "http://127.1:{port}/x",
    "http://[::1]:{port}/x",
    "http://[::ffff:127.0.0.1]:{port}/x",  # IPv4-mapped IPv6
    "http://[::ffff:7f00:1]:{port}/x",
    "http://[::]:{port}/x",
    "https://127.0.0.1:{port}/x",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://192.168.0.1/",
    "http://100.64.0.1/",  # carrier-grade NAT: not public
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://224.0.0.1/",  # multicast
    "http://240.0.0.1/",  # reserved
    "http://255.255.255.255/",
    "http://[2002:7f00:1::]/",  # 6to4 wrapping 127.0.0.1
]


@pytest.mark.parametrize("url", REFUSED)
def test_internal_addresses_are_refused_in_every_spelling(url, hook):
    with pytest.raises(webhooks.WebhookRefused, match="not allowed"):
        webhooks.post_json(url.format(port=hook.port), {"x": 1}, timeout=2)
    assert hook.requests == []  # nothing reached the local server
    assert webhooks.url_problem(url.format(port=hook.port))  # and the form says why


def test_public_addresses_are_not_refused():
    for ip in ("8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"):
        webhooks.check_address(webhooks.ipaddress.ip_address(ip), ip)


def test_the_allow_list_admits_networks_and_names(hook, settings):
    settings.ALERT_WEBHOOK_ALLOWED_NETWORKS = ("127.0.0.0/8",)
    webhooks.post_json(hook.url, {"n": 1}, timeout=2)
    webhooks.post_json(f"http://2130706433:{hook.port}/decimal", {"n": 2}, timeout=2)
    assert [r["body"]["n"] for r in hook.received] == [1, 2]
    settings.ALERT_WEBHOOK_ALLOWED_NETWORKS = ("::1",)
    with pytest.raises(webhooks.WebhookRefused):
        webhooks.post_json(hook.url, {}, timeout=2)
    settings.ALERT_WEBHOOK_ALLOWED_NETWORKS = ("localhost",)  # a name: whatever it resolves to
    assert webhooks.url_problem(f"http://localhost:{hook.port}/") is None
    assert webhooks.url_problem(f"http://127.0.0.1:{hook.port}/") is not None


def test_redirects_are_not_followed(settings):
    settings.ALERT_WEBHOOK_ALLOWED_NETWORKS = LOOPBACK
    with WebhookServer() as internal, WebhookServer() as hook:
        hook.redirect_to = internal.url
        with pytest.raises(webhooks.WebhookError, match="HTTP 302: redirects are not followed"):
            webhooks.post_json(hook.url, {"x": 1}, timeout=2)
        assert [r["method"] for r in hook.requests] == ["POST"]
        assert internal.requests == []


def test_credentials_in_the_url_become_basic_auth(hook, settings):
    settings.ALERT_WEBHOOK_ALLOWED_NETWORKS = LOOPBACK
    webhooks.post_json(f"http://hookuser:p%40ss@127.0.0.1:{hook.port}/in?k=v#frag", {}, timeout=2)
    [got] = hook.received
    assert got["path"] == "/in?k=v"
    assert got["headers"]["Authorization"] == "Basic " + base64.b64encode(b"hookuser:p@ss").decode()


def test_errors_never_quote_the_url(settings):
    settings.ALERT_WEBHOOK_ALLOWED_NETWORKS = LOOPBACK
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(webhooks.WebhookError) as caught:
        webhooks.post_json(f"http://u:PW-SECRET@127.0.0.1:{port}/TOKEN-SECRET?k=Q-SECRET", {}, timeout=2)
    assert "cannot connect" in str(caught.value) and "SECRET" not in str(caught.value)


class FlippingResolver:
    """A resolver answering one name with an allowed address first and an internal one afterwards,
    as a hostile DNS server with a zero TTL does; every other name goes to the real resolver."""

    def __init__(self, name: str, answers: list[list[str]], real=socket.getaddrinfo) -> None:
        self.name, self.answers, self.real, self.calls = name, answers, real, 0

    def __call__(self, host, port, *args, **kwargs):
        if host != self.name:
            return self.real(host, port, *args, **kwargs)
        ips = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (ip, port)) for ip in ips]


def _pair_on_one_port() -> tuple[WebhookServer, WebhookServer]:
    """An 'allowed' server on 127.0.0.2 and an 'internal' one on 127.0.0.1, on the same port."""
    for _ in range(20):
        allowed = WebhookServer(host="127.0.0.2")
        try:
            return allowed, WebhookServer(host="127.0.0.1", port=allowed.port)
        except OSError:
            allowed.server.server_close()
    pytest.skip("no port free on both 127.0.0.1 and 127.0.0.2")


def test_dns_rebinding_cannot_reach_the_second_answer(settings, monkeypatch):
    settings.ALERT_WEBHOOK_ALLOWED_NETWORKS = ("127.0.0.2/32",)
    resolver = FlippingResolver("rebind.test", [["127.0.0.2"], ["127.0.0.1"]])
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    allowed, internal = _pair_on_one_port()
    with allowed, internal:
        webhooks.post_json(f"http://rebind.test:{allowed.port}/hook", {"x": 1}, timeout=2)
        assert len(allowed.received) == 1 and internal.requests == []
        assert allowed.received[0]["headers"]["Host"] == f"rebind.test:{allowed.port}"
        assert resolver.calls == 1  # resolved once, connected to what was checked


def test_a_name_with_one_internal_address_among_several_is_refused(settings, monkeypatch):
    settings.ALERT_WEBHOOK_ALLOWED_NETWORKS = ("127.0.0.2/32",)
    monkeypatch.setattr(socket, "getaddrinfo", FlippingResolver("mixed.test", [["127.0.0.2", "127.0.0.1"]]))
    with pytest.raises(webhooks.WebhookRefused, match=r"127\.0\.0\.1 is loopback"):
        webhooks.resolve("http://mixed.test/")


@pytest.fixture
def tls_hook(tmp_path, settings, monkeypatch):
    """An HTTPS webhook with a certificate for 'localhost' only (no IP), from a CA trusted through
    SSL_CERT_FILE, the way an operator trusts an internal CA. Records the SNI names it is sent."""
    settings.ALERT_WEBHOOK_ALLOWED_NETWORKS = LOOPBACK
    ca = trustme.CA()
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost").configure_cert(server_ctx)
    sni: list[str | None] = []
    server_ctx.sni_callback = lambda sock, name, ctx: sni.append(name)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    with WebhookServer(tls=server_ctx) as server:
        server.sni = sni
        yield server


def test_tls_is_verified_against_the_url_host_name(tls_hook):
    webhooks.post_json(f"https://localhost:{tls_hook.port}/hook", {"x": 1}, timeout=3)
    assert len(tls_hook.received) == 1 and tls_hook.sni[-1] == "localhost"
    with pytest.raises(webhooks.WebhookError, match="TLS certificate not accepted"):
        webhooks.post_json(f"https://127.0.0.1:{tls_hook.port}/hook", {"x": 1}, timeout=3)  # cert names no IP
    assert len(tls_hook.received) == 1


def test_tls_refuses_an_untrusted_certificate(tls_hook, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE")
    with pytest.raises(webhooks.WebhookError, match="TLS certificate not accepted"):
        webhooks.post_json(f"https://localhost:{tls_hook.port}/hook", {"x": 1}, timeout=3)
    assert tls_hook.received == []
