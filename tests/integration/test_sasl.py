"""SASL against a real broker: a SASL_PLAINTEXT listener with PLAIN and SCRAM-SHA-256 users.

The broker keeps its PLAINTEXT listener (scripts/kafka.sh checks readiness through it, and the
test data is written through it); the dashboard talks to the SASL listener only. The passwords are
distinctive strings, so any page, API answer, log line or stderr output that carried one would be
caught here.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from dashboard.clusters import configured_clusters
from dashboard.poller.loop import Poller
from kafka_admin.config import ClusterConfig, clusters_from_file
from kafka_admin.protocol.client import GroupProtocolClient
from kafka_admin.snapshot.collect import collect_snapshot
from kafka_admin.snapshot.model import ClusterSnapshot
from tests.kafka_support import Kafka
from tests.sasl_support import SaslBroker, set_sasl_cluster_env, start_sasl_broker
from tests.waiting import wait_until

# All transactional: pytest-django runs transactional tests in their own group, and one group keeps
# this module's tests together, so the module's broker starts once.
pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

PLAIN_USER, PLAIN_PW = "dash", "dash-pw-XYZ-31415"
SCRAM_USER, SCRAM_PW = "scrammer", "scram-pw-XYZ-16180"
ADMIN_PW = "admin-pw-XYZ-27182"
WRONG_PW = "wrong-pw-XYZ-14142"
SECRETS = (PLAIN_PW, SCRAM_PW, ADMIN_PW, WRONG_PW)
TIMEOUT_S = 3.0


def secure(sasl: SaslBroker, mechanism: str = "PLAIN", password: str = PLAIN_PW, **overrides) -> ClusterConfig:
    """The cluster as this module's PLAIN or SCRAM user."""
    user = PLAIN_USER if mechanism == "PLAIN" else SCRAM_USER
    return sasl.config(user, password, mechanism, timeout_s=TIMEOUT_S, **overrides)


@pytest.fixture(scope="module")
def sasl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SaslBroker]:
    broker = start_sasl_broker(tmp_path_factory.mktemp("kafka-sasl"), {"admin": ADMIN_PW, PLAIN_USER: PLAIN_PW})
    try:
        # SCRAM credentials live in the cluster metadata; set them through the PLAINTEXT listener.
        broker.broker.tool(
            "kafka-configs",
            "--alter",
            "--entity-type",
            "users",
            "--entity-name",
            SCRAM_USER,
            "--add-config",
            f"SCRAM-SHA-256=[iterations=4096,password={SCRAM_PW}]",
        )
        yield broker
    finally:
        broker.down()


@pytest.fixture(scope="module")
def sasl_data(sasl: SaslBroker) -> tuple[str, str]:
    """A topic with three records and a group 1 behind, written over PLAINTEXT."""
    kafka = Kafka(sasl.broker)
    topic = kafka.create_topic(partitions=1)
    kafka.produce(topic, 3, partition=0, value=b"sasl-record-value")
    group = Kafka.unique("sasl-group")
    kafka.commit(group, [(topic, 0, 2)])
    return topic, group


def wait_reachable(config: ClusterConfig, timeout: float = 30) -> ClusterSnapshot:
    """SCRAM credentials reach the broker's cache through the metadata log a moment after the tool returns."""
    snaps: list[ClusterSnapshot] = []

    def reached() -> bool:
        snaps.append(collect_snapshot(config))
        return snaps[-1].reachable

    with contextlib.suppress(TimeoutError):  # the caller asserts on the last snapshot, errors and all
        wait_until(reached, timeout, "the SASL listener lets the user in")
    return snaps[-1]


