"""Hostile record content on a real broker, through the pages and the API.

HTML/JS in keys, values, header names and values, group ids and client ids; invalid UTF-8; a 10 MB
value; null key and value; 2,000 headers; huge failure headers. Every page shows them escaped, stays
small (< 1 MB) and fast (< 2 s). Offsets out of range, partitions that do not exist, and topics and
groups deleted while someone looks at them get a clear message, never a 500.
"""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest
from confluent_kafka.admin import AdminClient
from django.contrib.auth.models import Group

from dashboard.access.permissions import ensure_roles
from dashboard.poller.loop import Poller
from kafka_admin.dlq import headers as h
from tests.dlq_support import spring_headers
from tests.hostile.hostile import IMG, SCRIPT, assert_not_raw, check_api, check_page, warm_up_group_coordinator
from tests.kafka_support import commit_consumed

pytestmark = [pytest.mark.broker, pytest.mark.django_db]

MAX_PAGE_BYTES = 1024 * 1024
MAX_PAGE_SECONDS = 2.0
TEN_MB = 10 * 1024 * 1024
BIG_TOPIC_CONFIG = {"max.message.bytes": str(12 * 1024 * 1024)}
SCRIPT_B = SCRIPT.encode()
IMG_B = IMG.encode()
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


def hostile_records(original: str) -> list[dict]:
    """The records, in offset order (one partition): produce kwargs."""
    return [
        # 0: markup everywhere
        {"key": SCRIPT_B, "value": IMG_B, "headers": [(SCRIPT, b"<b>x</b>"), ("x-html", SCRIPT_B), ("x-null", None)]},
        # 1: invalid UTF-8 key, value and header value, with markup inside the bytes
        {
            "key": b"\xff\xfe" + SCRIPT_B,
            "value": b"\xc3\x28" + IMG_B + b"\x00",
            "headers": [("bin", b"\xff" + SCRIPT_B)],
        },
        # 2: a tombstone: null key, null value
        {"key": None, "value": None},
        # 3: null key, empty value
        {"key": None, "value": b""},
        # 4: 10 MB of markup
        {"key": b"big", "value": (SCRIPT_B * (TEN_MB // len(SCRIPT_B) + 1))[:TEN_MB]},
        # 5: 2,001 headers, markup in every name and value, the first name 300 KB long
        {
            "key": b"many-headers",
            "value": b"v",
            "headers": [
                ("<n>" * 100_000, b"a 300 KB name"),
                *((f"<h{i}>", f"<script>alert({i})</script>".encode()) for i in range(2000)),
            ],
        },
        # 6: JSON whose strings close the <pre> and open a script
        {"key": b"json", "value": json.dumps({"a": "</pre><script>alert(1)</script>", SCRIPT: [IMG]}).encode()},
        # 7: terminal escapes, right-to-left override, NUL
        {"key": "\u202e<script>".encode(), "value": b"\x1b[31mred\x1b[0m " + SCRIPT_B + b"\x00\x01"},
        # 8: failure headers (Spring) with markup in the exception class and message, and a 2 MB stack trace
        {
            "key": b"failed",
            "value": SCRIPT_B,
            "headers": [
                *spring_headers(original, 0, 7, f"com.example.{SCRIPT}", IMG * 1000)[:-1],
                (h.SPRING_EXCEPTION_STACKTRACE, (SCRIPT_B + b"\n\tat x.y(Z.java:1)\n") * 60_000),
            ],
        },
        # 9: an original topic header that is no topic name (it has no URL)
        {"key": b"odd-origin", "value": b"v", "headers": [(h.DLQ_ORIGINAL_TOPIC, b"a/b" + SCRIPT_B)]},
    ]


@pytest.fixture(scope="module")
def topics(kafka):
    """A topic and its DLQ, both holding every hostile record."""
    warm_up_group_coordinator(kafka)
    original = kafka.create_topic(kafka.unique("hostile"), partitions=1, config=BIG_TOPIC_CONFIG)
    dlq = kafka.create_topic(f"{original}-dlq", partitions=1, config=BIG_TOPIC_CONFIG)
    producer = kafka.producer(acks="all", **{"message.max.bytes": 13_000_000})
    errors: list = []
    for topic in (original, dlq):
        for record in hostile_records(original):
            producer.produce(topic, partition=0, on_delivery=lambda err, msg: err and errors.append(err), **record)
            producer.poll(0)
    assert producer.flush(60) == 0 and not errors, errors
    return original, dlq


@pytest.fixture
def operator_client(client, django_user_model):
    ensure_roles()
    user = django_user_model.objects.create_user("op")
    user.groups.add(Group.objects.get(name="operators"))
    client.force_login(user)
    return client


@pytest.fixture
def cycle(dashboard_cluster):
    poller = Poller(dashboard_cluster, 1.0)

    def run():
        return poller.cycle()

    run()
    return run


def timed_get(client, url, params=None, **kwargs):
    """The response and its time (the better of two tries: the test machine is shared)."""
    best, response = float("inf"), None
    for _ in range(2):
        start = time.perf_counter()
        response = client.get(url, params or {}, **kwargs)
        best = min(best, time.perf_counter() - start)
        if best < MAX_PAGE_SECONDS:
            break
    return response, best


def check_hostile_page(response, seconds: float) -> str:
    text = check_page(response, SCRIPT, IMG, "<b>x</b>")
    assert response.status_code == 200, text[:2000]
    assert len(response.content) < MAX_PAGE_BYTES, len(response.content)
    assert seconds < MAX_PAGE_SECONDS, seconds
    for raw in (SCRIPT, IMG, "<b>x</b>", "<h1999>", "<n>", "<script>alert(", "</pre><script>", "<img src"):
        assert raw not in text, raw
    return text


class TestMessageBrowser:
    def test_every_hostile_record_escaped_bounded_and_fast(self, operator_client, topics, cycle):
        original, _ = topics
        url = f"/c/test/topics/{original}/"
        response, seconds = timed_get(operator_client, url, {"partition": "0", "seek": "oldest", "limit": "20"})
        text = check_hostile_page(response, seconds)
        assert "10 records shown" in text and "2001 headers (the first 200 shown)" in text
        assert ESCAPED_SCRIPT in text and "&lt;img src=x onerror=alert(1)&gt;" in text
        assert "00000000  ff fe 3c 73" in text  # the invalid UTF-8 key as a hex dump
        assert '<span class="muted">null</span>' in text and '<span class="muted">empty</span>' in text
        assert f"Download all {TEN_MB} bytes" in text
        assert f"/c/test/topics/{original}/messages/0/4/value/" in text

    def test_the_htmx_partial_and_newest(self, operator_client, topics, cycle):
        original, _ = topics
        url = f"/c/test/topics/{original}/"
        headers = {"HX-Request": "true", "HX-Target": "messages"}
        response, seconds = timed_get(operator_client, url, {"partition": "0"}, headers=headers)
        text = check_hostile_page(response, seconds)
        assert text.startswith('<div id="messages">') or 'id="messages"' in text[:200]

    def test_one_record_at_a_time(self, operator_client, topics, cycle):
        original, _ = topics
        for offset in range(10):
            params = {"partition": "0", "seek": "offset", "offset": str(offset), "limit": "1"}
            response, seconds = timed_get(operator_client, f"/c/test/topics/{original}/", params)
            check_hostile_page(response, seconds)

    def test_download_of_the_10mb_value(self, operator_client, topics, cycle):
        original, _ = topics
        response = operator_client.get(f"/c/test/topics/{original}/messages/0/4/value/")
        assert response.status_code == 200 and len(response.content) == TEN_MB
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
        key = operator_client.get(f"/c/test/topics/{original}/messages/0/1/key/")
        assert key.status_code == 200 and key.content == b"\xff\xfe" + SCRIPT_B
        null = operator_client.get(f"/c/test/topics/{original}/messages/0/2/value/")
        assert null.status_code == 200 and null.content == b""

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"seek": "offset", "offset": str(10**12)}, "is beyond the end of partition 0"),
            ({"seek": "offset", "offset": "-1"}, "offset must be a whole number"),
            ({"seek": "offset", "offset": str(2**64)}, "offset must be a whole number"),
            ({"partition": "999"}, "partition 999 does not exist"),
            ({"partition": "-1"}, "partition must be a whole number"),
            ({"seek": "timestamp", "timestamp": "9999-12-31T23:00"}, "no record in partition 0 has a timestamp"),
            ({"seek": "timestamp", "timestamp": "yesterday"}, "timestamp must be an ISO-8601 date-time"),
            ({"limit": "100000"}, "limit must be a whole number from 1 to 200"),
        ],
    )
    def test_out_of_range_is_a_clear_message(self, operator_client, topics, cycle, params, message):
        original, _ = topics
        response, seconds = timed_get(operator_client, f"/c/test/topics/{original}/", {"partition": "0", **params})
        text = check_hostile_page(response, seconds)
        assert message in text, text[text.find('id="messages"') :][:1000]

    def test_downloads_out_of_range_are_404(self, operator_client, topics, cycle):
        original, _ = topics
        for url in (
            f"/c/test/topics/{original}/messages/0/{10**12}/value/",
            f"/c/test/topics/{original}/messages/999/0/value/",
            f"/c/test/topics/{original}/messages/0/0/headers/",
            f"/c/test/topics/{original}/messages/0/{2**70}/key/",
        ):
            response = operator_client.get(url)
            assert response.status_code == 404, url
            check_page(response)


