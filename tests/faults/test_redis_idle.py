"""The Redis channel layer, as configured, survives a websocket with nothing to receive for a while.

Found by bench/bench_load.py: with redis-py 8 (default socket_timeout 5 s) and channels_redis
(BZPOPMIN blocks 5 s), a consumer that received nothing for 5 s died with "Timeout reading from
...", closing its websocket (1011). The settings give the layer a longer socket timeout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults.test_redis import REDIS_SERVER, RedisProcess
from tests.kafka_support import free_port

REPO = Path(__file__).resolve().parents[2]

# Runs in a child process: the settings read REDIS_URL at import time.
IDLE_RECEIVE = """
import asyncio, django
django.setup()
from channels.layers import get_channel_layer

async def main():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    try:
        await asyncio.wait_for(layer.receive(channel), 12)  # nothing arrives: only our own timeout may end it
    except asyncio.TimeoutError:
        pass
    await layer.send(channel, {"type": "still.alive"})
    print((await asyncio.wait_for(layer.receive(channel), 5))["type"])

asyncio.run(main())
"""


def test_idle_receive_outlives_the_blocking_pop(tmp_path: Path) -> None:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run installs it)")
    redis = RedisProcess(free_port(), tmp_path)
    redis.start()
    try:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
            "DASHBOARD_VAR_DIR": str(tmp_path),
        }
        out = subprocess.run(
            [sys.executable, "-c", IDLE_RECEIVE], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
        )
    finally:
        redis.stop()
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "still.alive"
