"""Waiting for a condition, never for a fixed time (tests/faults/support.py has the variant that
also rides out a server in the middle of a restart)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(probe: Callable[[], T | None], timeout: float = 30, what: str = "condition", pause: float = 0.2) -> T:
    """The first truthy value of probe(), polled (pauses growing to 1 s); else a TimeoutError
    naming `what` and the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not so after {timeout:.0f} s (last answer {value!r})")
        time.sleep(pause)
        pause = min(1.0, pause * 1.5)
