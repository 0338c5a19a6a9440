"""How to reach Kafka clusters, built from the environment or a file; secrets stay out of repr and logs.

Three sources, the first one present wins (see docs/clusters.md):

1. ``KAFKA_CLUSTERS_FILE``: a JSON (or ``.toml``) file listing the clusters;
2. ``KAFKA_CLUSTERS=prod,staging`` with ``KAFKA_PROD_BOOTSTRAP_SERVERS``, ``KAFKA_PROD_SASL_PASSWORD``, ...;
3. the single default cluster from ``KAFKA_BOOTSTRAP_SERVERS`` & friends.

No error message built here quotes a password or the contents of the file.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kafka_admin.schemas.settings import RegistryConfig, RegistryConfigError, registry_from_settings

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
OFFSETS_SOURCES = ("auto", "admin", "offsets-topic")


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
    # "auto" by default: "offsets-topic" (requests per cycle follow the brokers, not the groups)
    # when __consumer_offsets is readable, else "admin" (OffsetFetch per group, needs only Describe
    # on the groups), said in the snapshot (docs/offsets-source.md).
    offsets_source: str = "auto"
    # Record timestamps read per cycle for exact time lag beyond the poller's timeline (0: never).
    time_lag_reads: int = 50
    # The cluster's schema registry (docs/schemas.md); None: payloads are shown as bytes/text.
    schema_registry: RegistryConfig | None = None

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
        if self.time_lag_reads < 0:
            raise ConfigError("time lag reads must not be negative")
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
            # librdkafka (2.10+) "re-bootstraps" a client whose every broker connection broke; after a
            # broker restart such a client's requests to group and transaction coordinators time out
            # for good (an AdminClient never reads committed offsets again, send_offsets_to_transaction
            # blocks past its timeout: tests/faults). Plain reconnects recover; the poller replaces
            # its client after an unreachable cycle instead (kafka_admin/snapshot/collect.py).
            "metadata.recovery.strategy": "none",
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
            "schema_registry": self.schema_registry.describe() if self.schema_registry else None,
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
        offsets_source=env.get(f"{prefix}OFFSETS_SOURCE") or "auto",
        time_lag_reads=int(_float(env, f"{prefix}TIME_LAG_READS", 50)),
        schema_registry=_registry_from_env(env, prefix),
    )


def _registry_from_env(env: Mapping[str, str], prefix: str) -> RegistryConfig | None:
    """{prefix}SCHEMA_REGISTRY_URL and its _USERNAME, _PASSWORD, _BEARER_TOKEN, _SSL_CA_LOCATION,
    _SUBJECT_STRATEGY, _TIMEOUT."""
    key = f"{prefix}SCHEMA_REGISTRY_"
    names = ("url", "username", "password", "bearer_token", "ssl_ca_location", "subject_strategy", "timeout")
    values = {n: env.get(key + n.upper()) for n in names}
    try:
        return registry_from_settings(values)
    except RegistryConfigError as exc:
        raise ConfigError(f"{key}*: {exc}") from None


# --- Several clusters ----------------------------------------------------------------------------

CLUSTER_NAME = re.compile(r"[A-Za-z0-9._-]+")
FILE_KEYS = frozenset(
    {
        "name",
        "bootstrap_servers",
        "security_protocol",
        "sasl_mechanism",
        "sasl_username",
        "sasl_password",
        "sasl_password_env",
        "ssl_ca_location",
        "request_timeout",
        "cycle_timeout",
        "max_in_flight",
        "offsets_source",
        "time_lag_reads",
        "schema_registry",
    }
)
REGISTRY_KEYS = frozenset(
    {
        "url",
        "username",
        "password",
        "password_env",
        "bearer_token",
        "bearer_token_env",
        "ssl_ca_location",
        "subject_strategy",
        "timeout",
    }
)


def env_prefix(name: str) -> str:
    """The variable prefix of a cluster listed in KAFKA_CLUSTERS: "eu-west.prod" -> "KAFKA_EU_WEST_PROD_"."""
    return f"KAFKA_{re.sub(r'[^A-Za-z0-9]', '_', name).upper()}_"


def check_name(name: object, where: str) -> str:
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: every cluster needs a name")
    if not CLUSTER_NAME.fullmatch(name):
        raise ConfigError(
            f"{where}: cluster name {name!r} may only contain letters, digits, '.', '_' and '-' (it is part of URLs)"
        )
    return name


def check_unique(configs: Sequence[ClusterConfig], where: str) -> list[ClusterConfig]:
    seen: set[str] = set()
    for config in configs:
        if config.name in seen:
            raise ConfigError(f"{where}: cluster name {config.name!r} is configured twice")
        seen.add(config.name)
    if not configs:
        raise ConfigError(f"{where}: no clusters configured")
    return list(configs)


def _text(entry: Mapping[str, Any], key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a string, not {type(value).__name__}")
    return value


def _number(entry: Mapping[str, Any], key: str, where: str, default: float) -> float:
    value = entry.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"{where}: {key} must be a number, not {type(value).__name__}")
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{where}: {key} must be a number, got {value!r}") from None


def _password(entry: Mapping[str, Any], env: Mapping[str, str], where: str) -> str | None:
    if "sasl_password" in entry and "sasl_password_env" in entry:
        raise ConfigError(f"{where}: give sasl_password or sasl_password_env, not both")
    if "sasl_password" in entry:
        value = entry["sasl_password"]
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{where}: sasl_password must be a string, not {type(value).__name__}")
        return value
    var = _text(entry, "sasl_password_env", where)
    if var is None:
        return None
    if var not in env:
        raise ConfigError(f"{where}: sasl_password_env names {var}, which is not set in the environment")
    return env[var]


def _secret(entry: Mapping[str, Any], env: Mapping[str, str], key: str, where: str) -> str | None:
    """`key` given inline or through `key`_env (the name of an environment variable)."""
    if key in entry and f"{key}_env" in entry:
        raise ConfigError(f"{where}: give {key} or {key}_env, not both")
    if key in entry:
        value = entry[key]
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{where}: {key} must be a string, not {type(value).__name__}")
        return value
    var = _text(entry, f"{key}_env", where)
    if var is None:
        return None
    if var not in env:
        raise ConfigError(f"{where}: {key}_env names {var}, which is not set in the environment")
    return env[var]


def _registry_from_mapping(entry: object, env: Mapping[str, str], where: str) -> RegistryConfig | None:
    if entry is None:
        return None
    where = f"{where}: schema_registry"
    if not isinstance(entry, Mapping):
        raise ConfigError(f'{where} must be an object ({{"url": "https://..."}})')
    unknown = sorted(str(k) for k in entry if k not in REGISTRY_KEYS)
    if unknown:
        known = ", ".join(sorted(REGISTRY_KEYS))
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(unknown)}; known: {known}")
    values = {k: _text(entry, k, where) for k in ("url", "username", "ssl_ca_location", "subject_strategy")}
    if not values["url"]:
        raise ConfigError(f"{where}: url is required")
    values["password"] = _secret(entry, env, "password", where)
    values["bearer_token"] = _secret(entry, env, "bearer_token", where)
    values["timeout"] = _number(entry, "timeout", where, 5.0)
    try:
        return registry_from_settings(values)
    except RegistryConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def cluster_from_mapping(entry: object, env: Mapping[str, str], where: str) -> ClusterConfig:
    """One entry of a clusters file; `where` (file and entry) starts every error message."""
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: each cluster must be an object with a name and bootstrap_servers")
    name = check_name(entry.get("name"), where)
    where = f"{where} ({name})"
    unknown = sorted(str(k) for k in entry if k not in FILE_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(FILE_KEYS))}")
    servers = entry.get("bootstrap_servers")
    if isinstance(servers, list) and all(isinstance(s, str) for s in servers):
        servers = ",".join(servers)
    if not isinstance(servers, str) or not servers.strip():
        raise ConfigError(f'{where}: bootstrap_servers is required ("host:port,host:port" or a list)')
    try:
        return ClusterConfig(
            name=name,
            bootstrap_servers=servers,
            security_protocol=(_text(entry, "security_protocol", where) or "PLAINTEXT").upper(),
            sasl_mechanism=(_text(entry, "sasl_mechanism", where) or "").upper() or None,
            sasl_username=_text(entry, "sasl_username", where),
            sasl_password=_password(entry, env, where),
            ssl_ca_location=_text(entry, "ssl_ca_location", where),
            request_timeout_s=_number(entry, "request_timeout", where, 10.0),
            cycle_timeout_s=_number(entry, "cycle_timeout", where, 60.0),
            max_in_flight=int(_number(entry, "max_in_flight", where, 50)),
            offsets_source=_text(entry, "offsets_source", where) or "auto",
            time_lag_reads=int(_number(entry, "time_lag_reads", where, 50)),
            schema_registry=_registry_from_mapping(entry.get("schema_registry"), env, where),
        )
    except ConfigError as exc:
        if str(exc).startswith(where):
            raise
        raise ConfigError(f"{where}: {exc}") from None


def clusters_from_file(path: str | Path, env: Mapping[str, str] | None = None) -> list[ClusterConfig]:
    """Read a clusters file: a JSON list (or {"clusters": [...]}), or TOML with [[clusters]] tables.

    Errors name the file and the reason, never its contents (which may hold passwords).
    """
    env = os.environ if env is None else env
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"clusters file {path}: not found") from None
    except OSError as exc:
        raise ConfigError(f"clusters file {path}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        if path.suffix.lower() == ".toml":
            data: Any = tomllib.loads(raw.decode("utf-8"))
        else:
            data = json.loads(raw)
    except UnicodeDecodeError:
        raise ConfigError(f"clusters file {path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        # exc.msg and the position only: str(exc) is the same, but say so explicitly, no excerpt.
        raise ConfigError(
            f"clusters file {path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"clusters file {path}: not valid TOML ({exc})") from None
    if isinstance(data, Mapping):
        data = data.get("clusters")
    if not isinstance(data, list):
        raise ConfigError(f'clusters file {path}: expected a list of clusters (or an object with "clusters": [...])')
    configs = [cluster_from_mapping(entry, env, f"clusters file {path}, entry {i + 1}") for i, entry in enumerate(data)]
    return check_unique(configs, f"clusters file {path}")


def clusters_from_env_list(env: Mapping[str, str]) -> list[ClusterConfig]:
    """KAFKA_CLUSTERS=prod,staging with KAFKA_PROD_BOOTSTRAP_SERVERS, KAFKA_PROD_SASL_PASSWORD, ..."""
    names = [n.strip() for n in env.get("KAFKA_CLUSTERS", "").split(",") if n.strip()]
    prefixes: dict[str, str] = {}
    configs = []
    for name in names:
        check_name(name, "KAFKA_CLUSTERS")
        prefix = env_prefix(name)
        if prefix in prefixes and prefixes[prefix] != name:
            other = prefixes[prefix]
            raise ConfigError(f"KAFKA_CLUSTERS: clusters {other!r} and {name!r} would share the {prefix}* variables")
        prefixes[prefix] = name
        if not env.get(f"{prefix}BOOTSTRAP_SERVERS", "").strip():
            raise ConfigError(f"KAFKA_CLUSTERS: cluster {name!r} needs {prefix}BOOTSTRAP_SERVERS")
        try:
            config = from_env(env, prefix=prefix, name=name)
        except ConfigError as exc:
            raise ConfigError(f"KAFKA_CLUSTERS: cluster {name!r} ({prefix}*): {exc}") from None
        configs.append(replace(config, name=check_name(config.name, f"{prefix}CLUSTER_NAME")))
    return check_unique(configs, "KAFKA_CLUSTERS")


def clusters_from_environment(env: Mapping[str, str] | None = None) -> list[ClusterConfig]:
    """All configured clusters, from the first source present: file, KAFKA_CLUSTERS, the default cluster."""
    env = os.environ if env is None else env
    path = env.get("KAFKA_CLUSTERS_FILE", "").strip()
    if path:
        return clusters_from_file(path, env)
    if env.get("KAFKA_CLUSTERS", "").strip():
        return clusters_from_env_list(env)
    try:
        default = from_env(env)
    except ConfigError as exc:
        raise ConfigError(f"KAFKA_* (default cluster): {exc}") from None
    return [replace(default, name=check_name(default.name, "KAFKA_CLUSTER_NAME"))]
