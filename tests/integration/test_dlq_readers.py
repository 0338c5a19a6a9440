"""The reprocess dry run names the groups that read the target topic, from real groups on the broker.

A reprocessed record is a new record on the original topic: the group it failed in gets it again
(the point), and so does every other group reading that topic, which the dry run must say.
"""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from dashboard.poller.loop import Poller
from kafka_admin.dlq import headers as h
from tests.dlq_support import spring_headers

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def operator_client() -> Client:
    user = get_user_model().objects.create_user("op", password="pw-operator-123")
    user.groups.add(Group.objects.get(name="operators"))
    client = Client()
    client.force_login(user)
    return client


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def test_the_dry_run_names_every_group_reading_the_original_topic(kafka, dashboard_cluster):
    original = kafka.create_topic(partitions=2)
    dlq = kafka.create_topic(f"{original}-dlq", partitions=1)
    elsewhere = kafka.create_topic(partitions=1)
    failing = kafka.unique("orders-service")
    others = sorted(kafka.unique(f"reader-{n}") for n in ("audit", "search", "billing"))
    p = kafka.producer(acks="all")
    for i in range(3):
        headers = [*spring_headers(original, i % 2, 10 + i, "com.example.Poison", f"bad {i}")]
        headers.append((h.SPRING_ORIGINAL_CONSUMER_GROUP, failing.encode()))
        p.produce(dlq, key=f"k{i}".encode(), value=json.dumps({"n": i}).encode(), partition=0, headers=headers)
    p.produce(original, key=b"x", value=b"{}", partition=0)
    assert p.flush(30) == 0
    # Real groups: the failing one and two others commit offsets on the original topic, one more
    # reads it as a live member (assigned, nothing committed), one reads an unrelated topic.
    kafka.commit(failing, [(original, 0, 1), (original, 1, 0)])
    for group in others[:2]:
        kafka.commit(group, [(original, 0, 1)])
    kafka.commit(kafka.unique("unrelated"), [(elsewhere, 0, 0)])
    with kafka.live_consumer(others[2], [original]):
        Poller(dashboard_cluster, 1.0, isolated=False).cycle()
    client = operator_client()

    page = client.post(reverse("dlq_plan", args=["test", dlq]), {"mode": "selected", "key": ["0:0", "0:1", "0:2"]})

    assert page.status_code == 200
    text = text_of(page.content.decode())
    assert f"{failing}: where these records failed (the DLQ headers say so); it reads {original}" in text
    assert f"3 other groups read {original}: {', '.join(others)} — they will receive these 3 records again." in text
    assert "unrelated" not in text
    for group in (failing, *others):
        assert f'href="{reverse("group", args=["test", group])}"' in page.content.decode()


def test_one_record_and_no_failing_group_named(kafka, dashboard_cluster):
    original = kafka.create_topic(partitions=1)
    dlq = kafka.create_topic(f"{original}-dlq", partitions=1)
    reader = kafka.unique("only-reader")
    p = kafka.producer(acks="all")
    p.produce(dlq, key=b"k", value=b"{}", partition=0, headers=spring_headers(original, 0, 5, "E", "bad"))
    assert p.flush(30) == 0
    kafka.commit(reader, [(original, 0, 0)])
    Poller(dashboard_cluster, 1.0, isolated=False).cycle()

    page = operator_client().post(reverse("dlq_plan", args=["test", dlq]), {"mode": "selected", "key": ["0:0"]})

    text = text_of(page.content.decode())
    assert f"1 group reads {original}: {reader} — it will receive this record again." in text
    assert "where this record failed" not in text


def test_no_reader_is_said_plainly(kafka, dashboard_cluster):
    original = kafka.create_topic(partitions=1)
    dlq = kafka.create_topic(f"{original}-dlq", partitions=1)
    p = kafka.producer(acks="all")
    p.produce(dlq, key=b"k", value=b"{}", partition=0, headers=spring_headers(original, 0, 5, "E", "bad"))
    assert p.flush(30) == 0
    Poller(dashboard_cluster, 1.0, isolated=False).cycle()

    page = operator_client().post(reverse("dlq_plan", args=["test", dlq]), {"mode": "selected", "key": ["0:0"]})

    assert f"No group reads {original} now" in text_of(page.content.decode())