class TestDlqPages:
    def test_dlq_topic_page(self, operator_client, topics, cycle):
        _, dlq = topics
        for params in ({}, {"status": "all"}, {"q": "<script>"}, {"exception": f"com.example.{SCRIPT}"}):
            response, seconds = timed_get(operator_client, f"/c/test/dlq/{dlq}/", params)
            text = check_hostile_page(response, seconds)
            assert ESCAPED_SCRIPT in text or "No records" in text or "no records" in text.lower()

    def test_dlq_list_and_overview(self, operator_client, topics, cycle):
        for url in ("/c/test/dlq/", "/c/test/"):
            response, seconds = timed_get(operator_client, url)
            check_hostile_page(response, seconds)

    @pytest.mark.parametrize("offset", range(10))
    def test_dlq_record_page(self, operator_client, topics, cycle, offset):
        _, dlq = topics
        response, seconds = timed_get(operator_client, f"/c/test/dlq/{dlq}/0/{offset}/")
        text = check_hostile_page(response, seconds)
        if offset == 5:
            assert "Headers (2001, the first 500 shown)" in text
        if offset == 8:
            assert "com.example.&lt;script&gt;" in text

    def test_dlq_record_out_of_range(self, operator_client, topics, cycle):
        _, dlq = topics
        for url, status, message in (
            (f"/c/test/dlq/{dlq}/0/{10**12}/", 404, "beyond the end"),
            (f"/c/test/dlq/{dlq}/999/0/", 404, "partition 999 does not exist"),
            (f"/c/test/dlq/{dlq}/0/{2**70}/", 400, "offsets are whole numbers from 0 to 9,223,372,036,854,775,807"),
        ):
            response = operator_client.get(url)
            assert response.status_code == status, url
            assert message in check_page(response)

    def test_api_records(self, operator_client, topics, cycle):
        _, dlq = topics
        response = operator_client.get(f"/api/v1/clusters/test/dlq/{dlq}/records/", {"status": "all"})
        body = check_api(response)
        assert body["count"] == 10 and len(response.content) < MAX_PAGE_BYTES
        by_offset = {r["offset"]: r for r in body["results"]}
        assert by_offset[0]["key"] == SCRIPT and by_offset[0]["value_preview"] == IMG  # data, as it is, in JSON
        assert by_offset[8]["exception_class"] == f"com.example.{SCRIPT}"
        assert all(len(r["value_preview"]) <= 500 for r in body["results"])

    def test_plan_of_hostile_records(self, operator_client, topics, cycle):
        _, dlq = topics
        response = operator_client.post(
            f"/c/test/dlq/{dlq}/plan/", {"mode": "range", "partition": "0", "start": "0", "end": "9"}
        )
        text = check_page(response, SCRIPT, IMG)
        assert response.status_code == 200 and len(response.content) < MAX_PAGE_BYTES
        assert "<strong>9</strong> records will be re-published" in text  # record 9: no usable original topic
        assert "1 record have no known original topic" in text


