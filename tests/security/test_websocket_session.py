"""An open live websocket stops when its login does: logout, deactivation, a changed password. The
next update is not delivered; the socket closes with 1008 (policy violation), and an idle one closes
within a poll interval."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from dashboard.clusters import default_cluster
from dashboard.live.registry import page_fragments
from dashboard.state import store
from tests.factories import snapshot

pytestmark = pytest.mark.django_db(transaction=True)

CLOSE_POLICY = 1008  # RFC 6455 policy violation
LEAK = '<div id="status" hx-swap-oob="true">an update after the login ended</div>'


@pytest.fixture
def viewer() -> tuple[Client, object]:
    store.save(snapshot(at=datetime.now(UTC), cluster=default_cluster().name))
    user = get_user_model().objects.create_user("watcher", password="pw-Watcher-123")
    user.groups.add(Group.objects.get(name="viewers"))
    client = Client()
    client.force_login(user)
    return client, user


def open_and_push(client: Client, end_login: Callable[[], object] | None, wait_s: float = 0.0) -> list[dict]:
    """Open the overview's websocket with the client's session, end the login, push one update;
    returns what the socket sent after the initial fragments."""
    from config.asgi import application

    cluster = default_cluster().name
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    headers = [(b"host", b"localhost"), (b"origin", b"http://localhost"), (b"cookie", cookie)]
    group = page_fragments("overview", {"cluster": cluster})[0].group

    async def go() -> list[dict]:
        comm = WebsocketCommunicator(application, f"/ws/live/overview/?cluster={cluster}", headers)
        connected, _ = await comm.connect(timeout=5)
        assert connected
        await comm.receive_from(timeout=5)  # the current fragments, sent on connect
        if end_login is not None:
            await asyncio.to_thread(end_login)
        if wait_s:
            await asyncio.sleep(wait_s)
        else:
            await get_channel_layer().group_send(group, {"type": "live.fragment", "html": LEAK})
        out = []
        while not await comm.receive_nothing(timeout=1.0 if not out else 0.3):
            out.append(await comm.receive_output(timeout=1))
        await comm.disconnect()
        return out

    return asyncio.run(go())


def closed_without_leak(sent: list[dict]) -> bool:
    return sent == [{"type": "websocket.close", "code": CLOSE_POLICY}]


def test_a_live_login_keeps_receiving(viewer):
    client, _ = viewer
    assert open_and_push(client, None) == [{"type": "websocket.send", "text": LEAK}]


def test_logout_closes_the_socket_before_the_next_update(viewer):
    client, _ = viewer
    assert closed_without_leak(open_and_push(client, lambda: client.post("/accounts/logout/")))


def test_deactivating_the_user_closes_the_socket(viewer):
    client, user = viewer

    def deactivate() -> None:
        user.is_active = False
        user.save(update_fields=["is_active"])

    assert closed_without_leak(open_and_push(client, deactivate))


def test_a_changed_password_closes_the_socket(viewer):
    client, user = viewer

    def change_password() -> None:  # as an administrator does: other sessions end
        user.set_password("pw-Another-456")
        user.save()

    assert closed_without_leak(open_and_push(client, change_password))


def test_an_idle_socket_closes_within_a_poll_interval(viewer, settings):
    settings.POLL_INTERVAL_S = 0.3
    client, _ = viewer
    assert closed_without_leak(open_and_push(client, lambda: client.post("/accounts/logout/"), wait_s=1.0))
