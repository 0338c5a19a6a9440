"""The live dashboard against the real broker: poller -> store -> history -> websocket fragments."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client

from dashboard.models import GroupSample, TopicSample
from dashboard.poller.loop import Poller
from dashboard.state import store

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

INTERVAL = 1.0


def session_cookie() -> bytes:
    user = get_user_model().objects.create_user("viewer-ws", password="pw-viewer-123")
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def drain(comm: WebsocketCommunicator, wait: float) -> list[str]:
    """Every message that arrives within `wait` seconds (without cancelling the consumer on timeout)."""
    got = []
    while not await comm.receive_nothing(timeout=wait):
        got.append(await comm.receive_from(timeout=1))
    return got


def ws(path: str, cookie: bytes | None, origin: bytes = b"http://127.0.0.1") -> WebsocketCommunicator:
    from config.asgi import application

    headers = [(b"origin", origin), (b"host", b"127.0.0.1")]
    if cookie:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, path, headers=headers)


class TestLiveUpdates:
    def test_a_commit_reaches_a_websocket_client_within_two_intervals(self, kafka, dashboard_cluster):
        topic = kafka.create_topic(partitions=1)
        kafka.produce(topic, 20, partition=0)
        group = kafka.unique("live")
        kafka.commit(group, [(topic, 0, 2)])
        poller = Poller(dashboard_cluster, INTERVAL)
        cookie = session_cookie()

        async def scenario() -> float:
            await poller.run_cycle()
            comm = ws(f"/ws/live/group/?cluster=test&group={group}", cookie)
            connected, _ = await comm.connect()
            assert connected
            first = await comm.receive_from(timeout=5)
            assert 'id="group-summary"' in first and ">18<" in first.replace(" ", "")
            await asyncio.to_thread(kafka.commit, group, [(topic, 0, 15)])
            committed_at = time.monotonic()
            received = None
            while time.monotonic() - committed_at < 2 * INTERVAL + 3:
                await poller.run_cycle()
                for message in await drain(comm, INTERVAL / 2):
                    if 'id="group-summary"' in message and ">5<" in message.replace(" ", ""):
                        received = time.monotonic() - committed_at
                if received is not None:
                    break
            await comm.disconnect()
            assert received is not None, "the new lag never reached the websocket"
            return received

        elapsed = asyncio.run(scenario())
        # One cycle (collect + publish) after the commit; a cycle here takes well under a second.
        assert elapsed < 2 * INTERVAL + 1

    def test_the_first_snapshot_reaches_open_pages_before_the_slow_steps_of_its_cycle(
        self, kafka, dashboard_cluster, monkeypatch
    ):
        """A page opened before the first snapshot gets it when the collection is stored, while the
        DLQ index and topic configs of that cycle are still running (here: held until released)."""
        topic = kafka.create_topic(partitions=1)
        kafka.produce(topic, 7, partition=0)
        group = kafka.unique("first")
        kafka.commit(group, [(topic, 0, 3)])
        poller = Poller(dashboard_cluster, INTERVAL, isolated=False)
        slow_steps_may_end = threading.Event()
        finish = poller.finish_cycle

        def held_finish(*args):
            assert slow_steps_may_end.wait(30)
            return finish(*args)

        monkeypatch.setattr(poller, "finish_cycle", held_finish)
        cookie = session_cookie()

        async def scenario() -> tuple[str, list[str]]:
            comm = ws(f"/ws/live/group/?cluster=test&group={group}", cookie)
            assert (await comm.connect())[0]
            waiting = await comm.receive_from(timeout=5)
            cycle = asyncio.ensure_future(poller.run_cycle())
            early = []
            while not (any("Data from" in m for m in early) and any('id="group-summary"' in m for m in early)):
                early.append(await comm.receive_from(timeout=20))
            assert not cycle.done(), "the first snapshot came only after the whole cycle"
            slow_steps_may_end.set()
            await cycle
            await comm.disconnect()
            return waiting, early

        waiting, early = asyncio.run(scenario())
        assert "Waiting for the first snapshot" in waiting
        summary = next(m for m in early if 'id="group-summary"' in m)
        assert ">4<" in summary.replace(" ", "")  # 7 records, 3 committed

    def test_unchanged_fragments_are_not_sent_again(self, kafka, dashboard_cluster):
        topic = kafka.create_topic(partitions=1)
        group = kafka.unique("quiet")
        kafka.commit(group, [(topic, 0, 0)])
        poller = Poller(dashboard_cluster, INTERVAL)
        cookie = session_cookie()

        async def scenario() -> tuple[list[str], list[str]]:
            await poller.run_cycle()
            comm = ws(f"/ws/live/group/?cluster=test&group={group}&range=1h", cookie)
            assert (await comm.connect())[0]
            await comm.receive_from(timeout=5)  # the current state, sent on connect
            await poller.run_cycle()  # the first publish for this subscription sends every fragment once
            first = await drain(comm, 0.5)
            await poller.run_cycle()
            second = await drain(comm, 0.5)
            await comm.disconnect()
            return first, second

        first, second = asyncio.run(scenario())
        assert len(first) == 5
        # The second cycle changed the status line (its timestamp), the chart (one more point) and, while
        # the lag-status window fills, the summary and partitions (the sample count in the reason);
        # the members are the same and are not sent again.
        sent = "\n".join(second)
        assert 'id="status"' in sent and 'id="group-chart"' in sent
        assert 'id="group-members"' not in sent
        assert len(second) < len(first)

    def test_anonymous_and_foreign_origin_websockets_are_refused(self, dashboard_cluster):
        async def scenario() -> tuple[bool, bool]:
            anon = ws("/ws/live/overview/?cluster=test", None)
            anon_ok, _ = await anon.connect()
            cookie = await asyncio.to_thread(session_cookie)
            foreign = ws("/ws/live/overview/?cluster=test", cookie, origin=b"http://evil.example")
            foreign_ok, _ = await foreign.connect()
            return anon_ok, foreign_ok

        assert asyncio.run(scenario()) == (False, False)


class TestPollerFigures:
    def test_history_rates_and_time_lag_for_a_known_producer(self, kafka, dashboard_cluster):
        topic = kafka.create_topic(partitions=1)
        group = kafka.unique("rate")
        kafka.commit(group, [(topic, 0, 0)])
        poller = Poller(dashboard_cluster, INTERVAL)
        stop = threading.Event()
        rate = 50  # records per second

        def produce() -> None:
            p = kafka.producer()
            while not stop.is_set():
                started = time.monotonic()
                for _ in range(rate // 10):
                    p.produce(topic, b"x", partition=0)
                p.poll(0)
                time.sleep(max(0.0, 0.1 - (time.monotonic() - started)))
            p.flush(10)

        thread = threading.Thread(target=produce, daemon=True)
        thread.start()
        try:
            commit_at = None
            for i in range(12):
                snap = poller.cycle()
                if i == 3:
                    end = snap.topic(topic).partitions[0].end_offset
                    kafka.commit(group, [(topic, 0, end)])
                    commit_at = time.monotonic()
                time.sleep(INTERVAL)
            snap = poller.cycle()
        finally:
            stop.set()
            thread.join(10)
        state = store.state("test")
        produce_rate = state.figures.topics[topic].produce_rate
        assert 0.6 * rate < produce_rate < 1.4 * rate
        tl = state.figures.groups[group].time_lag
        expected = time.monotonic() - commit_at
        assert tl.seconds is not None and not tl.lower_bound
        assert abs(tl.seconds - expected) < 3.0, (tl, expected)
        assert GroupSample.objects.filter(cluster="test", group_id=group).count() >= 13
        assert TopicSample.objects.filter(cluster="test", topic=topic).count() >= 13


class TestPagesAgreeWithSnapshot:
    def test_group_and_topic_pages_show_the_snapshot_numbers(self, kafka, dashboard_cluster, client):
        evil = kafka.unique('<b>"grp"</b>')
        topic = kafka.create_topic(partitions=2)
        kafka.produce(topic, 7, partition=1)
        kafka.commit(evil, [(topic, 1, 3)])
        Poller(dashboard_cluster, INTERVAL).cycle()
        user = get_user_model().objects.create_user("pager", password="pw-pager-123")
        client.force_login(user)
        from django.urls import reverse

        page = client.get(reverse("group", args=["test", evil]))
        html = page.content.decode()
        assert page.status_code == 200
        assert '<b>"grp"</b>' not in html and "&lt;b&gt;&quot;grp&quot;&lt;/b&gt;" in html
        assert 'data-testid="group-lag">4<' in html
        groups_html = client.get(reverse("groups", args=["test"]), {"q": "grp"}).content.decode()
        assert "&lt;b&gt;&quot;grp&quot;&lt;/b&gt;" in groups_html and "<b>" not in groups_html
        topic_html = client.get(reverse("topic", args=["test", topic])).content.decode()
        assert ">7<" in topic_html.replace(" ", "")
