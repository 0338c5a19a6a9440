"""Helpers for the fault tests: a broker behind a proxy, a real dashboard server, HTTP and websocket clients.

Everything here talks to real processes over real sockets: a broker started by scripts/kafka.sh,
`manage.py serve` (daphne with the in-process poller), and the tests' own TCP proxy.
"""

from __future__ import annotations

import base64
import contextlib
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException

from tests.kafka_support import REPO, BrokerProcess, Kafka, free_port
from tests.tcp_proxy import TcpProxy

MANAGE = [sys.executable, "manage.py"]
# Variables of the developer's shell that would point a test server somewhere else.
FOREIGN_ENV = ("REDIS_URL", "KAFKA_CLUSTERS", "KAFKA_CLUSTERS_FILE", "POSTGRES_DB", "METRICS_TOKEN")


# librdkafka 2.16 can abort() a process whose group-coordinator connection breaks while a coordinator-
# targeted admin request (DescribeConsumerGroups, ListConsumerGroupOffsets) is sent: confluentinc/librdkafka
# PR 5397 (open). The dashboard's collector is a supervised child, so the server survives it (docs/faults.md);
# the scenario children of test_flaky_network.py are run again when it happens to them.
LIBRDKAFKA_ABORT = "rd_kafka_enq_once_del_source_return"


def wait_until(check: Callable[[], Any], timeout: float, interval: float = 0.2, what: str = "condition") -> Any:
    """Call `check` until it returns something truthy; that value, or AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except (OSError, ValueError, KeyError) as exc:  # a server in the middle of a restart
            last_error = exc
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not true within {timeout:.0f} s (last error: {last_error!r})")
        time.sleep(interval)


def commit(kafka: Kafka, group: str, offsets: list[tuple[str, int, int]], timeout: float = 30) -> None:
    """Kafka.commit, retried while a freshly started broker is still creating __consumer_offsets."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            kafka.commit(group, offsets)
            return
        except KafkaException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


# --- a broker whose advertised address for one listener is the tests' proxy ----------------------


@dataclass
class ProxiedBroker:
    """A broker of the tests' own with two client listeners.

    PLAINTEXT (`direct`) is advertised at its own port: the test's producers and checks use it.
    PROXIED is advertised at the proxy's port, so a client that bootstraps through the proxy
    (`proxied`) is told to connect to the proxy again for every later request: all its traffic
    crosses the proxy. (A broker answers metadata with the advertised addresses of the listener
    the request came in on.)
    """

    broker: BrokerProcess
    proxy: TcpProxy
    extra_properties: str

    @classmethod
    def start(cls, data_dir: Path) -> ProxiedBroker:
        port, cport, proxied_port = free_port(), free_port(), free_port()
        proxy = TcpProxy("127.0.0.1", proxied_port).start()
        # scripts/kafka.sh appends KAFKA_EXTRA_PROPERTIES after its own lines; for Java properties the
        # last occurrence of a key wins, so these replace its listeners.
        listeners = f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport},PROXIED://127.0.0.1:{proxied_port}"
        extra = "\n".join(
            [
                f"listeners={listeners}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{port},PROXIED://127.0.0.1:{proxy.port}",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PROXIED:PLAINTEXT",
            ]
        )
        broker = BrokerProcess(f"127.0.0.1:{port}", data_dir, port, cport)
        try:
            broker.up(extra)
        except BaseException:
            proxy.stop()
            raise
        return cls(broker, proxy, extra)

    @property
    def direct(self) -> str:
        return self.broker.bootstrap

    @property
    def proxied(self) -> str:
        return self.proxy.address

    def up(self) -> None:
        self.broker.up(self.extra_properties)

    def down(self) -> None:
        self.broker.down()

    def restart(self) -> None:
        self.down()
        self.up()

    def close(self) -> None:
        self.broker.down()
        self.proxy.stop()

    @contextlib.contextmanager
    def proxy_released(self) -> Iterator[tuple[int, int]]:
        """Stop the proxy so that a child process can run its own on the same (advertised) port.

        Yields (proxy port, upstream port); afterwards a fresh proxy listens on that port again."""
        port, upstream = self.proxy.port, self.proxy.upstream
        self.proxy.stop()
        try:
            yield port, upstream[1]
        finally:
            self.proxy = TcpProxy(*upstream, port=port).start()


# --- a real dashboard server ----------------------------------------------------------------------


@dataclass
class Account:
    username: str
    password: str


def migrated_database(directory: Path) -> tuple[Path, Account]:
    """Migrate an empty SQLite database once and create an operator; copies of it start each server."""
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "db.sqlite3"
    return db, prepare_database(server_env(directory, db), "faults")


