"""A cluster's schema registry settings: where it is, how to log in, how subjects are named.

Plain data, no client: kafka_admin.config reads it from the clusters file or the environment and
ClusterConfig carries it. The password and the token never appear in repr() or describe().
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# confluent-kafka's names for the strategies (SchemaRegistryClient's subject.name.strategy.type).
SUBJECT_STRATEGIES = ("topic", "record", "topic-record")


class RegistryConfigError(ValueError):
    """A registry setting that cannot work; the message names the setting, never a secret."""


@dataclass(frozen=True)
class RegistryConfig:
    """How to reach one Confluent-compatible registry (Confluent, Apicurio's ccompat API, Karapace)."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    bearer_token: str | None = field(default=None, repr=False)
    ssl_ca_location: str | None = None
    subject_strategy: str = "topic"
    timeout_s: float = 5.0
    cache_size: int = 1000  # schemas kept by id; each holds a parsed schema and a deserializer

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RegistryConfigError("schema registry URL must be http(s)://host[:port][/path]")
        if parts.username or parts.password:
            raise RegistryConfigError("put the registry's credentials in its username/password settings, not the URL")
        if (self.username is None) != (self.password is None):
            raise RegistryConfigError("schema registry basic auth needs both a username and a password")
        if self.username is not None and self.bearer_token is not None:
            raise RegistryConfigError("give the schema registry basic auth or a bearer token, not both")
        if self.subject_strategy not in SUBJECT_STRATEGIES:
            raise RegistryConfigError(f"subject strategy must be one of {', '.join(SUBJECT_STRATEGIES)}")
        if self.timeout_s <= 0:
            raise RegistryConfigError("schema registry timeout must be positive")
        if self.cache_size < 1:
            raise RegistryConfigError("schema cache size must be at least 1")

    def client_config(self) -> dict[str, Any]:
        """SchemaRegistryClient's settings (holds the secrets: never log or show it)."""
        conf: dict[str, Any] = {"url": self.url, "timeout": self.timeout_s, "max.retries": 0}
        if self.username is not None:
            conf["basic.auth.user.info"] = f"{self.username}:{self.password}"
        if self.bearer_token is not None:
            conf["bearer.auth.credentials.source"] = "STATIC_TOKEN"
            conf["bearer.auth.token"] = self.bearer_token
            # confluent-kafka wants these with a static token; a plain registry ignores them.
            conf["bearer.auth.logical.cluster"] = "-"
            conf["bearer.auth.identity.pool.id"] = "-"
        if self.ssl_ca_location:
            conf["ssl.ca.location"] = self.ssl_ca_location
        return conf

    def describe(self) -> dict[str, Any]:
        """What may be shown to a person: no password, no token (only whether one is set)."""
        auth = "basic" if self.username else "bearer" if self.bearer_token else "none"
        return {
            "url": self.url,
            "auth": auth,
            "username": self.username,
            "ssl_ca_location": self.ssl_ca_location,
            "subject_strategy": self.subject_strategy,
        }


def registry_from_settings(values: Mapping[str, Any]) -> RegistryConfig | None:
    """A RegistryConfig from already-read settings (url, username, ...), or None without a URL."""
    url = values.get("url")
    if not url:
        return None
    try:
        return RegistryConfig(
            url=str(url).rstrip("/"),
            username=values.get("username") or None,
            password=values.get("password"),
            bearer_token=values.get("bearer_token") or None,
            ssl_ca_location=values.get("ssl_ca_location") or None,
            subject_strategy=(values.get("subject_strategy") or "topic").lower(),
            timeout_s=float(values.get("timeout") or 5.0),
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, RegistryConfigError):
            raise
        raise RegistryConfigError(f"schema registry timeout must be a number ({exc.__class__.__name__})") from None
