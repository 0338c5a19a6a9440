"""Outgoing webhook requests (alert deliveries): which addresses they may reach, and how they are sent.

A webhook URL is typed by an operator, but its request leaves from inside the dashboard's network.
Left open, a rule could POST to the dashboard itself, to Kafka's ports, to a cloud metadata service
or to any private host, and the delivery error shown on the alerts page told which ports answer.
So (docs/security.md, "Webhooks"):

- only public unicast addresses are reached, unless ALERT_WEBHOOK_ALLOWED_NETWORKS names the
  network or the host name;
- the name is resolved once, every address it resolves to is checked, and the connection is made
  to a checked address, never resolved again (a name that answers differently the second time,
  DNS rebinding, cannot slip through); TLS is still verified against the host name of the URL;
- redirects are not followed (a 302 turned the POST into a GET to wherever it pointed);
- error messages never quote the URL (it may hold a token).
"""

from __future__ import annotations

import base64
import functools
import http.client
import ipaddress
import json
import socket
import ssl
import urllib.parse
from dataclasses import dataclass

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
SETTING = "ALERT_WEBHOOK_ALLOWED_NETWORKS"
MAX_ANSWER = 64 * 1024  # what is read of an answer before closing (nothing of it is used)


class WebhookError(OSError):
    """A delivery that failed; the message is for operators and never contains the URL."""


class WebhookRefused(WebhookError):
    """The URL, or an address its host resolves to, is not allowed."""


class HostNotFound(WebhookError):
    """The host name does not resolve (now)."""


@dataclass(frozen=True)
class Target:
    """Where one request goes: checked addresses to connect to, the name for Host, SNI and the cert."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[tuple[int, tuple], ...]  # (address family, socket address), resolver order
    authorization: str | None = None


@functools.lru_cache(maxsize=8)
def _allow_list(entries: tuple[str, ...]) -> tuple[tuple[IPNetwork, ...], frozenset[str]]:
    """Networks and host names from the setting (checked at start-up by config.env.env_networks)."""
    networks: list[IPNetwork] = []
    hosts: set[str] = set()
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            hosts.add(entry.lower().rstrip("."))
    return tuple(networks), frozenset(hosts)


def _unwrap(ip: IPAddress) -> IPAddress:
    """The IPv4 address inside an IPv4-mapped IPv6 one (::ffff:127.0.0.1 is 127.0.0.1)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def why_blocked(ip: IPAddress) -> str | None:
    """None for a public unicast address, else what kind of address it is."""
    ip = _unwrap(ip)
    for kind, flag in (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("not a public address", not ip.is_global),
    ):
        if flag:
            return kind
    if isinstance(ip, ipaddress.IPv6Address):  # 6to4 and Teredo carry an IPv4 address inside
        inner = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if inner is not None and why_blocked(inner):
            return f"a tunnel to {inner} ({why_blocked(inner)})"
    return None


def check_address(ip: IPAddress, host: str) -> None:
    """Raise WebhookRefused unless the address is public or allowed by the setting."""
    networks, hosts = _allow_list(tuple(getattr(settings, SETTING, ())))
    if host.lower().rstrip(".") in hosts or any(_unwrap(ip) in net or ip in net for net in networks):
        return
    reason = why_blocked(ip)
    if reason:
        raise WebhookRefused(f"address {_unwrap(ip)} is {reason}: not allowed (see {SETTING})")


def resolve(url: str) -> Target:
    """Parse the URL, resolve its host once and check every address; raise WebhookError with the reason."""
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise WebhookRefused("the URL contains spaces or control characters")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookRefused("the URL cannot be parsed (host or port)") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise WebhookRefused("the URL must start with http:// or https://")
    host = parts.hostname or ""
    if not host:
        raise WebhookRefused("the URL has no host")
    port = port or (443 if scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise HostNotFound("the host name does not resolve") from None
    addresses: list[tuple[int, tuple]] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        check_address(ipaddress.ip_address(sockaddr[0]), host)
        if (family, sockaddr) not in addresses:
            addresses.append((family, sockaddr))
    if not addresses:
        raise HostNotFound("the host name does not resolve")
    authorization = None
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        authorization = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, host, port, path, tuple(addresses), authorization)


def url_problem(url: str) -> str | None:
    """For forms: why the URL is refused, or None. A name that does not resolve now is accepted
    (delivery resolves and checks it again)."""
    try:
        resolve(url)
    except HostNotFound:
        return None
    except WebhookError as exc:
        return str(exc)
    return None


def _connect(target: Target, timeout: float) -> socket.socket:
    """A TCP connection to one of the checked addresses, in resolver order; no new lookup."""
    last: OSError = WebhookError("no address to connect to")
    for family, sockaddr in target.addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            last = exc
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise last


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.target = target

    def connect(self) -> None:
        self.sock = _connect(self.target, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self.target = target
        self.tls = context

    def connect(self) -> None:
        # The checked address, verified as the URL's host: SNI and the certificate check use the name.
        self.sock = self.tls.wrap_socket(_connect(self.target, self.timeout), server_hostname=self.target.host)


def tls_context() -> ssl.SSLContext:
    """Certificates verified against the system's CAs (or SSL_CERT_FILE), host name checked."""
    return ssl.create_default_context()


def post_json(url: str, body: dict, timeout: float) -> None:
    """POST JSON to a checked address; raise WebhookError with a message that never contains the URL."""
    target = resolve(url)
    headers = {"Content-Type": "application/json", "User-Agent": "kafka-dashboard"}
    if target.authorization:
        headers["Authorization"] = target.authorization
    conn: http.client.HTTPConnection = (
        _PinnedHTTPSConnection(target, timeout, tls_context())
        if target.scheme == "https"
        else _PinnedHTTPConnection(target, timeout)
    )
    try:
        conn.request("POST", target.path, body=json.dumps(body).encode(), headers=headers)
        response = conn.getresponse()
        response.read(MAX_ANSWER)
    except ssl.SSLCertVerificationError as exc:
        raise WebhookError(f"TLS certificate not accepted: {exc.verify_message}") from None
    except ssl.SSLError as exc:
        raise WebhookError(f"TLS failed: {exc.reason or type(exc).__name__}") from None
    except http.client.HTTPException as exc:  # InvalidURL and BadStatusLine would quote the URL or answer
        raise WebhookError(f"bad HTTP exchange: {type(exc).__name__}") from None
    except TimeoutError:
        raise WebhookError("timed out") from None
    except OSError as exc:
        raise WebhookError(f"cannot connect: {exc.strerror or type(exc).__name__}") from None
    finally:
        conn.close()
    if 300 <= response.status < 400:
        raise WebhookError(f"HTTP {response.status}: redirects are not followed")
    if response.status >= 300:
        raise WebhookError(f"HTTP {response.status}")
