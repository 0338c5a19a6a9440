"""Sessions for the supervisor's tests: they run in a spawned child and die on request, as librdkafka can."""

from __future__ import annotations

import ctypes
import os
import sys
import time


class DyingSession:
    """Answers, or dies the ways a librdkafka client has killed the dashboard."""

    def __init__(self, tag: str = "") -> None:
        self.tag = tag
        self.calls = 0

    def echo(self, value: object) -> tuple[str, int, object]:
        self.calls += 1
        return self.tag, os.getpid(), value

    def assert_and_abort(self) -> None:
        """What glibc's assert() does: the message on stderr, then abort()."""
        sys.stderr.write(
            "python3: rdkafka_queue.h:1132: rd_kafka_enq_once_del_source_return: "
            "Assertion `eonce->refcnt > 0' failed.\n"
        )
        sys.stderr.flush()
        os.abort()

    def segfault(self) -> None:
        ctypes.string_at(0)  # reads address 0: SIGSEGV

    def hang(self, seconds: float) -> None:
        time.sleep(seconds)

    def fail(self) -> None:
        raise ValueError("no such thing")

    def unpicklable(self) -> object:
        return lambda: None