def prepare_database(env: dict[str, str], username: str) -> Account:
    """Migrate the database `env` points the dashboard at and create an operator (its password is
    printed once, and read here)."""
    subprocess.run([*MANAGE, "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True, timeout=180)
    out = subprocess.run(
        [*MANAGE, "ensure_operator", "--username", username],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    password = re.search(r"with password: (\S+)", out)
    assert password, out
    return Account(username, password.group(1))


def copy_database(template: Path, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "db.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        source = template.with_name(template.name + suffix)
        if source.exists():
            shutil.copy(source, target.with_name(target.name + suffix))
    return target


def server_env(var: Path, db: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV}
    env.update(
        DASHBOARD_VAR_DIR=str(var),
        SQLITE_PATH=str(db),
        DJANGO_SECRET_KEY="faults-" + "k" * 50,  # fixed: a session cookie stays valid across restarts
        POLL_INTERVAL="1",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    env.update(settings)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    result = subprocess.run([*MANAGE, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout


@dataclass
class DashboardServer:
    """`manage.py serve` in a subprocess; it can be stopped, killed and started again on the same port."""

    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 45) -> DashboardServer:
        self.starts += 1
        log = open(self.log_path, "a")  # noqa: SIM115 - the child holds it; closed below
        log.write(f"==== start {self.starts}\n")
        log.flush()
        try:
            self.proc = subprocess.Popen(
                [*MANAGE, "serve", "--port", str(self.port)],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the dashboard server exited ({self.proc.returncode}):\n{self.log()}")
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=2).read()
                return self
            except OSError:
                time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"the dashboard server did not answer within {timeout:.0f} s:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int | None:
        """Send `sig` (SIGTERM by default; SIGKILL to simulate a crash) and wait for the exit."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)

    def kill(self) -> int | None:
        return self.stop(signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


# --- HTTP with a logged-in session --------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


class HttpSession:
    """urllib with a cookie jar: log in once, then GET pages and the API as that user."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def request(self, path: str, data: dict | None = None, timeout: float = 10) -> Response:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base_url + path, data=body)
        request.add_header("Origin", self.base_url)
        request.add_header("Referer", self.base_url + path)
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return Response(response.status, response.read(), dict(response.headers))
        except urllib.error.HTTPError as exc:
            return Response(exc.code, exc.read(), dict(exc.headers or {}))

    def get(self, path: str, timeout: float = 10) -> Response:
        return self.request(path, timeout=timeout)

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def login(self, account: Account) -> None:
        self.get("/accounts/login/")
        token = self.cookie("csrftoken")
        answer = self.request(
            "/accounts/login/",
            {"username": account.username, "password": account.password, "csrfmiddlewaretoken": token or ""},
        )
        assert answer.status == 302, f"login failed ({answer.status}): {answer.text[:300]}"
        assert self.cookie("sessionid"), "no session cookie after login"

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


# --- a minimal websocket client (RFC 6455: handshake, text frames, ping/pong, close) ----------------------


class WebSocketClosed(Exception):
    pass


class WebSocket:
    def __init__(self, base_url: str, path: str, cookie: str = "", timeout: float = 10) -> None:
        parts = urllib.parse.urlsplit(base_url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {parts.netloc}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            f"Origin: {base_url}",
        ]
        if cookie:
            lines.append(f"Cookie: {cookie}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self._buffer = b""
        head = self._read_until(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            self.sock.close()
            raise WebSocketClosed(f"handshake refused: {status.decode(errors='replace')}")

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise WebSocketClosed("connection closed during the handshake")
            self._buffer += chunk
        head, self._buffer = self._buffer.split(marker, 1)
        return head

    def _read_exact(self, n: int) -> bytes:
        while len(self._buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise WebSocketClosed("connection closed")
            self._buffer += chunk
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data

    def _send_frame(self, opcode: int, payload: bytes = b"") -> None:
        mask = secrets.token_bytes(4)
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def recv(self, timeout: float) -> str | None:
        """The next text message, or None when none arrives within `timeout`; raises WebSocketClosed."""
        self.sock.settimeout(timeout)
        message = b""
        try:
            while True:
                first, second = self._read_exact(2)
                fin, opcode = first & 0x80, first & 0x0F
                n = second & 0x7F
                if n == 126:
                    n = struct.unpack("!H", self._read_exact(2))[0]
                elif n == 127:
                    n = struct.unpack("!Q", self._read_exact(8))[0]
                mask = self._read_exact(4) if second & 0x80 else b""
                payload = self._read_exact(n)
                if mask:
                    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
                if opcode == 0x8:
                    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                    raise WebSocketClosed(f"closed by the server (code {code})")
                if opcode == 0x9:
                    self._send_frame(0xA, payload)
                    continue
                if opcode in (0x1, 0x2, 0x0):
                    message += payload
                    if fin:
                        return message.decode("utf-8", "replace")
        except TimeoutError:
            return None

    def recv_until(self, predicate: Callable[[str], bool], timeout: float) -> str:
        deadline = time.monotonic() + timeout
        seen = 0
        while (left := deadline - time.monotonic()) > 0:
            message = self.recv(left)
            if message is None:
                break
            seen += 1
            if predicate(message):
                return message
        raise AssertionError(f"no matching websocket message within {timeout:.0f} s ({seen} other messages)")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._send_frame(0x8, struct.pack("!H", 1000))
        self.sock.close()


def collector_pids(server_pid: int) -> list[int]:
    """The server's collector children (spawned interpreters; multiprocessing's resource tracker is not one)."""
    pids: list[int] = []
    for children in Path(f"/proc/{server_pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            pids += [int(p) for p in children.read_text().split()]
    found = []
    for pid in pids:
        with contextlib.suppress(OSError):
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"spawn_main" in cmdline:
                found.append(pid)
    return sorted(found)


def unreachable_lines(log: str, cluster: str) -> list[str]:
    return [line for line in log.splitlines() if f"cluster {cluster} unreachable" in line]


def metric(text: str, name: str, **labels: str) -> float | None:
    """One sample's value from a Prometheus exposition."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None
