"""The message browser's live tail over the websocket, against the real broker: two viewers share ONE
reader (one child process), new records reach both, a viewer's filter applies to it alone, a paused
viewer gets nothing, the reader stops (its child ends) after both leave, and the viewer cap holds."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from dashboard.monitor import tail

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def session_cookie(name: str = "viewer-tail") -> bytes:
    user = get_user_model().objects.create_user(name, password="pw-viewer-123")
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def ws(path: str, cookie: bytes | None) -> WebsocketCommunicator:
    from config.asgi import application

    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if cookie:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, path, headers=headers)


async def until(condition, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def next_json(comm: WebsocketCommunicator, key: str, timeout: float = 30.0) -> dict:
    """The next message carrying `key`, skipping the others."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no message with {key!r}")
        msg = json.loads(await comm.receive_from(timeout=left))
        if key in msg:
            return msg


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split()[2] != "Z"


def produce(kafka, topic: str, values: list[bytes], partition: int = 0) -> None:
    p = kafka.producer(acks="all")
    for v in values:
        p.produce(topic, value=v, key=b"k", partition=partition)
    assert p.flush(30) == 0


def test_two_viewers_share_one_reader_that_stops_after_both_leave(kafka, dashboard_cluster):
    topic = kafka.create_topic(partitions=2)
    cookie = session_cookie()

    async def scenario() -> None:
        a = ws(f"/ws/tail/test/{topic}/", cookie)
        b = ws(f"/ws/tail/test/{topic}/?q=beta&in=value", cookie)
        assert (await a.connect())[0] and (await b.connect())[0]
        assert (await next_json(a, "state"))["state"] == "live"
        assert (await next_json(b, "state"))["state"] == "live"
        hub = tail.hub()
        assert list(hub.tails) == [("test", topic)] and hub.reader_count() == 1
        shared = hub.tails[("test", topic)]
        await until(lambda: shared.polls > 0 and shared.pid is not None, what="the reader's first poll")
        pid = shared.pid
        await asyncio.to_thread(produce, kafka, topic, [b"alpha-<script>1</script>", b"beta-2"])
        got_a = await next_json(a, "rows")
        while got_a["count"] < 2:  # the two may come in two polls
            more = await next_json(a, "rows")
            got_a = {"rows": more["rows"] + got_a["rows"], "count": got_a["count"] + more["count"]}
        assert "alpha-&lt;script&gt;1&lt;/script&gt;" in got_a["rows"] and "<script>1" not in got_a["rows"]
        got_b = await next_json(b, "rows")
        assert got_b["count"] == 1 and "beta-2" in got_b["rows"] and "alpha" not in got_b["rows"]
        assert hub.tails[("test", topic)] is shared and shared.pid == pid  # still one reader

        # a paused (hidden) viewer gets nothing; the other still does
        await b.send_to(text_data=json.dumps({"action": "pause"}))
        assert (await next_json(b, "state"))["state"] == "paused"
        await asyncio.to_thread(produce, kafka, topic, [b"beta-while-hidden"], 1)
        assert "beta-while-hidden" in (await next_json(a, "rows"))["rows"]
        assert await b.receive_nothing(timeout=1.5)

        # both leave (one paused, one closed): the reader stops and its child ends
        await a.disconnect()
        await until(lambda: ("test", topic) not in hub.tails, what="the reader to stop")
        await until(lambda: not alive(pid), what="the reader's child to end")
        await b.disconnect()

    asyncio.run(scenario())


def test_a_hidden_tab_alone_stops_the_reader_and_resume_starts_one(kafka, dashboard_cluster):
    topic = kafka.create_topic(partitions=1)
    cookie = session_cookie()

    async def scenario() -> None:
        a = ws(f"/ws/tail/test/{topic}/", cookie)
        assert (await a.connect())[0]
        await next_json(a, "state")
        hub = tail.hub()
        await a.send_to(text_data=json.dumps({"action": "pause"}))
        await next_json(a, "state")
        await until(lambda: ("test", topic) not in hub.tails, what="the reader to stop while hidden")
        await a.send_to(text_data=json.dumps({"action": "resume"}))
        assert (await next_json(a, "state"))["state"] == "live"
        shared = hub.tails[("test", topic)]
        await until(lambda: shared.polls > 0, what="the new reader's first poll")
        await asyncio.to_thread(produce, kafka, topic, [b"after-resume"])
        assert "after-resume" in (await next_json(a, "rows"))["rows"]
        await a.disconnect()
        await until(lambda: ("test", topic) not in hub.tails, what="the reader to stop")

    asyncio.run(scenario())


@override_settings(TAIL_MAX_VIEWERS=2)
def test_the_viewer_cap_is_enforced(kafka, dashboard_cluster):
    topic = kafka.create_topic(partitions=1)
    cookie = session_cookie()

    async def scenario() -> None:
        viewers = [ws(f"/ws/tail/test/{topic}/", cookie) for _ in range(3)]
        for v in viewers[:2]:
            assert (await v.connect())[0]
            await next_json(v, "state")
        third = viewers[2]
        assert (await third.connect())[0]
        refused = await next_json(third, "error")
        assert "2 people are watching" in refused["error"]
        assert (await third.receive_output(timeout=5))["type"] == "websocket.close"
        assert len(tail.hub().tails[("test", topic)].viewers) == 2
        for v in viewers[:2]:
            await v.disconnect()
        await until(lambda: ("test", topic) not in tail.hub().tails, what="the reader to stop")

    asyncio.run(scenario())


def test_anonymous_and_bad_requests_are_refused(kafka, dashboard_cluster):
    cookie = session_cookie()

    async def scenario() -> None:
        anon = ws("/ws/tail/test/some-topic/", None)
        assert (await anon.connect())[1] == 4401
        unknown = ws("/ws/tail/nope/some-topic/", cookie)
        assert (await unknown.connect())[1] == 4400
        bad = ws("/ws/tail/test/some-topic/?partition=-1", cookie)
        assert (await bad.connect())[1] == 4400

    asyncio.run(scenario())


@override_settings(TAIL_BUFFER=3, TAIL_RECORDS_PER_POLL=4)
def test_records_held_and_per_poll_are_bounded(kafka, dashboard_cluster):
    """A joiner gets at most TAIL_BUFFER held records; a burst beyond TAIL_RECORDS_PER_POLL is sampled:
    the reader jumps to the end and says how many it left out."""
    topic = kafka.create_topic(partitions=1)
    cookie = session_cookie()

    async def scenario() -> None:
        a = ws(f"/ws/tail/test/{topic}/", cookie)
        assert (await a.connect())[0]
        await next_json(a, "state")
        await asyncio.to_thread(produce, kafka, topic, [b"burst-%d" % i for i in range(40)])
        first = await next_json(a, "rows")
        assert first["count"] <= 4
        note = await next_json(a, "note")
        assert "arrived too fast to show; the tail jumped ahead" in note["note"]
        b = ws(f"/ws/tail/test/{topic}/", cookie)
        assert (await b.connect())[0]
        held = await next_json(b, "rows")
        assert held["count"] == 3 == held["rows"].count('<li class="msg">')
        await a.disconnect()
        await b.disconnect()
        await until(lambda: ("test", topic) not in tail.hub().tails, what="the reader to stop")

    asyncio.run(scenario())