class TestHostileGroup:
    def test_group_and_client_id_full_of_html(self, operator_client, kafka, topics, cycle):
        original, _ = topics
        group = kafka.unique(f"<script>alert('g')</script>{IMG}'\"")
        with kafka.live_consumer(group, [original], **{"client.id": IMG}) as consumer:
            commit_consumed(consumer, kafka.consume(consumer, 3))
            cycle()
            pages = [
                "/c/test/",
                "/c/test/groups/",
                f"/c/test/topics/{original}/",
                f"/c/test/groups/{quote(group, safe='')}/",
                f"/c/test/reset/{quote(group, safe='')}/",
            ]
            for url in pages:
                response, seconds = timed_get(operator_client, url)
                text = check_hostile_page(response, seconds)
                assert "&lt;script&gt;alert(&#x27;g&#x27;)&lt;/script&gt;" in text, url
            assert (
                "&lt;img src=x onerror=alert(1)&gt;"
                in operator_client.get(f"/c/test/groups/{quote(group, safe='')}/").content.decode()
            )
            body = check_api(operator_client.get(f"/api/v1/clusters/test/groups/{quote(group, safe='')}/"))
            assert body["group_id"] == group and {m["client_id"] for m in body["members"]} == {IMG}


class TestDeletedWhileViewed:
    def test_topic_deleted(self, operator_client, kafka, cycle):
        topic = kafka.create_topic(kafka.unique("doomed"), partitions=1)
        dlq = kafka.create_topic(f"{topic}-dlq", partitions=1)
        kafka.produce(topic, 3, partition=0, value=SCRIPT_B)
        kafka.produce(dlq, 3, partition=0, value=SCRIPT_B, headers=[(h.DLQ_ORIGINAL_TOPIC, topic.encode())])
        cycle()
        browse = {"partition": "0", "seek": "oldest"}
        assert operator_client.get(f"/c/test/topics/{topic}/", browse).status_code == 200
        assert operator_client.get(f"/c/test/dlq/{dlq}/0/1/").status_code == 200

        kafka.admin.delete_topics([topic, dlq], request_timeout=20)[topic].result(timeout=20)
        wait_until_gone(kafka.admin, topic, dlq)
        # The store still lists the topics (no cycle yet): the reads say what happened.
        response = operator_client.get(f"/c/test/topics/{topic}/", browse)
        assert response.status_code == 200 and f"topic {topic} does not exist" in check_page(response)
        response = operator_client.get(f"/c/test/dlq/{dlq}/0/1/")  # the index still knows the record
        assert response.status_code == 200 and "does not exist" in check_page(response)
        response = operator_client.get(f"/c/test/topics/{topic}/messages/0/1/value/")
        assert response.status_code == 404 and "Not found" in check_page(response)
        post = {"mode": "selected", "key": "0:1"}
        response = operator_client.post(f"/c/test/dlq/{dlq}/plan/", post)
        assert response.status_code == 200 and "does not exist" in check_page(response)

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and cycle().topic(topic) is not None:
            time.sleep(0.5)
        response = operator_client.get(f"/c/test/topics/{topic}/")
        assert response.status_code == 404 and "unknown topic" in check_page(response)
        response = operator_client.get(f"/c/test/dlq/{dlq}/")
        assert response.status_code == 404 and "not a dead letter topic" in check_page(response)
        response = operator_client.get(f"/api/v1/clusters/test/topics/{topic}/")
        assert response.status_code == 404 and "unknown topic" in check_api(response)["error"]

    def test_group_deleted(self, operator_client, kafka, cycle):
        topic = kafka.create_topic(kafka.unique("g-topic"), partitions=1)
        kafka.produce(topic, 5, partition=0)
        group = kafka.unique("<b>x</b>doomed")
        kafka.commit(group, [(topic, 0, 2)])
        cycle()
        url = f"/c/test/groups/{quote(group, safe='')}/"
        assert operator_client.get(url).status_code == 200

        kafka.admin.delete_consumer_groups([group], request_timeout=20)[group].result(timeout=20)
        response = operator_client.get(url)  # still in the store until the next cycle
        assert response.status_code == 200
        assert_not_raw(response.content.decode(), "<b>x</b>")
        response = operator_client.get(f"/c/test/reset/{quote(group, safe='')}/")
        assert response.status_code == 404 and "unknown consumer group" in check_page(response)
        data = {"scope": "all", "to": "earliest"}
        response = operator_client.post(f"/c/test/reset-preview/{quote(group, safe='')}/", data)
        check_page(response, "<b>x</b>")
        assert response.status_code in (200, 400, 404)

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and cycle().group(group) is not None:
            time.sleep(0.5)
        response = operator_client.get(url)
        assert response.status_code == 404 and "unknown consumer group" in check_page(response, "<b>x</b>")
        response = operator_client.get(f"/api/v1/clusters/test/groups/{quote(group, safe='')}/")
        assert response.status_code == 404 and "unknown consumer group" in check_api(response)["error"]


def wait_until_gone(admin: AdminClient, *topics: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        present = admin.list_topics(timeout=5).topics
        if not any(t in present for t in topics):
            return
        time.sleep(0.2)
    raise TimeoutError(f"topics {topics} still listed")