def assert_no_secret(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"a password appeared in {where}"


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Everything at DEBUG, librdkafka's own log lines included (settings keep them at CRITICAL)."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="kafka_admin.librdkafka")
    return caplog


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256"])
def test_snapshot_over_sasl(sasl, sasl_data, mechanism, all_logs):
    topic, group = sasl_data
    snap = wait_reachable(secure(sasl, mechanism, PLAIN_PW if mechanism == "PLAIN" else SCRAM_PW))
    assert snap.reachable, snap.errors
    sasl_port = int(sasl.sasl_bootstrap.rsplit(":", 1)[1])
    assert [(b.id, b.host, b.port) for b in snap.brokers] == [(1, "127.0.0.1", sasl_port)]
    assert topic in {t.name for t in snap.topics}
    [found] = [g for g in snap.groups if g.group_id == group]
    assert found.total_lag == 1
    # the protocol comes from the codec's own ListGroups: it authenticated with the same settings
    assert found.protocol == "" and not [e for e in snap.errors if e.scope == "groups"], snap.errors
    assert_no_secret(all_logs.text, "the logs")


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256"])
def test_the_codec_over_sasl(sasl, sasl_data, mechanism):
    _, group = sasl_data
    wait_reachable(secure(sasl, mechanism, PLAIN_PW if mechanism == "PLAIN" else SCRAM_PW))
    client = GroupProtocolClient(secure(sasl, mechanism, PLAIN_PW if mechanism == "PLAIN" else SCRAM_PW))
    try:
        listed = client.list_groups(TIMEOUT_S)
        assert listed.errors == [] and group in {g.group_id for g in listed.groups}
        coordinators, failed = client.coordinators([group], TIMEOUT_S)
        assert failed == {} and coordinators == {group: 1}
    finally:
        client.close()


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256"])
def test_the_codec_with_a_wrong_password_says_so_without_it(sasl, mechanism):
    client = GroupProtocolClient(secure(sasl, mechanism, WRONG_PW))
    with pytest.raises(Exception) as caught:
        client.list_groups(TIMEOUT_S)
    text = str(caught.value)
    assert "SASL_AUTHENTICATION_FAILED" in text or "no bootstrap server answered" in text
    assert_no_secret(text, "the codec's error")


@pytest.mark.parametrize(
    "mechanism, reason",
    [("PLAIN", "Invalid username or password"), ("SCRAM-SHA-256", "invalid credentials")],
)
def test_wrong_password_is_a_clear_authentication_error_without_the_password(sasl, mechanism, reason, all_logs, capfd):
    config = secure(sasl, mechanism, WRONG_PW)
    started = time.monotonic()
    snap = collect_snapshot(config)
    elapsed = time.monotonic() - started

    assert not snap.reachable
    assert elapsed < TIMEOUT_S + 2
    [error] = snap.errors
    assert error.scope == "cluster"
    assert f"cluster unreachable at {sasl.sasl_bootstrap}" in error.message
    assert "SASL authentication error" in error.message and reason in error.message
    # Every way a configuration or its failure is put into words.
    for where, text in {
        "the snapshot error": error.message,
        "repr": repr(config),
        "str": str(config),
        "describe()": json.dumps(config.describe()),
        "repr of the snapshot": repr(snap),
        "the logs": all_logs.text,
        "stdout/stderr": "".join(capfd.readouterr()),
    }.items():
        assert_no_secret(text, where)
    assert "SASL authentication error" in all_logs.text  # librdkafka's line did reach the log


def test_clusters_file_with_password_from_environment(sasl, tmp_path):
    path = tmp_path / "clusters.json"
    entry = {
        "name": "secure",
        "bootstrap_servers": [sasl.sasl_bootstrap],
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "PLAIN",
        "sasl_username": PLAIN_USER,
        "sasl_password_env": "TEST_SASL_PASSWORD",
        "request_timeout": TIMEOUT_S,
    }
    path.write_text(json.dumps([entry]))
    [config] = clusters_from_file(path, env={"TEST_SASL_PASSWORD": PLAIN_PW})
    assert collect_snapshot(config).reachable


def test_dashboard_over_sasl_never_shows_or_logs_the_password(sasl, sasl_data, monkeypatch, client, all_logs, capfd):
    topic, group = sasl_data
    monkeypatch.delenv("KAFKA_CLUSTERS_FILE", raising=False)
    monkeypatch.setenv("KAFKA_CLUSTERS", "secure,denied")
    for name, password in (("secure", PLAIN_PW), ("denied", WRONG_PW)):
        set_sasl_cluster_env(monkeypatch, name, sasl.sasl_bootstrap, PLAIN_USER, password, TIMEOUT_S)
    configured_clusters.cache_clear()
    cache.clear()
    try:
        clusters = configured_clusters()
        assert Poller(clusters["secure"], 1.0).cycle().reachable
        assert not Poller(clusters["denied"], 1.0).cycle().reachable
        client.force_login(get_user_model().objects.create_user("sasl-viewer", password="pw-viewer-123"))

        pages = {
            url: client.get(url)
            for url in (
                "/c/secure/",
                "/c/secure/groups/",
                f"/c/secure/groups/{group}/",
                "/c/secure/topics/",
                f"/c/secure/topics/{topic}/?partition=0&seek=oldest",  # reads records over SASL
                "/c/secure/brokers/",
                "/c/denied/",
                "/c/denied/groups/",
                "/c/denied/brokers/",
                "/api/v1/clusters/",
                "/api/v1/clusters/secure/",
                "/api/v1/clusters/secure/brokers/",
                "/api/v1/clusters/secure/topics/",
                f"/api/v1/clusters/secure/topics/{topic}/",
                "/api/v1/clusters/secure/groups/",
                f"/api/v1/clusters/secure/groups/{group}/",
                "/api/v1/clusters/denied/",
                "/api/v1/clusters/denied/groups/",
                "/readyz",
            )
        }
        for url, response in pages.items():
            body = response.content.decode()
            assert response.status_code in (200, 503), (url, response.status_code, body[:300])
            assert_no_secret(body, url)
            assert_no_secret(str(response.headers), f"the headers of {url}")

        assert pages[f"/c/secure/groups/{group}/"].status_code == 200
        assert 'data-testid="group-lag">1<' in pages[f"/c/secure/groups/{group}/"].content.decode()
        assert "sasl-record-value" in pages[f"/c/secure/topics/{topic}/?partition=0&seek=oldest"].content.decode()
        denied_page = pages["/c/denied/"].content.decode()
        assert "Cluster denied unreachable" in denied_page and "Invalid username or password" in denied_page
        listing = {c["name"]: c for c in pages["/api/v1/clusters/"].json()["results"]}
        assert listing["secure"]["reachable"] is True and listing["denied"]["reachable"] is False
        assert listing["secure"]["security_protocol"] == "SASL_PLAINTEXT"
        assert not any("password" in key for c in listing.values() for key in c)
        denied = pages["/api/v1/clusters/denied/"].json()
        assert denied["stale"] is True and "SASL authentication error" in denied["stale_reason"]
        assert pages["/api/v1/clusters/denied/groups/"].status_code == 503
        assert "Invalid username or password" in pages["/api/v1/clusters/denied/groups/"].json()["error"]
        assert pages["/readyz"].status_code == 503  # one of the two clusters is down

        assert "cluster denied unreachable" in all_logs.text
        assert_no_secret(all_logs.text, "the logs")
        assert_no_secret("".join(capfd.readouterr()), "stdout/stderr")
    finally:
        configured_clusters.cache_clear()
        cache.clear()
