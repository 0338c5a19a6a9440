"""The websocket consumer: one per open page; it joins the groups of the page's fragments.

On connect: check the login (AuthMiddlewareStack) and the page's parameters, join the fragment
groups, accept, send the current fragments. Afterwards the publisher pushes changed fragments.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import parse_qsl

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from dashboard.live.registry import FragmentSpec, page_fragments, render
from dashboard.live.subscriptions import subscribe
from dashboard.params import InvalidPage

CLOSE_UNAUTHENTICATED = 4401
CLOSE_BAD_REQUEST = 4400
CLOSE_TRY_AGAIN = 1013  # RFC 6455: try again later

log = logging.getLogger(__name__)
# An open page renews its subscriptions well within their 120 s expiry.
REFRESH_EVERY_S = 45


class LiveConsumer(AsyncWebsocketConsumer):
    specs: list[FragmentSpec]

    async def connect(self) -> None:
        user = self.scope.get("user")
        if not (user is not None and user.is_authenticated) and not settings.ALLOW_ANONYMOUS_READ:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        query = dict(parse_qsl(self.scope.get("query_string", b"").decode("utf-8", "replace")))
        try:
            self.specs = page_fragments(self.scope["url_route"]["kwargs"]["page"], query)
        except InvalidPage:
            await self.close(code=CLOSE_BAD_REQUEST)
            return
        try:
            for spec in self.specs:
                await self.channel_layer.group_add(spec.group, self.channel_name)
        except Exception as exc:  # noqa: BLE001 - the channel layer (Redis) is down or just came back
            log.warning("live updates unavailable, websocket refused: %s: %s", type(exc).__name__, exc)
            await self.close(code=CLOSE_TRY_AGAIN)  # the page's websocket reconnects by itself
            return
        await self.accept()
        await sync_to_async(subscribe)(self.specs)
        html = await sync_to_async(self._render_all)()
        await self.send(text_data=html)
        self._keepalive = asyncio.create_task(self._keep_subscribed())

    def _render_all(self) -> str:
        return "\n".join(render(spec) for spec in self.specs)

    async def _keep_subscribed(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_EVERY_S)
            await sync_to_async(subscribe)(self.specs)

    async def disconnect(self, code: int) -> None:
        task = getattr(self, "_keepalive", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            for spec in getattr(self, "specs", []):
                await self.channel_layer.group_discard(spec.group, self.channel_name)
        except Exception as exc:  # noqa: BLE001 - the layer is down: its group entries expire by themselves
            log.info("leaving live groups failed: %s: %s", type(exc).__name__, exc)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Pages send nothing meaningful; ignore anything a client sends."""

    async def live_fragment(self, event: dict) -> None:
        await self.send(text_data=event["html"])
