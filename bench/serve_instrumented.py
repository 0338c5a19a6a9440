"""`manage.py serve` with bench-only instrumentation, for bench_fanout.py. No product code is
changed: this wraps a few functions at start-up and writes one JSON line per event to the file
named by BENCH_EVENTS (t = time.monotonic(), comparable across processes on Linux; cpu =
time.process_time() of the server process):

  cycle_end   a poll cycle's collect/store/history finished (Poller.cycle returned)
  rendered    Publisher.changed finished: how many times each fragment was rendered by the
              publisher in this cycle, and which fragments changed (so are sent)
  published   Poller.publish finished (group_send to the channel layer done)
  all_sent    every connected websocket consumer has sent a fragment (LiveConsumer.live_fragment)

Renders done for a websocket's first message on connect are counted apart ("connect_renders").

Usage: BENCH_EVENTS=/tmp/events.jsonl .venv/bin/python bench/serve_instrumented.py --port 8123
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from dashboard.live import consumers, registry  # noqa: E402
from dashboard.live import publisher as live_publisher  # noqa: E402
from dashboard.poller import loop as poller  # noqa: E402

_out = Path(os.environ["BENCH_EVENTS"]).open("a", buffering=1)  # noqa: SIM115 - open for the process's life
_lock = threading.Lock()
_local = threading.local()
_publisher_renders: Counter = Counter()
_connect_renders: Counter = Counter()
_connected = 0
_sent: Counter = Counter()
FRAGMENT_ID = re.compile(r'id="([^"]+)"')


def emit(event: str, **fields) -> None:
    fields.update(event=event, t=time.monotonic(), cpu=time.process_time())
    with _lock:
        _out.write(json.dumps(fields) + "\n")


def fragment_id(html: str) -> str:
    found = FRAGMENT_ID.search(html[:300])
    return found.group(1) if found else "?"


_render = registry.render


def render(spec: registry.FragmentSpec) -> str:
    (_publisher_renders if getattr(_local, "publishing", False) else _connect_renders)[spec.name] += 1
    return _render(spec)


# Publisher.changed and LiveConsumer both look render up in their module at call time
live_publisher.render = consumers.render = render

_changed = live_publisher.Publisher.changed


def changed(self: live_publisher.Publisher) -> list[tuple[str, str]]:
    before = Counter(_publisher_renders)
    _local.publishing = True
    try:
        out = _changed(self)
    finally:
        _local.publishing = False
    emit(
        "rendered",
        renders=dict(_publisher_renders - before),
        renders_total=self.rendered,
        connect_renders=dict(_connect_renders),
        changed={fragment_id(html): len(html.encode()) for _, html in out},
    )
    return out


live_publisher.Publisher.changed = changed

_cycle = poller.Poller.cycle


def cycle(self: poller.Poller):
    started = time.monotonic()
    snapshot = _cycle(self)
    emit("cycle_end", started=started, groups=len(snapshot.groups), collect_ms=round(snapshot.duration_ms, 1))
    return snapshot


poller.Poller.cycle = cycle

_publish = poller.Poller.publish


async def publish(self: poller.Poller) -> int:
    sent = await _publish(self)
    emit("published", fragments=sent, consumers=_connected)
    return sent


poller.Poller.publish = publish

_connect = consumers.LiveConsumer.connect
_disconnect = consumers.LiveConsumer.disconnect
_live_fragment = consumers.LiveConsumer.live_fragment


async def connect(self: consumers.LiveConsumer) -> None:
    global _connected
    await _connect(self)
    if hasattr(self, "_keepalive"):  # accepted
        self._bench_counted = True
        _connected += 1


async def disconnect(self: consumers.LiveConsumer, code: int) -> None:
    global _connected
    if getattr(self, "_bench_counted", False):
        self._bench_counted = False
        _connected -= 1
    await _disconnect(self, code)


async def live_fragment(self: consumers.LiveConsumer, event: dict) -> None:
    await _live_fragment(self, event)
    fid = fragment_id(event["html"])
    _sent[fid] += 1
    if _sent[fid] >= _connected:
        emit("all_sent", fragment=fid, consumers=_connected)
        _sent[fid] = 0


consumers.LiveConsumer.connect = connect
consumers.LiveConsumer.disconnect = disconnect
consumers.LiveConsumer.live_fragment = live_fragment

if __name__ == "__main__":
    call_command("serve", *sys.argv[1:])
