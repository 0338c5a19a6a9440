"""Secrets never leave: SASL password, API tokens, webhook URLs with tokens, the metrics token.

One test drives the dashboard the way people and scripts do while a secret of each kind is
configured: a poll cycle against an unreachable cluster (with SASL), an alert that fires and whose
webhook delivery fails, actions that write the audit log, every page, every API read, /metrics and
the admin. Everything that comes out is collected (responses, every log record at DEBUG, the audit
log, what the database keeps of a token) and searched for each secret.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client

from dashboard.access import tokens
from dashboard.clusters import configured_clusters
from dashboard.models import AlertEvent, AlertRule, ApiToken, AuditEntry, DlqRecord
from dashboard.poller.loop import Poller
from dashboard.state import store
from tests.factories import snapshot, unreachable
from tests.kafka_support import free_port

SASL_PASSWORD = "sasl-Pa55-word-0x5eCret"
WEBHOOK_TOKEN = "WEBHOOK-path-Token-9f8e7d"
WEBHOOK_QUERY_TOKEN = "query-Token-1a2b3c"
METRICS_TOKEN = "metrics-Token-4d5e6f"
USER_PASSWORD = "pw-Operator-77-secret"
CLUSTER = "secure"

LOGGERS = ("", "django", "django.request", "django.server", "dashboard", "kafka_admin", "kafka_admin.librdkafka")


@pytest.fixture
def sasl_cluster(monkeypatch):
    """The default cluster with SASL credentials, pointing at a port nothing listens on."""
    for key, value in {
        "KAFKA_CLUSTER_NAME": CLUSTER,
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "KAFKA_SASL_MECHANISM": "PLAIN",
        "KAFKA_SASL_USERNAME": "dashboard",
        "KAFKA_SASL_PASSWORD": SASL_PASSWORD,
        "KAFKA_REQUEST_TIMEOUT": "1",
        "KAFKA_CYCLE_TIMEOUT": "3",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("KAFKA_CLUSTERS", "KAFKA_CLUSTERS_FILE"):
        monkeypatch.delenv(key, raising=False)
    configured_clusters.cache_clear()
    cache.clear()
    yield configured_clusters()[CLUSTER]
    configured_clusters.cache_clear()
    cache.clear()


def operator() -> object:
    user = get_user_model().objects.create_user("op", password=USER_PASSWORD)
    user.groups.add(Group.objects.get(name="operators"))
    return user


def webhook_url() -> str:
    return f"http://127.0.0.1:{free_port()}/hooks/{WEBHOOK_TOKEN}?key={WEBHOOK_QUERY_TOKEN}"


PAGES = (
    "/c/{c}/",
    "/c/{c}/brokers/",
    "/c/{c}/topics/",
    "/c/{c}/topics/orders/",
    "/c/{c}/groups/",
    "/c/{c}/groups/g1/",
    "/c/{c}/dlq/",
    "/c/{c}/dlq/orders-dlq/",
    "/audit/",
    "/alerts/",
    "/alerts/rules/{rule}/",
    "/alerts/rules/new/",
    "/accounts/password_change/",
    "/c/{c}/no-such-page/",
)
API = (
    "/api/v1/clusters/",
    "/api/v1/clusters/{c}/",
    "/api/v1/clusters/{c}/brokers/",
    "/api/v1/clusters/{c}/topics/",
    "/api/v1/clusters/{c}/topics/orders/",
    "/api/v1/clusters/{c}/groups/",
    "/api/v1/clusters/{c}/groups/g1/",
    "/api/v1/clusters/{c}/dlq/",
    "/api/v1/clusters/{c}/dlq/orders-dlq/records/",
    "/api/v1/clusters/{c}/nope/",
)
ADMIN = (
    "/admin/",
    "/admin/dashboard/alertrule/",
    "/admin/dashboard/alertrule/{rule}/change/",
    "/admin/dashboard/apitoken/",
    "/admin/dashboard/apitoken/{token}/change/",
    "/admin/dashboard/auditentry/",
)


@pytest.mark.django_db(transaction=True)
def test_no_secret_comes_out(sasl_cluster, caplog, settings):
    settings.METRICS_TOKEN = METRICS_TOKEN
    settings.ALERT_WEBHOOK_ALLOWED_NETWORKS = ("127.0.0.0/8",)  # the failing webhook is on loopback
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    out: list[tuple[str, str]] = []  # (where, text)

    user = operator()
    token_row, api_token = tokens.create_token(user, "secrets test")
    rule = AlertRule.objects.create(
        name="down", condition="unreachable", for_seconds=0, channel="webhook", webhook_url=webhook_url()
    )

    # A poll cycle that fails: SASL configured, nothing listening. The alert fires; delivery fails.
    poller = Poller(sasl_cluster, 1.0)
    failed = poller.cycle()
    assert not failed.reachable
    out += [("snapshot error", e.message) for e in failed.errors]
    assert AlertEvent.objects.filter(rule=rule).exists()
    event = AlertEvent.objects.get(rule=rule)
    assert event.attempts >= 1 and event.last_error  # the webhook is down too
    out.append(("alert event", f"{event.message} {event.last_error}"))

    # Data to show: a snapshot, then the failure of the real cycle above (it names the bootstrap address).
    store.save(snapshot(at=datetime.now(UTC), cluster=CLUSTER, ends={"orders": [100, 100], "orders-dlq": [5]}))
    store.save(failed)
    assert sasl_cluster.bootstrap_servers in store.state(CLUSTER).failure.message
    DlqRecord.objects.create(cluster=CLUSTER, topic="orders-dlq", partition=0, offset=1)

    # Actions that write the audit log, through the pages and the API.
    web = Client(raise_request_exception=False)
    web.force_login(user)
    edited = {
        "name": "down",
        "enabled": "on",
        "cluster": "",
        "pattern": "*",
        "condition": "unreachable",
        "threshold": "0",
        "statuses": "",
        "for_seconds": "0",
        "channel": "webhook",
        "webhook_url": webhook_url(),
    }
    assert web.post(f"/alerts/rules/{rule.pk}/", edited).status_code == 302
    assert web.post("/alerts/silences/", {"pattern": "*", "reason": "maintenance", "minutes": "5"}).status_code == 302
    bearer = Client(headers={"Authorization": f"Bearer {api_token}"}, raise_request_exception=False)
    resolved = bearer.post(
        f"/api/v1/clusters/{CLUSTER}/dlq/orders-dlq/resolve/",
        json.dumps({"records": ["0:1"], "reason": "done"}),
        content_type="application/json",
    )
    assert resolved.status_code == 200
    out.append(("api action", resolved.content.decode()))

    # Every page, every API read (by session and by token), the metrics, the admin.
    fill = {"c": CLUSTER, "rule": rule.pk, "token": token_row.pk}
    for path in PAGES:
        response = web.get(path.format(**fill))
        assert response.status_code in (200, 404), path
        out.append((path, response.content.decode()))
    for path in API:
        for client in (web, bearer):
            response = client.get(path.format(**fill))
            out.append((path, response.content.decode()))
    bad_token = Client().get("/api/v1/clusters/", headers={"Authorization": f"Bearer {api_token}x"})
    out.append(("bad token", bad_token.content.decode()))
    metrics = Client().get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert metrics.status_code == 200
    out.append(("/metrics", metrics.content.decode()))
    admin = Client()
    admin.force_login(get_user_model().objects.create_superuser("root", password="pw-root-12345"))
    for path in ADMIN:
        response = admin.get(path.format(**fill))
        assert response.status_code == 200, path
        out.append((path, response.content.decode()))
    login = Client().post("/accounts/login/", {"username": "op", "password": USER_PASSWORD + "x"})
    out.append(("failed login", login.content.decode()))

    # What is kept: the audit log, the token's row; and every log record written meanwhile.
    assert AuditEntry.objects.count() >= 3
    for entry in AuditEntry.objects.all():
        out.append((f"audit {entry.action}", json.dumps([entry.actor, entry.target, entry.details])))
    out.append(("token row", json.dumps([token_row.digest, token_row.prefix, token_row.name, str(token_row)])))
    for record in caplog.records:
        text = record.getMessage() + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        out.append((f"log {record.name}", text))
    assert any("unreachable" in text for where, text in out if where.startswith("log "))  # the logs were captured

    secrets = {
        "SASL password": SASL_PASSWORD,
        "API token": api_token,
        "API token body": api_token[8:],  # the prefix (its first 8 characters) is shown to tell tokens apart
        "webhook path token": WEBHOOK_TOKEN,
        "webhook query token": WEBHOOK_QUERY_TOKEN,
        "metrics token": METRICS_TOKEN,
        "user password": USER_PASSWORD,
    }
    leaks = [f"{name} in {where}" for where, text in out for name, secret in secrets.items() if secret in text]
    assert not leaks, "\n".join(leaks)


@pytest.mark.django_db
def test_a_password_quoted_by_a_collector_message_is_scrubbed_on_pages_too(sasl_cluster):
    """The API already replaces a configured password in collector messages by ***; pages must too."""
    store.save(snapshot(at=datetime.now(UTC), cluster=CLUSTER))
    store.save(unreachable(datetime.now(UTC), CLUSTER, f"SASL authentication failed for dashboard:{SASL_PASSWORD}"))
    client = Client()
    client.force_login(operator())
    api = client.get(f"/api/v1/clusters/{CLUSTER}/").content.decode()
    assert SASL_PASSWORD not in api and "dashboard:***" in api
    page = client.get(f"/c/{CLUSTER}/").content.decode()
    assert SASL_PASSWORD not in page


@pytest.mark.django_db
def test_tokens_are_stored_hashed():
    user = get_user_model().objects.create_user("t", password="pw-t-123456")
    row, token = tokens.create_token(user, "hashed")
    stored = ApiToken.objects.filter(pk=row.pk).values().get()
    assert {f.name for f in ApiToken._meta.get_fields() if f.concrete} == {
        "id",
        "user",
        "name",
        "digest",
        "prefix",
        "created_at",
        "last_used_at",
    }
    assert token not in json.dumps(stored, default=str)
    assert token[8:] not in json.dumps(stored, default=str)
    assert stored["digest"] == ApiToken.hash(token) and len(stored["digest"]) == 64
    assert stored["prefix"] == token[:8]
    assert repr(row) and token not in repr(row) and token not in str(row)


def test_cluster_config_repr_hides_the_password(sasl_cluster):
    assert SASL_PASSWORD not in repr(sasl_cluster) and SASL_PASSWORD not in str(sasl_cluster)
