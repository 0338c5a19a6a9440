"""How to reach one Kafka cluster, built from the environment; secrets stay out of repr and logs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
OFFSETS_SOURCES = ("admin", "offsets-topic")


class ConfigError(ValueError):
    """A cluster configuration that cannot work; the message names the setting."""


@dataclass(frozen=True)
class ClusterConfig:
    """Connection settings for one cluster. The password never appears in repr()."""

    name: str = "local"
    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_ca_location: str | None = None
    request_timeout_s: float = 10.0
    cycle_timeout_s: float = 60.0
    max_in_flight: int = 50
    offsets_source: str = "admin"

    def __post_init__(self) -> None:
        if not self.bootstrap_servers.strip():
            raise ConfigError("bootstrap servers must not be empty")
        if self.security_protocol not in SECURITY_PROTOCOLS:
            raise ConfigError(
                f"security protocol {self.security_protocol!r} is not one of {', '.join(SECURITY_PROTOCOLS)}"
            )
        if self.security_protocol.startswith("SASL"):
            if self.sasl_mechanism not in SASL_MECHANISMS:
                raise ConfigError(f"SASL mechanism must be one of {', '.join(SASL_MECHANISMS)}")
            if not self.sasl_username or self.sasl_password is None:
                raise ConfigError("SASL needs a username and a password")
        if self.request_timeout_s <= 0:
            raise ConfigError("request timeout must be positive")
        if self.cycle_timeout_s < self.request_timeout_s:
            raise ConfigError("the cycle timeout must be at least the request timeout")
        if self.max_in_flight < 1:
            raise ConfigError("max in flight must be at least 1")
        if self.offsets_source not in OFFSETS_SOURCES:
            raise ConfigError(f"offsets source must be one of {', '.join(OFFSETS_SOURCES)}")

    @property
    def timeout_ms(self) -> int:
        return int(self.request_timeout_s * 1000)

    def client_config(self, **overrides: Any) -> dict[str, Any]:
        """librdkafka settings shared by every client built for this cluster."""
        conf: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
            "socket.timeout.ms": self.timeout_ms,
            "socket.connection.setup.timeout.ms": self.timeout_ms,
            # librdkafka logs through Python logging only when a logger is given; keep its
            # own stderr chatter (which can carry broker addresses, never secrets) quiet.
            "log_level": 3,
        }
        if self.sasl_mechanism and self.security_protocol.startswith("SASL"):
            conf["sasl.mechanism"] = self.sasl_mechanism
            conf["sasl.username"] = self.sasl_username
            conf["sasl.password"] = self.sasl_password
        if self.ssl_ca_location and self.security_protocol.endswith("SSL"):
            conf["ssl.ca.location"] = self.ssl_ca_location
        conf.update(overrides)
        return conf

    def with_overrides(self, **changes: Any) -> ClusterConfig:
        return replace(self, **changes)

    def describe(self) -> dict[str, Any]:
        """What may be shown to a person: everything but the password."""
        return {
            "name": self.name,
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
            "sasl_mechanism": self.sasl_mechanism,
            "sasl_username": self.sasl_username,
            "request_timeout_s": self.request_timeout_s,
            "cycle_timeout_s": self.cycle_timeout_s,
            "offsets_source": self.offsets_source,
        }


def _float(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{key} must be a number, got {raw!r}") from None


def from_env(env: Mapping[str, str] | None = None, prefix: str = "KAFKA_", name: str = "local") -> ClusterConfig:
    """Read KAFKA_BOOTSTRAP_SERVERS, KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_* and friends."""
    env = os.environ if env is None else env
    return ClusterConfig(
        name=env.get(f"{prefix}CLUSTER_NAME", name) or name,
        bootstrap_servers=env.get(f"{prefix}BOOTSTRAP_SERVERS", "") or "127.0.0.1:9092",
        security_protocol=(env.get(f"{prefix}SECURITY_PROTOCOL") or "PLAINTEXT").upper(),
        sasl_mechanism=(env.get(f"{prefix}SASL_MECHANISM") or None),
        sasl_username=env.get(f"{prefix}SASL_USERNAME") or None,
        sasl_password=env.get(f"{prefix}SASL_PASSWORD"),
        ssl_ca_location=env.get(f"{prefix}SSL_CA_LOCATION") or None,
        request_timeout_s=_float(env, f"{prefix}REQUEST_TIMEOUT", 10.0),
        cycle_timeout_s=_float(env, f"{prefix}CYCLE_TIMEOUT", 60.0),
        max_in_flight=int(_float(env, f"{prefix}MAX_IN_FLIGHT", 50)),
        offsets_source=env.get(f"{prefix}OFFSETS_SOURCE") or "admin",
    )
