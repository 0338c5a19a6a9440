"""/metrics gzip-compressed for scrapers that ask, at a cost per cycle rather than per scrape.

Why: at 50,000 groups the default exposition is about 42 MB a scrape. Prometheus asks for gzip
(Accept-Encoding: gzip). A gzip stream may be several members back to back, read as the
concatenation of their contents (RFC 1952, 2.2; Go's gzip reader, which Prometheus uses, curl and
Python's gzip do), so each cluster's per-cycle lines of a family are compressed once per stored
cycle and process, and only the few lines written per scrape are compressed on each scrape.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Hashable, Sequence

from django.http import HttpRequest

from dashboard.metrics_lines import Chunks
from dashboard.state import store

CycleText = Callable[[store.ClusterState], dict[str, Chunks]]  # metrics.cycle_text

LEVEL = 1  # the exposition's repeated names and labels compress about tenfold even at the fastest level
# Below this much per-cycle text the whole exposition is compressed on each scrape, in one member:
# a member per family would cost more than it saves.
WHOLE_BELOW = 1 << 20
PRECOMPRESS_WHILE_ASKED_S = 600.0
_asked_at: float | None = None  # when this process last sent /metrics compressed (time.monotonic())


def wants_gzip(request: HttpRequest) -> bool:
    """The request accepts gzip: Accept-Encoding names it (or x-gzip) with no q=0."""
    for item in request.headers.get("Accept-Encoding", "").split(","):
        coding, *params = (p.strip() for p in item.split(";"))
        if coding.lower() not in ("gzip", "x-gzip"):
            continue
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


def render_gzip(parts: Sequence[bytes | tuple[store.ClusterState, str]], cycle_text: CycleText, key: Hashable) -> bytes:
    """metrics.segments()'s text as one gzip stream: of members, the per-cycle ones kept per cycle
    (`key`: what else the per-cycle text depends on, the partition-series limit); of one member
    when the text is small."""
    global _asked_at
    _asked_at = time.monotonic()
    states = {id(p[0]): p[0] for p in parts if not isinstance(p, bytes)}  # each cluster once, not per family
    kept = {sid: cycle_members(state, cycle_text, key) for sid, state in states.items()}
    if sum(raw for _, raw in kept.values()) < WHOLE_BELOW:
        text = [p if isinstance(p, bytes) else b"".join(cycle_text(p[0]).get(p[1], ())) for p in parts]
        return gzip.compress(b"".join(text), LEVEL, mtime=0)
    out: list[bytes] = []
    pending: list[bytes] = []  # this scrape's bytes since the last per-cycle member
    for part in parts:
        if isinstance(part, bytes):
            pending.append(part)
            continue
        member = kept[id(part[0])][0].get(part[1])
        if member is None:
            continue
        if pending:
            out.append(gzip.compress(b"".join(pending), LEVEL, mtime=0))
            pending = []
        out.append(member)
    out.append(gzip.compress(b"".join(pending), LEVEL, mtime=0))
    return b"".join(out)


def cycle_members(state: store.ClusterState, cycle_text: CycleText, key: Hashable) -> tuple[dict[str, bytes], int]:
    """A cluster's per-cycle lines of each family as one gzip member each, and the bytes they hold:
    once per cycle and process."""
    if state.snapshot is None:
        return {}, 0

    def build(s: store.ClusterState) -> tuple[dict[str, bytes], int]:
        text = {name: b"".join(chunks) for name, chunks in cycle_text(s).items()}
        raw = sum(map(len, text.values()))
        if raw < WHOLE_BELOW:
            return {}, raw  # render_gzip compresses the whole text per scrape
        return {name: gzip.compress(t, LEVEL, mtime=0) for name, t in text.items()}, raw

    return store.derived(state, ("metrics-gzip", key), build)


def asked_recently() -> bool:
    """This process sent /metrics compressed within PRECOMPRESS_WHILE_ASKED_S: worth compressing ahead."""
    return _asked_at is not None and time.monotonic() - _asked_at < PRECOMPRESS_WHILE_ASKED_S
