"""The websocket consumer: one per open page; it joins the groups of the page's fragments.

On connect: check the login (AuthMiddlewareStack) and the page's parameters, join the fragment
groups, accept, send the current fragments. Afterwards the publisher pushes changed fragments.

The login is checked again while the socket is open: before an update (at most once a second, so
the fragments of one poll cycle share a check) and once per poll interval without updates. A socket
whose session ended (logout, expiry, password change) or whose user was deactivated is closed with
1008 (policy violation) and sent nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from importlib import import_module
from urllib.parse import parse_qsl

from asgiref.sync import sync_to_async
from channels.auth import get_user
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from dashboard.live.registry import FragmentSpec, page_fragments, render
from dashboard.live.subscriptions import subscribe
from dashboard.params import InvalidPage

CLOSE_UNAUTHENTICATED = 4401
CLOSE_BAD_REQUEST = 4400
CLOSE_TRY_AGAIN = 1013  # RFC 6455: try again later
CLOSE_POLICY = 1008  # RFC 6455: policy violation (the login behind the socket ended)
RECHECK_S = 1.0  # updates within this long after a passing check share it (one poll cycle's burst)

log = logging.getLogger(__name__)
# An open page renews its subscriptions well within their 120 s expiry.
REFRESH_EVERY_S = 45


class LiveConsumer(AsyncWebsocketConsumer):
    specs: list[FragmentSpec]
    user_id: object = None  # who opened the socket (None: an anonymous reader)
    checked_at = float("-inf")  # the first update always checks: the login may have ended since connect
    ended = False

    async def connect(self) -> None:
        user = self.scope.get("user")
        authenticated = user is not None and user.is_authenticated
        if not authenticated and not settings.ALLOW_ANONYMOUS_READ:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user_id = user.pk if authenticated else None
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
        self._watch = asyncio.create_task(self._watch_login())

    def _render_all(self) -> str:
        return "\n".join(render(spec) for spec in self.specs)

    async def _keep_subscribed(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_EVERY_S)
            await sync_to_async(subscribe)(self.specs)

    async def still_allowed(self) -> bool:
        """Read the session again from its store (not the copy loaded at connect): it is gone after a
        logout or expiry, and Channels' get_user refuses an inactive user or a changed password."""
        self.checked_at = time.monotonic()
        if self.user_id is None:
            return settings.ALLOW_ANONYMOUS_READ
        key = getattr(self.scope.get("session"), "session_key", None)
        if not key:
            return False
        store = import_module(settings.SESSION_ENGINE).SessionStore(key)
        user = await get_user({"session": store})
        return user.is_authenticated and user.is_active and user.pk == self.user_id

    async def _end_if_not_allowed(self) -> bool:
        """True (and the socket closed) when the login behind it no longer holds."""
        if self.ended:
            return True
        if await self.still_allowed():
            return False
        self.ended = True
        log.info("live websocket closed: its session ended or its user may no longer read")
        await self.close(code=CLOSE_POLICY)
        return True

    async def _watch_login(self) -> None:
        """Sockets that get no updates are checked too, once per poll interval."""
        while not self.ended:
            await asyncio.sleep(settings.POLL_INTERVAL_S)
            if time.monotonic() - self.checked_at >= settings.POLL_INTERVAL_S:
                await self._end_if_not_allowed()

    async def disconnect(self, code: int) -> None:
        for name in ("_keepalive", "_watch"):
            task = getattr(self, name, None)
            if task is None or task is asyncio.current_task():
                continue
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
        if self.ended or (time.monotonic() - self.checked_at >= RECHECK_S and await self._end_if_not_allowed()):
            return
        await self.send(text_data=event["html"])
