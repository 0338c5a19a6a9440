"""What a crashed child died of, the back-off before its restart, and the health the pages show.

Pure: no process is touched here, so each rule is unit-tested on its own.
"""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass, field, replace
from datetime import datetime

HUNG = "hung"  # the cause of a child killed for giving no answer in time
# Lines of a child's stderr that say why it died, most telling first: glibc's assert() (librdkafka's
# "rd_kafka_enq_once_del_source_return: Assertion `eonce->refcnt > 0' failed."), CPython's
# faulthandler ("Fatal Python error: Segmentation fault"), an uncaught Python exception.
_TELLING = (
    re.compile(r"^.*Assertion .* failed.*$", re.MULTILINE),
    re.compile(r"^Fatal Python error: .*$", re.MULTILINE),
    re.compile(r"^\w*(?:Error|Exception)\b.*$", re.MULTILINE),
)
DETAIL_MAX = 300


def cause_of(exitcode: int | None) -> str:
    """A short, label-safe cause: the signal's name (SIGABRT, SIGSEGV, SIGKILL), `exit N`, or `unknown`."""
    if exitcode is None:
        return "unknown"
    if exitcode < 0:
        try:
            return signal.Signals(-exitcode).name
        except ValueError:
            return f"signal {-exitcode}"
    return f"exit {exitcode}"


def detail_of(stderr_tail: str) -> str | None:
    """The line of a child's last stderr output that says why it died (the last such line), if any."""
    for pattern in _TELLING:
        found = pattern.findall(stderr_tail)
        if found:
            return found[-1].strip()[:DETAIL_MAX]
    return None


@dataclass(frozen=True)
class Crash:
    """One death of a child: when, of what, and the line of its stderr that says why."""

    at: datetime
    cause: str
    detail: str | None = None


@dataclass(frozen=True)
class Health:
    """A supervised child's record since its supervisor started: restarts by cause, the last crash."""

    restarts: dict[str, int] = field(default_factory=dict)
    last: Crash | None = None

    @property
    def total(self) -> int:
        return sum(self.restarts.values())

    def with_crash(self, crash: Crash) -> Health:
        restarts = dict(self.restarts)
        restarts[crash.cause] = restarts.get(crash.cause, 0) + 1
        return replace(self, restarts=restarts, last=crash)


@dataclass
class Backoff:
    """Restart delays: `first` seconds, doubling to `cap`; back to `first` after a child lived `healthy_s`."""

    first: float = 1.0
    cap: float = 30.0
    healthy_s: float = 60.0
    _next: float = 0.0

    def after_crash(self, uptime_s: float) -> float:
        """The delay before the next start, for a child that crashed after `uptime_s` seconds of life."""
        if self._next <= 0 or uptime_s >= self.healthy_s:
            self._next = self.first
        delay = self._next
        self._next = min(self.cap, self._next * 2)
        return delay
