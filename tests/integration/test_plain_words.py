"""The topic page and the status bar in plain words, with Kafka's names and exact values in titles."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from dashboard.poller.loop import Poller

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def test_topic_settings_and_the_status_bar_say_it_plainly(kafka, dashboard_cluster):
    topic = kafka.create_topic(partitions=1, config={"retention.ms": "86400000", "max.message.bytes": "10485760"})
    Poller(dashboard_cluster, 1.0, isolated=False).cycle()  # the first cycle reads topic configs too
    client = Client()
    client.force_login(get_user_model().objects.create_user("viewer", password="pw-viewer-123"))

    html = client.get(reverse("topic", args=["test", topic])).content.decode()

    assert '<dt title="retention.ms">Keep records for</dt>' in html
    assert 'title="retention.ms = 86400000">1 day' in html
    assert 'title="max.message.bytes = 10485760">10 MiB' in html
    assert "read from Kafka in " in html and " requests to the brokers" in html  # the count moved to a title
    assert "collected in" not in html
