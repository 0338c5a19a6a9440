"""The cache folder of the Java programs the tests build with Maven (Spring, Connect, Streams), and
the one lock their builds take: pytest-xdist workers and concurrent sessions share it and ~/.m2, and
two Maven runs filling one local repository can leave half-written jars."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def cache_root() -> Path:
    """~/.cache/kafka-dashboard, outside the clone so clean clones reuse it (KAFKA_DASHBOARD_CACHE moves it)."""
    return Path(os.environ.get("KAFKA_DASHBOARD_CACHE", Path.home() / ".cache" / "kafka-dashboard"))


@contextmanager
def build_lock() -> Iterator[None]:
    """Held while one program is resolved or compiled; check for a finished build again inside it."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
