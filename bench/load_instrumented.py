"""`manage.py serve` or `manage.py poll_kafka` with bench-only counters, for bench_load.py.

No product code is changed: this wraps two functions at start-up and writes one JSON line per
event to the file named by BENCH_EVENTS (t = time.monotonic(), comparable across processes on
Linux). The load generator compares what was sent to each channel-layer group with what each of
its websockets received, so a dropped live update shows up per client.

  publish   one poll cycle's group_send calls: t0 (before the first send), t1 (after the last),
            sends = [[group, sha1 of the html], ...], ok (False: the channel layer failed)
  drops     channels over capacity seen by this process's channel layer so far (in-memory layer:
            ChannelFull swallowed by group_send; Redis layer: its "over capacity" log lines)

Usage: BENCH_EVENTS=/tmp/e.jsonl .venv/bin/python bench/load_instrumented.py serve --port 8123
       BENCH_EVENTS=/tmp/e.jsonl .venv/bin/python bench/load_instrumented.py poll_kafka
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from channels.exceptions import ChannelFull  # noqa: E402
from channels.layers import InMemoryChannelLayer  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from dashboard.live.publisher import Publisher  # noqa: E402
from dashboard.poller import loop as poller  # noqa: E402

_out = Path(os.environ["BENCH_EVENTS"]).open("a", buffering=1)  # noqa: SIM115 - open for the process's life
_lock = threading.Lock()
_drops = 0
_local = threading.local()


def emit(event: str, **fields: object) -> None:
    fields.update(event=event, t=time.monotonic())
    with _lock:
        _out.write(json.dumps(fields) + "\n")


def count_drops(n: int) -> None:
    global _drops
    with _lock:
        _drops += n
    emit("drops", total=_drops)


_changed = Publisher.changed


def changed(self: Publisher) -> list[tuple[str, str]]:
    out = _changed(self)
    # Remembered for the publish() that called us (changed runs in a worker thread; publish awaits it).
    self._bench_sends = [[group, hashlib.sha1(html.encode(), usedforsecurity=False).hexdigest()] for group, html in out]
    return out


Publisher.changed = changed

_publish = poller.Poller.publish


async def publish(self: poller.Poller) -> int:
    self.publisher._bench_sends = []
    sent_before = time.monotonic()
    sent = await _publish(self)
    sends = self.publisher._bench_sends
    # t0 is an upper bound of the first group_send's start: rendering happens between sent_before and it.
    emit("publish", t0=sent_before, t1=time.monotonic(), sends=sends, ok=sent == len(sends))
    return sent


poller.Poller.publish = publish

_inmemory_send = InMemoryChannelLayer.send


async def inmemory_send(self: InMemoryChannelLayer, channel: str, message: dict) -> None:
    try:
        await _inmemory_send(self, channel, message)
    except ChannelFull:
        count_drops(1)
        raise


InMemoryChannelLayer.send = inmemory_send

OVER_CAPACITY = re.compile(r"^(\d+) of \d+ channels over capacity")


class RedisDrops(logging.Handler):
    """channels_redis logs (INFO) how many channels of a group_send were over capacity."""

    def emit(self, record: logging.LogRecord) -> None:
        found = OVER_CAPACITY.match(record.getMessage())
        if found:
            count_drops(int(found.group(1)))


redis_logger = logging.getLogger("channels_redis.core")
redis_logger.setLevel(logging.INFO)
redis_logger.addHandler(RedisDrops())
layer = settings.CHANNEL_LAYERS["default"]
emit("start", pid=os.getpid(), command=sys.argv[1:], layer=layer["BACKEND"], capacity=layer["CONFIG"].get("capacity"))


def trace_memory(path: str, first_s: float, every_s: float) -> None:
    """BENCH_TRACEMALLOC=<file>: where the memory that stays goes. A snapshot after `first_s`, then
    every `every_s` the 25 source lines whose allocations grew most since that first one (traced with
    one frame: tracemalloc slows the process, so a run with it is for this question only)."""
    import tracemalloc

    tracemalloc.start(1)
    time.sleep(first_s)
    base = tracemalloc.take_snapshot()
    while True:
        time.sleep(every_s)
        grown = tracemalloc.take_snapshot().compare_to(base, "lineno")[:25]
        with Path(path).open("a") as out:
            out.write(f"--- t={time.monotonic():.0f} traced={tracemalloc.get_traced_memory()[0] / 1e6:.1f} MB\n")
            out.writelines(f"{stat}\n" for stat in grown)


if os.environ.get("BENCH_TRACEMALLOC"):
    threading.Thread(
        target=trace_memory,
        args=(os.environ["BENCH_TRACEMALLOC"], float(os.environ.get("BENCH_TRACEMALLOC_FIRST_S", "120")), 60.0),
        daemon=True,
    ).start()

if __name__ == "__main__":
    call_command(sys.argv[1], *sys.argv[2:])
