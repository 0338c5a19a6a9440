"""An alert fires and resolves against the real broker, and a local webhook receives both messages."""

from __future__ import annotations

import pytest

from dashboard.models import AlertRule
from dashboard.poller.loop import Poller
from tests.webhook_server import WebhookServer

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def test_lag_alert_fires_and_resolves_with_webhook(kafka, dashboard_cluster, settings):
    settings.ALERT_WEBHOOK_ALLOWED_NETWORKS = ("127.0.0.0/8",)  # the test webhook listens on loopback
    topic = kafka.create_topic(partitions=1)
    group = kafka.unique("alerted")
    kafka.commit(group, [(topic, 0, 0)])
    poller = Poller(dashboard_cluster, 1.0)
    with WebhookServer() as hook:
        AlertRule.objects.create(
            name="lag too high",
            pattern=group,
            condition="lag_gt",
            threshold=10,
            for_seconds=0,
            channel="webhook",
            webhook_url=hook.url,
        )
        poller.cycle()
        assert hook.received == []  # lag 0: nothing
        kafka.produce(topic, 25, partition=0)
        poller.cycle()
        [firing] = hook.received
        [alert] = firing["body"]["alerts"]
        assert (alert["status"], alert["subject"], alert["value"]) == ("firing", group, 25.0)
        poller.cycle()
        assert len(hook.received) == 1  # still firing: no second message
        kafka.commit(group, [(topic, 0, 25)])
        poller.cycle()
        assert [m["body"]["alerts"][0]["status"] for m in hook.received] == ["firing", "resolved"]
