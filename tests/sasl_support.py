"""A real broker with a SASL_PLAINTEXT listener (PLAIN users, SCRAM enabled), for the SASL and ACL tests.

The broker keeps its PLAINTEXT listener: scripts/kafka.sh checks readiness through it, the test data
is written through it, and with an authorizer its ANONYMOUS principal is a super user, so Kafka's
tools (kafka-acls, kafka-configs) run over it unauthenticated. The dashboard talks to the SASL
listener only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from kafka_admin.config import ClusterConfig
from tests.kafka_support import BrokerProcess, free_port

# KRaft's authorizer; ANONYMOUS (the PLAINTEXT and controller listeners) stays a super user.
AUTHORIZER_PROPERTIES = (
    "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    "super.users=User:admin;User:ANONYMOUS",
    "allow.everyone.if.no.acl.found=false",
)


@dataclass
class SaslBroker:
    broker: BrokerProcess
    sasl_bootstrap: str

    def config(
        self, username: str, password: str, mechanism: str = "PLAIN", *, timeout_s: float = 3.0, **overrides
    ) -> ClusterConfig:
        """A cluster config that reaches the SASL listener as `username`."""
        base = {
            "name": "secure",
            "bootstrap_servers": self.sasl_bootstrap,
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": mechanism,
            "sasl_username": username,
            "sasl_password": password,
            "request_timeout_s": timeout_s,
            "cycle_timeout_s": 20.0,
        }
        return ClusterConfig(**{**base, **overrides})

    def down(self) -> None:
        self.broker.down()


def sasl_properties(
    port: int, controller_port: int, sasl_port: int, plain_users: Mapping[str, str], extra: Iterable[str] = ()
) -> str:
    """The docs/local-kafka.md recipe, with PLAIN users in the JAAS line and SCRAM enabled too."""
    users = " ".join(f'user_{name}="{password}"' for name, password in plain_users.items())
    return "\n".join(
        [
            f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port},"
            f"SASL_PLAINTEXT://127.0.0.1:{sasl_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{port},SASL_PLAINTEXT://127.0.0.1:{sasl_port}",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
            "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256",
            "listener.name.sasl_plaintext.plain.sasl.jaas.config="
            f"org.apache.kafka.common.security.plain.PlainLoginModule required {users};",
            "listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config="
            "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            *extra,
        ]
    )


def start_sasl_broker(data_dir: Path, plain_users: Mapping[str, str], extra: Iterable[str] = ()) -> SaslBroker:
    """Start a broker with PLAINTEXT, CONTROLLER and SASL_PLAINTEXT listeners; `extra` adds properties."""
    port, controller_port, sasl_port = free_port(), free_port(), free_port()
    broker = BrokerProcess(f"127.0.0.1:{port}", data_dir, port, controller_port)
    broker.up(sasl_properties(port, controller_port, sasl_port, plain_users, extra))
    return SaslBroker(broker, f"127.0.0.1:{sasl_port}")


def set_sasl_cluster_env(
    monkeypatch: pytest.MonkeyPatch, name: str, bootstrap: str, username: str, password: str, timeout_s: float
) -> None:
    """The KAFKA_<NAME>_* variables that configure one dashboard cluster on a SASL PLAIN listener
    (add its name to KAFKA_CLUSTERS; clear configured_clusters' cache after)."""
    prefix = f"KAFKA_{name.upper()}_"
    monkeypatch.setenv(f"{prefix}BOOTSTRAP_SERVERS", bootstrap)
    monkeypatch.setenv(f"{prefix}SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv(f"{prefix}SASL_MECHANISM", "PLAIN")
    monkeypatch.setenv(f"{prefix}SASL_USERNAME", username)
    monkeypatch.setenv(f"{prefix}SASL_PASSWORD", password)
    monkeypatch.setenv(f"{prefix}REQUEST_TIMEOUT", str(timeout_s))
