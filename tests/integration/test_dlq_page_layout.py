"""DLQ pages say each count once and plainly, put the primary action first, disable what cannot be done."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from dashboard.poller.loop import Poller
from kafka_admin.dlq import headers as h

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def operator_client() -> Client:
    user = get_user_model().objects.create_user("op", password="pw-operator-123")
    user.groups.add(Group.objects.get(name="operators"))
    client = Client()
    client.force_login(user)
    return client


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def button(html: str, label: str) -> str:
    found = re.search(r"<button[^>]*>" + re.escape(label), html)
    assert found, label
    return found.group(0)


def waiting_tile(html: str) -> str:
    return re.search(r'data-testid="dlq-waiting">([\d,]+)<', html).group(1)


def test_counts_agree_and_say_what_they_count(dlq_setup, kafka, dashboard_cluster):
    _, dlq = dlq_setup
    # One more record in Kafka, in a snapshot the index has not read yet (as within a poll cycle).
    p = kafka.producer(acks="all")
    p.produce(dlq, key=b"late", value=b"{}", partition=0, headers=[(h.DLQ_EXCEPTION_CLASS, b"Late")])
    assert p.flush(30) == 0
    Poller(dashboard_cluster, 1.0, isolated=False).collect_and_store()
    html = operator_client().get(reverse("dlq_topic", args=["test", dlq])).content.decode()
    text = text_of(html)
    assert waiting_tile(html) == "10"  # 9 listed + 1 not listed yet
    assert "1 not listed yet" in text
    assert "9 match the filter" in text
    assert "in Kafka" not in text  # the third, unlabelled count is gone


def test_transaction_markers_are_not_counted_as_records(kafka, dashboard_cluster):
    original = kafka.create_topic(partitions=1)
    dlq = kafka.create_topic(f"{original}-dlq", partitions=1)
    p = kafka.producer(acks="all", **{"transactional.id": kafka.unique("dlq-writer")})
    p.init_transactions(30)
    for i in range(3):  # one transaction per dead letter: 3 records and 3 commit markers
        p.begin_transaction()
        p.produce(dlq, key=f"k{i}".encode(), value=b"{}", partition=0, headers=[(h.DLQ_EXCEPTION_CLASS, b"E")])
        p.commit_transaction(30)
    Poller(dashboard_cluster, 1.0, isolated=False).cycle()
    html = operator_client().get(reverse("dlq_topic", args=["test", dlq])).content.decode()
    assert waiting_tile(html) == "3", "6 offsets, 3 of them commit markers"
    assert "not listed yet" not in text_of(html)
    assert "3 match the filter" in text_of(html)


def test_selection_actions_are_disabled_until_something_is_selected(dlq_setup):
    _, dlq = dlq_setup
    html = operator_client().get(reverse("dlq_topic", args=["test", dlq])).content.decode()
    for label in ("Reprocess selected…", "Resolve selected…"):
        tag = button(html, label)
        assert " disabled" in tag and "data-needs-selection" in tag
    assert " disabled" not in button(html, "Reprocess all 9 matching…")


def test_the_record_page_puts_its_actions_above_the_headers(dlq_setup):
    _, dlq = dlq_setup
    html = operator_client().get(reverse("dlq_record", args=["test", dlq, 0, 0])).content.decode()
    assert html.index("Reprocess this record…") < html.index("<h2>Failure") < html.index("<h2>Headers")


def test_the_dlq_list_says_its_heading_once(dlq_setup):
    client = operator_client()
    dlq_page = client.get(reverse("dlq", args=["test"])).content.decode()
    assert dlq_page.count(">Dead letter queues</h") == 1
    assert "<h1>Dead letter queues</h1>" in dlq_page
    assert "waiting in" in text_of(dlq_page)
    overview = client.get(reverse("overview", args=["test"])).content.decode()
    assert "<h2>Dead letter queues</h2>" in overview  # a card among others there: it keeps its own


def test_the_live_dlq_table_has_no_heading_on_the_dlq_page(dlq_setup):
    from dashboard.live.registry import page_fragments, render

    specs = {s.name: s for s in page_fragments("dlq", {"cluster": "test"})}
    assert "<h2>Dead letter queues</h2>" not in render(specs["dlq-table"])
    overview = {s.name: s for s in page_fragments("overview", {"cluster": "test"})}
    assert "<h2>Dead letter queues</h2>" in render(overview["dlq-table"])
