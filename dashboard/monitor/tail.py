"""The live tail: ONE shared, bounded reader per (cluster, topic) among the people watching it.

The first viewer of a topic starts its reader (a supervised child running
kafka_admin.records.tail.TailSession: librdkafka stays out of the server); later viewers join it and
get the records it still holds; the reader stops when the last viewer leaves or pauses (a hidden tab
pauses itself), so a tail nobody looks at costs the broker nothing. Bounds: TAIL_MAX_VIEWERS per
topic, TAIL_MAX_READERS per server process, TAIL_RECORDS_PER_POLL per poll (a busier topic is
sampled: the reader jumps to the end and says how many records it left out), TAIL_BUFFER records
kept for those who join.

State lives in this process (the readers are its children), so behind several ASGI workers each
worker has its own reader per topic, and a viewer's records come from its worker's reader: they are
sent to each viewer's channel, never to a group other workers could hear.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from django.conf import settings
from django.template.loader import render_to_string

from dashboard.clusters import get_cluster, schema_decoder
from dashboard.monitor.browser import row_context
from kafka_admin.isolation.counts import RECORD_READER
from kafka_admin.isolation.crash import Backoff
from kafka_admin.isolation.supervisor import Supervisor, WorkerFailed
from kafka_admin.records.match import Match
from kafka_admin.records.read import Record

log = logging.getLogger(__name__)
TAIL_SESSION = "kafka_admin.records.tail:TailSession"
WAIT_S = 1.0  # a poll waits this long for the first new record
ANSWER_GRACE_S = 10.0
READY_WITHIN_S = 20.0

Send = Callable[[str, dict], Awaitable[None]]  # (channel name, message) -> delivered


class TailFull(Exception):
    """Too many viewers of this topic or too many readers in this process; the message is for a person."""


@dataclass
class Viewer:
    channel: str
    partition: int | None = None
    match: Match | None = None

    def wants(self, record: Record) -> bool:
        return (self.partition is None or record.partition == self.partition) and (
            self.match is None or self.match(record)
        )


@dataclass
class Tail:
    cluster: str
    topic: str
    viewers: dict[str, Viewer] = field(default_factory=dict)
    recent: deque[tuple[Record, str]] = field(default_factory=deque)
    polls: int = 0
    stopping: bool = False
    pid: int | None = None
    task: asyncio.Task | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)  # set once the reader stands at the end


class TailHub:
    """The tails of this process, by (cluster, topic)."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.tails: dict[tuple[str, str], Tail] = {}

    def reader_count(self) -> int:
        return sum(1 for t in self.tails.values() if not t.stopping)

    async def join(self, cluster: str, topic: str, viewer: Viewer) -> Tail:
        """Add `viewer` to the topic's tail (starting its reader), and send it what the reader holds."""
        key = (cluster, topic)
        tail = self.tails.get(key)
        if tail is not None and tail.stopping:
            tail = None  # its reader is on its way out; a new one takes over
        if tail is None:
            if self.reader_count() >= settings.TAIL_MAX_READERS:
                raise TailFull(f"{settings.TAIL_MAX_READERS} live tails are running on this server; try again later")
            tail = Tail(cluster, topic, recent=deque(maxlen=settings.TAIL_BUFFER))
            self.tails[key] = tail
            tail.viewers[viewer.channel] = viewer
            tail.task = asyncio.create_task(self._run(tail))
        elif viewer.channel not in tail.viewers:
            if len(tail.viewers) >= settings.TAIL_MAX_VIEWERS:
                raise TailFull(f"{settings.TAIL_MAX_VIEWERS} people are watching this topic's live tail already")
            tail.viewers[viewer.channel] = viewer
        with contextlib.suppress(TimeoutError):  # "live" means: what is produced from now on is shown
            await asyncio.wait_for(tail.ready.wait(), READY_WITHIN_S)
        held = [html for record, html in tail.recent if viewer.wants(record)]
        if held:
            await self.send(viewer.channel, {"type": "tail.rows", "html": "".join(reversed(held)), "count": len(held)})
        return tail

    def leave(self, cluster: str, topic: str, channel: str) -> None:
        """The viewer left or paused; the reader notices an empty tail within one poll and stops."""
        tail = self.tails.get((cluster, topic))
        if tail is not None:
            tail.viewers.pop(channel, None)

    async def _run(self, tail: Tail) -> None:
        supervisor = Supervisor(
            f"live tail of {tail.topic}",
            TAIL_SESSION,
            args=(get_cluster(tail.cluster), tail.topic),
            backoff=Backoff(first=1.0, cap=10.0),
            kind=RECORD_READER,
        )
        call = sync_to_async(supervisor.call, thread_sensitive=False)
        decoder = schema_decoder(tail.cluster)
        try:
            while tail.viewers:
                try:
                    batch = await call(
                        "poll", settings.TAIL_RECORDS_PER_POLL, WAIT_S, answer_within_s=WAIT_S + ANSWER_GRACE_S
                    )
                except WorkerFailed as exc:
                    await self._note(tail, f"the live tail's reader failed ({exc}); retrying")
                    await asyncio.sleep(1.0)
                    continue
                tail.polls += 1
                tail.ready.set()
                tail.pid = supervisor.pid
                if batch.records:
                    rows = await sync_to_async(_render_rows)(tail, batch.records, decoder)
                    tail.recent.extend(rows)
                    await self._deliver(tail, rows)
                if batch.skipped:
                    await self._note(tail, f"{batch.skipped:,} records arrived too fast to show; the tail jumped ahead")
                if batch.error:
                    await self._note(tail, batch.error)
                    await asyncio.sleep(1.0)
        finally:
            tail.ready.set()
            tail.stopping = True  # no await between the last look at the viewers and this
            await sync_to_async(supervisor.close, thread_sensitive=False)()
            tail.pid = None
            if self.tails.get((tail.cluster, tail.topic)) is tail:
                del self.tails[(tail.cluster, tail.topic)]

    async def _deliver(self, tail: Tail, rows: list[tuple[Record, str]]) -> None:
        for viewer in list(tail.viewers.values()):
            mine = [html for record, html in rows if viewer.wants(record)]
            if mine:
                await self._safe_send(
                    viewer.channel, {"type": "tail.rows", "html": "".join(reversed(mine)), "count": len(mine)}
                )

    async def _note(self, tail: Tail, text: str) -> None:
        for channel in list(tail.viewers):
            await self._safe_send(channel, {"type": "tail.note", "text": text})

    async def _safe_send(self, channel: str, message: dict) -> None:
        try:
            await self.send(channel, message)
        except Exception as exc:  # noqa: BLE001 - a full or gone channel must not stop the others' tail
            log.info("live tail: could not send to a viewer: %s: %s", type(exc).__name__, exc)


def _render_rows(tail: Tail, records: tuple[Record, ...], decoder) -> list[tuple[Record, str]]:
    """Each record drawn once, by the same row template as the page, for every viewer."""
    return [
        (r, render_to_string("partials/message_row.html", {"r": row_context(tail.cluster, tail.topic, r, decoder)}))
        for r in records
    ]


_HUB: TailHub | None = None


def hub() -> TailHub:
    """This process's hub, sending through the default channel layer."""
    global _HUB
    if _HUB is None:
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        _HUB = TailHub(layer.send)
    return _HUB


async def stop_all() -> None:
    """For tests: end every tail now."""
    if _HUB is None:
        return
    for tail in list(_HUB.tails.values()):
        tail.viewers.clear()
        if tail.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await tail.task
