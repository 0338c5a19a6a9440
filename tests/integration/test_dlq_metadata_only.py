"""A share-group dead letter (KIP-1191) with only its metadata: the record page says so plainly,
reads the original record from its topic while retained, and says when retention deleted it."""

from __future__ import annotations

import pytest
from confluent_kafka import TopicPartition
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from dashboard.poller.loop import Poller
from kafka_admin.dlq.conventions import share_group as share

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def test_the_record_page_of_a_metadata_only_dead_letter(kafka, dashboard_cluster):
    orders = kafka.create_topic(partitions=1)
    dlq = kafka.create_topic(f"{orders}-dlq", partitions=1)
    p = kafka.producer(acks="all")
    for i in range(3):
        p.produce(orders, key=f"k{i}".encode(), value=f"original <value> {i}".encode(), partition=0)
    for offset in (1, 2):  # as KIP-1191 writes them: headers only, no key, no value
        headers = [
            (share.TOPIC, orders.encode()),
            (share.PARTITION, b"0"),
            (share.OFFSET, str(offset).encode()),
            (share.GROUP, b"billing"),
            (share.DELIVERY_COUNT, b"5"),
            (share.MESSAGE, b"Offset delivery count exceeded the threshold."),
        ]
        p.produce(dlq, value=None, partition=0, headers=headers)
    assert p.flush(30) == 0
    Poller(dashboard_cluster, 1.0).cycle()
    user = get_user_model().objects.create_user("viewer", password="pw-viewer-123")
    user.groups.add(Group.objects.get(name="viewers"))
    client = Client()
    client.force_login(user)

    page = client.get(reverse("dlq_record", args=["test", dlq, 0, 0])).content.decode()
    assert "Only the failure's metadata." in page
    assert f"still in {orders} partition 0 offset 1" in page
    assert "original &lt;value&gt; 1" in page  # read from the original topic, escaped
    assert "?partition=0&amp;seek=offset&amp;offset=1&amp;limit=1#browser" in page

    deleted = kafka.admin.delete_records([TopicPartition(orders, 0, 2)], request_timeout=30)
    for future in deleted.values():
        future.result()
    Poller(dashboard_cluster, 1.0).cycle()
    page = client.get(reverse("dlq_record", args=["test", dlq, 0, 0])).content.decode()
    assert "deleted by retention (the log now starts at 2)" in page
    assert "original &lt;value&gt;" not in page
    page = client.get(reverse("dlq_record", args=["test", dlq, 0, 1])).content.decode()
    assert "original &lt;value&gt; 2" in page
