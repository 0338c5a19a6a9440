"""The live tail's websocket: /ws/tail/<cluster>/<topic>/?partition=&q=&in=

Login as for every live page (LiveConsumer's checks, repeated while the socket is open). The page's
script sends {"action": "pause"} when its tab is hidden and {"action": "resume"} when it is shown: a
paused viewer is no viewer, and the shared reader stops with the last one (dashboard.monitor.tail).
To the page: {"rows": html, "count": n} (drawn and escaped by the row template), {"note": text},
{"state": "live" | "paused"}, {"error": text} before a close.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import parse_qsl

from django.conf import settings

from dashboard.clusters import cluster_names
from dashboard.live.consumers import (
    CLOSE_BAD_REQUEST,
    CLOSE_TRY_AGAIN,
    CLOSE_UNAUTHENTICATED,
    RECHECK_S,
    LiveConsumer,
)
from dashboard.monitor.queries import BrowseQuery
from dashboard.monitor.tail import TailFull, Viewer, hub
from dashboard.params import InvalidPage


class TailConsumer(LiveConsumer):
    cluster = topic = ""
    viewer: Viewer | None = None
    active = False

    async def connect(self) -> None:
        user = self.scope.get("user")
        authenticated = user is not None and user.is_authenticated
        if not authenticated and not settings.ALLOW_ANONYMOUS_READ:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user_id = user.pk if authenticated else None
        kwargs = self.scope["url_route"]["kwargs"]
        self.cluster, self.topic = kwargs["cluster"], kwargs["topic"]
        query = dict(parse_qsl(self.scope.get("query_string", b"").decode("utf-8", "replace")))
        try:
            if self.cluster not in cluster_names():
                raise InvalidPage("unknown cluster")
            browse = BrowseQuery.parse({k: v for k, v in query.items() if k in ("partition", "q", "in")})
        except InvalidPage:
            await self.close(code=CLOSE_BAD_REQUEST)
            return
        self.viewer = Viewer(self.channel_name, browse.partition, browse.match)
        await self.accept()
        self._watch = asyncio.create_task(self._watch_login())
        await self._resume()

    async def _resume(self) -> None:
        if self.active or self.viewer is None or await self._end_if_not_allowed():
            return
        try:
            await hub().join(self.cluster, self.topic, self.viewer)
        except TailFull as full:
            await self.send(text_data=json.dumps({"error": str(full)}))
            await self.close(code=CLOSE_TRY_AGAIN)
            return
        self.active = True
        await self.send(text_data=json.dumps({"state": "live"}))

    def _pause(self) -> None:
        if self.active:
            hub().leave(self.cluster, self.topic, self.channel_name)
            self.active = False

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            action = json.loads(text_data or "{}").get("action")
        except (ValueError, AttributeError):
            return
        if action == "pause":
            self._pause()
            await self.send(text_data=json.dumps({"state": "paused"}))
        elif action == "resume":
            await self._resume()

    async def disconnect(self, code: int) -> None:
        self._pause()
        await super().disconnect(code)

    async def tail_rows(self, event: dict) -> None:
        if self.active and not await self._stale_login():
            await self.send(text_data=json.dumps({"rows": event["html"], "count": event["count"]}))

    async def tail_note(self, event: dict) -> None:
        if self.active:
            await self.send(text_data=json.dumps({"note": event["text"]}))

    async def _stale_login(self) -> bool:
        return time.monotonic() - self.checked_at >= RECHECK_S and await self._end_if_not_allowed()
