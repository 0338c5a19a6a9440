"""TLS against a real broker: an SSL listener whose certificate a test CA signed (openssl makes
both; the broker reads a PKCS12 keystore). The snapshot, the group codec with it (a share group's
members and share-partition state come over ShareGroupDescribe and DescribeShareGroupOffsets),
a CA that did not sign the certificate, and a host name the certificate does not name.

As in test_sasl.py the broker keeps its PLAINTEXT listener for readiness and the test data; the
dashboard talks to the SSL listener only. The certificate names `localhost` alone, which the SSL
listener advertises; 127.0.0.1 is then a name it does not hold.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kafka_admin.config import ClusterConfig
from kafka_admin.protocol.client import GroupProtocolClient
from kafka_admin.snapshot.collect import SnapshotCollector, collect_snapshot
from tests.kafka_support import BrokerProcess, Kafka, free_port
from tests.share_support import set_group_configs, share_worker
from tests.waiting import wait_until

pytestmark = pytest.mark.broker

STORE_PW = "store-pw-XYZ-57721"
TIMEOUT_S = 5.0


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(where: Path, name: str) -> Path:
    openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
        "-keyout", f"{name}.key", "-out", f"{name}.pem", cwd=where,
    )  # fmt: skip
    return where / f"{name}.pem"


def make_keystore(where: Path) -> Path:
    """A server key and certificate for `localhost` signed by the test CA, as a PKCS12 keystore."""
    (where / "san.cnf").write_text("subjectAltName=DNS:localhost\n")
    openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
        "-keyout", "server.key", "-out", "server.csr", cwd=where,
    )  # fmt: skip
    openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-extfile", "san.cnf", "-out", "server.pem", cwd=where,
    )  # fmt: skip
    openssl(
        "pkcs12", "-export", "-in", "server.pem", "-inkey", "server.key", "-name", "broker",
        "-out", "server.p12", "-passout", f"pass:{STORE_PW}", cwd=where,
    )  # fmt: skip
    return where / "server.p12"


@dataclass
class SslBroker:
    broker: BrokerProcess
    ssl_port: int
    ca: Path
    other_ca: Path

    def config(self, host: str = "localhost", ca: Path | None = None) -> ClusterConfig:
        return ClusterConfig(
            name="tls",
            bootstrap_servers=f"{host}:{self.ssl_port}",
            security_protocol="SSL",
            ssl_ca_location=str(ca or self.ca),
            request_timeout_s=TIMEOUT_S,
            cycle_timeout_s=20.0,
        )


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SslBroker]:
    certs = tmp_path_factory.mktemp("certs")
    ca = make_ca(certs, "ca")
    other_ca = make_ca(certs, "other-ca")
    keystore = make_keystore(certs)
    port, controller_port, ssl_port = free_port(), free_port(), free_port()
    broker = BrokerProcess(f"127.0.0.1:{port}", tmp_path_factory.mktemp("kafka-ssl"), port, controller_port)
    broker.up(
        "\n".join(
            [
                f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port},"
                f"SSL://127.0.0.1:{ssl_port}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{port},SSL://localhost:{ssl_port}",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL",
                f"ssl.keystore.location={keystore}",
                "ssl.keystore.type=PKCS12",
                f"ssl.keystore.password={STORE_PW}",
                f"ssl.key.password={STORE_PW}",
                "ssl.client.auth=none",
            ]
        )
    )
    try:
        yield SslBroker(broker, ssl_port, ca, other_ca)
    finally:
        broker.down()


def test_snapshot_and_share_group_over_tls(tls):
    kafka = Kafka(tls.broker)
    topic = kafka.create_topic(partitions=1)
    group = kafka.unique("tls-share")
    set_group_configs(tls.broker.bootstrap, group, share_auto_offset_reset="earliest")
    kafka.produce(topic, 6, partition=0)
    with share_worker(tls.broker.bootstrap, group, topic, 2):
        collector = SnapshotCollector(tls.config())
        try:
            snap = wait_until(
                lambda: (s := collector.collect()).group(group) and s.group(group).share_partitions and s,
                60,
                "the share group's state over TLS",
            )
        finally:
            collector.close()
    assert snap.reachable and [(b.host, b.port) for b in snap.brokers] == [("localhost", tls.ssl_port)]
    g = snap.group(group)
    assert (g.type, g.state) == ("share", "Stable") and g.members
    assert g.share_partitions[0].start_offset is not None
    assert not [e for e in snap.errors if e.scope in ("group", "groups")], snap.errors


def test_a_ca_that_did_not_sign_the_certificate_is_refused(tls):
    client = GroupProtocolClient(tls.config(ca=tls.other_ca))
    try:
        with pytest.raises(Exception) as caught:
            client.list_groups(TIMEOUT_S)
    finally:
        client.close()
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value) or "certificate verify failed" in str(caught.value)
    snap = collect_snapshot(tls.config(ca=tls.other_ca).with_overrides(request_timeout_s=2.0))
    assert not snap.reachable and "unreachable" in snap.errors[0].message


def test_a_host_name_the_certificate_does_not_hold_is_refused(tls):
    client = GroupProtocolClient(tls.config(host="127.0.0.1"))
    try:
        with pytest.raises(Exception) as caught:
            client.list_groups(TIMEOUT_S)
    finally:
        client.close()
    text = str(caught.value)
    assert "CERTIFICATE_VERIFY_FAILED" in text or "mismatch" in text, text
    listed = GroupProtocolClient(tls.config())
    try:
        assert listed.list_groups(TIMEOUT_S).errors == []  # the same broker by the name it holds
    finally:
        listed.close()
