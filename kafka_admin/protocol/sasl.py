"""SASL PLAIN (RFC 4616) and SCRAM-SHA-256/512 (RFC 5802, RFC 7677) client exchanges.

Each mechanism is a generator of client messages that is sent the server's answers, so the
connection drives it the same way whichever mechanism the ClusterConfig names. The password is
only ever an argument: nothing here logs or stores it past the exchange.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Generator

Exchange = Generator[bytes, bytes, None]


class SaslError(Exception):
    """The server refused the credentials or answered outside the mechanism."""


def plain(username: str, password: str) -> Exchange:
    yield f"\0{username}\0{password}".encode()


def _saslname(name: str) -> str:
    return name.replace("=", "=3D").replace(",", "=2C")


def _fields(message: bytes) -> dict[str, str]:
    out = {}
    for part in message.decode().split(","):
        key, sep, value = part.partition("=")
        if sep:
            out[key] = value
    return out


def scram(username: str, password: str, algorithm: str, nonce: str | None = None) -> Exchange:
    """SCRAM with `algorithm` ("sha256" or "sha512"); nonce only for tests with a fixed exchange."""
    digest = getattr(hashlib, algorithm)
    client_nonce = nonce or base64.b64encode(os.urandom(24)).decode()
    bare = f"n={_saslname(username)},r={client_nonce}"
    server_first = yield f"n,,{bare}".encode()
    fields = _fields(server_first)
    if "e" in fields:
        raise SaslError(f"server refused: {fields['e']}")
    server_nonce, salt, iterations = fields.get("r", ""), fields.get("s", ""), int(fields.get("i", "0"))
    if not server_nonce.startswith(client_nonce) or not salt or iterations < 1:
        raise SaslError("server's first SCRAM message is not valid")
    salted = hashlib.pbkdf2_hmac(algorithm, password.encode(), base64.b64decode(salt), iterations)
    client_key = hmac.new(salted, b"Client Key", digest).digest()
    stored_key = digest(client_key).digest()
    without_proof = f"c=biws,r={server_nonce}"
    auth_message = f"{bare},{server_first.decode()},{without_proof}".encode()
    signature = hmac.new(stored_key, auth_message, digest).digest()
    proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature, strict=True))).decode()
    server_final = yield f"{without_proof},p={proof}".encode()
    final = _fields(server_final)
    if "e" in final:
        raise SaslError(f"server refused: {final['e']}")
    server_key = hmac.new(salted, b"Server Key", digest).digest()
    expected = base64.b64encode(hmac.new(server_key, auth_message, digest).digest()).decode()
    if not hmac.compare_digest(final.get("v", ""), expected):
        raise SaslError("the server's SCRAM signature does not match: not the server the password is for")


def exchange(mechanism: str, username: str, password: str) -> Exchange:
    if mechanism == "PLAIN":
        return plain(username, password)
    if mechanism == "SCRAM-SHA-256":
        return scram(username, password, "sha256")
    if mechanism == "SCRAM-SHA-512":
        return scram(username, password, "sha512")
    raise SaslError(f"SASL mechanism {mechanism} is not supported")
