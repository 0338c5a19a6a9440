"""One connection to one broker: TLS and SASL as the ClusterConfig says, ApiVersions, then requests.

Requests go one at a time, in order (Kafka answers a connection's requests in order anyway), so a
connection is used by one thread at a time: client.py keeps one per broker and a lock for each.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
from typing import Any

from kafka_admin.config import ClusterConfig
from kafka_admin.protocol import messages, sasl
from kafka_admin.protocol.errors import KafkaProtocolError
from kafka_admin.protocol.schema import Message, decode, encode
from kafka_admin.protocol.wire import DecodeError, Reader, Writer

CLIENT_ID = "kafka-dashboard"
MAX_RESPONSE = 64 * 1024 * 1024  # a bound on what a broker may make us buffer
ApiRanges = dict[int, tuple[int, int]]


class UnsupportedApi(Exception):
    """The broker does not speak the API (or no version this codec speaks): too old for that group type."""

    def __init__(self, message: Message, broker: tuple[int, int] | None) -> None:
        self.api = message.name
        have = "not at all" if broker is None else f"versions {broker[0]}-{broker[1]}"
        ours = f"{message.versions[0]}-{message.versions[1]}"
        super().__init__(f"the broker does not support {message.name} v{ours} (it speaks {have})")


def frame_request(message: Message, version: int, correlation_id: int, body: bytes) -> bytes:
    """Size, request header (v2 for flexible versions, else v1), body."""
    head = Writer()
    head.int("int16", message.api_key)
    head.int("int16", version)
    head.int("int32", correlation_id)
    head.string(CLIENT_ID, compact=False)  # the client id is never compact, even in header v2
    if message.flexible(version):
        head.uvarint(0)
    payload = bytes(head) + body
    return struct.pack(">i", len(payload)) + payload


def split_response(message: Message, version: int, frame: bytes) -> tuple[int, bytes]:
    """(correlation id, body) of a response frame without its size prefix."""
    reader = Reader(frame)
    correlation_id = reader.int("int32")
    if message.flexible(version) and not message.response_header_v0:
        for _ in range(reader.uvarint()):
            reader.uvarint()
            reader.take(reader.uvarint())
    return correlation_id, frame[reader.pos :]


def pick_version(message: Message, ranges: ApiRanges) -> int:
    """The highest version both sides speak, or UnsupportedApi."""
    broker = ranges.get(message.api_key)
    if broker is None:
        raise UnsupportedApi(message, None)
    low, high = max(message.versions[0], broker[0]), min(message.versions[1], broker[1])
    if low > high:
        raise UnsupportedApi(message, broker)
    return high


def api_ranges(answer: dict[str, Any]) -> ApiRanges:
    return {k["api_key"]: (k["min_version"], k["max_version"]) for k in answer["api_keys"]}


class Connection:
    """A socket to one broker, authenticated, with the broker's API version ranges known."""

    def __init__(self, config: ClusterConfig, host: str, port: int, timeout: float) -> None:
        self.host, self.port = host, port
        self._correlation = 0
        self.sock: socket.socket = socket.create_connection((host, port), timeout=timeout)
        try:
            if config.security_protocol in ("SSL", "SASL_SSL"):
                context = ssl.create_default_context(cafile=config.ssl_ca_location)
                self.sock = context.wrap_socket(self.sock, server_hostname=host)
            self.api_versions = self._api_versions()
            self.ranges = api_ranges(self.api_versions)
            if config.security_protocol.startswith("SASL"):
                self._authenticate(config)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def settimeout(self, timeout: float) -> None:
        self.sock.settimeout(timeout)

    def roundtrip(self, message: Message, version: int, values: dict[str, Any]) -> bytes:
        """Send one request, return the response body (header removed)."""
        self._correlation += 1
        cid = self._correlation
        body = encode(message.request, values, version, message.flexible(version))
        self.sock.sendall(frame_request(message, version, cid, body))
        size = struct.unpack(">i", self._read(4))[0]
        if size < 4 or size > MAX_RESPONSE:
            raise DecodeError(f"a response of {size} bytes")
        got, body = split_response(message, version, self._read(size))
        if got != cid:
            raise DecodeError(f"response for request {got}, expected {cid}")
        return body

    def request(self, message: Message, values: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """(version used, decoded response) at the highest version both sides speak."""
        version = pick_version(message, self.ranges)
        body = self.roundtrip(message, version, values or {})
        return version, decode(message.response, body, version, message.flexible(version))

    def _read(self, n: int) -> bytes:
        chunks, left = [], n
        while left:
            chunk = self.sock.recv(min(left, 1 << 20))
            if not chunk:
                raise ConnectionError(f"{self.host}:{self.port} closed the connection")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _api_versions(self) -> dict[str, Any]:
        api = messages.API_VERSIONS
        version = api.versions[1]
        values = {"client_software_name": CLIENT_ID, "client_software_version": "1"}
        answer = decode(api.response, self.roundtrip(api, version, values), version, api.flexible(version))
        if answer["error_code"] == 35:  # UNSUPPORTED_VERSION: the answer (v0) lists what it speaks
            version = 0
            answer = decode(api.response, self.roundtrip(api, 0, {}), 0, False)
        if answer["error_code"]:
            raise KafkaProtocolError(answer["error_code"], "ApiVersions")
        return answer

    def _authenticate(self, config: ClusterConfig) -> None:
        mechanism = config.sasl_mechanism or "PLAIN"
        _, hello = self.request(messages.SASL_HANDSHAKE, {"mechanism": mechanism})
        if hello["error_code"]:
            raise KafkaProtocolError(hello["error_code"], f"SASL {mechanism}", f"broker offers {hello['mechanisms']}")
        steps = sasl.exchange(mechanism, config.sasl_username or "", config.sasl_password or "")
        try:
            token = next(steps)
            while True:
                _, answer = self.request(messages.SASL_AUTHENTICATE, {"auth_bytes": token})
                if answer["error_code"]:
                    # The broker's message for a failed login names the user, never the password.
                    raise KafkaProtocolError(answer["error_code"], f"SASL {mechanism}", answer["error_message"])
                token = steps.send(answer["auth_bytes"] or b"")
        except StopIteration:
            return
