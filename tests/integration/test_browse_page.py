"""The topic page's message browser through Django against the real broker: the newest records of
every partition on open, a search that says how many records it scanned and scans further, clear
errors for bad input."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.kafka_support import KEEP_OLD_RECORDS

pytestmark = [pytest.mark.broker, pytest.mark.django_db]

BASE_TS = 1_700_000_000_000


@pytest.fixture
def client() -> Client:
    c = Client()
    c.force_login(get_user_model().objects.create_user("browse-viewer", password="pw-browse-123"))
    return c


@pytest.fixture
def topic(kafka, dashboard_cluster) -> str:
    name = kafka.create_topic(partitions=2, config=KEEP_OLD_RECORDS)
    p = kafka.producer(acks="all")
    for i in range(12):
        value = b'{"n": %d, "w": "%s"}' % (i, b"needle" if i == 3 else b"hay")
        p.produce(name, key=b"k%d" % i, value=value, partition=i % 2, timestamp=BASE_TS + 1000 * i)
    assert p.flush(30) == 0
    return name


def keys(text: str) -> list[str]:
    return re.findall(r'<span class="m-k mono" title="key">([^<]*)</span>', text)


def test_newest_records_of_every_partition_on_open(client, topic):
    text = client.get(f"/c/test/topics/{topic}/").content.decode()
    assert "12 records shown, newest first, all 2 partitions merged by time" in text
    assert keys(text) == [f"k{i}" for i in range(11, -1, -1)]


def test_search_says_what_it_scanned_and_scans_further(client, topic):
    url = f"/c/test/topics/{topic}/"
    text = html.unescape(client.get(url, {"q": "needle", "in": "value", "scan": "5"}).content.decode())
    assert "Scanned 5 records for 'needle' in the value (the cap of 5 a request)" in text and keys(text) == []
    further = re.search(r'class="next-page" href="([^"]+)#browser"', text).group(1)
    assert "Scan the next 5 records" in text
    text = html.unescape(client.get(url + further).content.decode())
    assert keys(text) == [] or keys(text) == ["k3"]
    while "k3" not in keys(text):
        further = re.search(r'class="next-page" href="([^"]+)#browser"', text).group(1)
        text = html.unescape(client.get(url + further).content.decode())
    assert keys(text) == ["k3"]


def test_the_htmx_partial_for_a_search(client, topic):
    headers = {"HX-Request": "true", "HX-Target": "messages"}
    response = client.get(
        f"/c/test/topics/{topic}/", {"q": "needle", "in": "value", "offset": "", "timestamp": ""}, headers=headers
    )
    text = html.unescape(response.content.decode())
    assert text.lstrip().startswith('<div id="messages">') and keys(text) == ["k3"]
    assert "Scanned 12 records for 'needle' in the value" in text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"cursor": "0:x"}, "not a cursor"),
        ({"in": "regex", "q": "a"}, "in must be one of"),
        ({"scan": "1000000"}, "scan must be a whole number from 1 to 100000"),
        ({"q": "x" * 201}, "q is too long"),
        ({"partition": "5"}, "partition 5 does not exist"),
    ],
)
def test_bad_input_is_a_clear_message(client, topic, params, message):
    response = client.get(f"/c/test/topics/{topic}/", params)
    assert response.status_code == 200 and message in html.unescape(response.content.decode())
