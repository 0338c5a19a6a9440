"""A websocket that cannot join its live groups (the channel layer is down) is refused with 1013
("try again later"), which the page's websocket answers by reconnecting; no 500, no traceback."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import InMemoryChannelLayer, channel_layers
from channels.testing import WebsocketCommunicator

pytestmark = pytest.mark.django_db(transaction=True)


class DownLayer(InMemoryChannelLayer):
    """Channels' in-memory layer whose group calls fail as channels_redis's do with Redis gone."""

    async def group_add(self, group: str, channel: str) -> None:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    async def group_discard(self, group: str, channel: str) -> None:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_layer_down_refuses_with_try_again(settings, capfd, caplog):
    settings.ALLOW_ANONYMOUS_READ = True
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"{__name__}.DownLayer"}}
    channel_layers.backends.clear()
    from config.asgi import application

    async def scenario():
        comm = WebsocketCommunicator(
            application,
            "/ws/live/groups/?cluster=local",
            headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")],
        )
        connected, code = await comm.connect(timeout=5)
        await comm.wait(timeout=1)
        return connected, code

    try:
        connected, code = asyncio.run(scenario())
    finally:
        channel_layers.backends.clear()
    assert (connected, code) == (False, 1013)
    # Where the line lands depends on the logging setup the session ended up with: stderr
    # (config/settings.py LOGGING) or pytest's capture handler.
    logged = capfd.readouterr().err + caplog.text
    assert "live updates unavailable, websocket refused: ConnectionError" in logged
    assert "Traceback" not in logged
