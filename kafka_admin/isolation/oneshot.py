"""A page's broker work in a child process: one per call (run_in_child), or a small pool (WorkerPool).

For the actions of a page (offset reset: read the group, plan, apply) that call librdkafka in ways
that have crashed the process (list_consumer_group_offsets segfaults on a fresh broker). A crash
costs the one request (it answers "the broker client crashed") instead of the server. A fresh child
per call costs its start (an interpreter importing confluent-kafka, a few hundred ms): right for an
offset reset, used by a person, rarely. The message browser's reads are many and short: a pool of
long-lived children serves them, each restarted with back-off after a crash like the collector's.
"""

from __future__ import annotations

import queue
from typing import Any

from kafka_admin.isolation.counts import BROKER_ACTION, RECORD_READER
from kafka_admin.isolation.crash import Backoff
from kafka_admin.isolation.supervisor import OperationFailed, Supervisor, WorkerFailed
from kafka_admin.isolation.worker import load

CALL_SESSION = "kafka_admin.isolation.oneshot:CallSession"
GRACE_S = 5.0

__all__ = ["CallSession", "WorkerFailed", "WorkerPool", "run_in_child"]


class CallSession:
    """The child's session: calls one kafka_admin function by its "module:name" path."""

    def call(self, path: str, *args: Any, **kwargs: Any) -> Any:
        if not path.startswith("kafka_admin."):
            raise ValueError(f"not a kafka_admin function: {path}")
        return load(path)(*args, **kwargs)


def run_in_child(path: str, *args: Any, role: str, within_s: float, **kwargs: Any) -> Any:
    """`path(*args, **kwargs)` in a new child; its exception re-raised here when it could be sent back.

    WorkerFailed when the child died or gave no answer within `within_s` (+ GRACE_S; then killed)."""
    supervisor = Supervisor(role, CALL_SESSION, kind=BROKER_ACTION)
    try:
        return _call(supervisor, path, args, kwargs, within_s)
    finally:
        supervisor.close()


def _call(supervisor: Supervisor, path: str, args: tuple, kwargs: dict[str, Any], within_s: float) -> Any:
    try:
        return supervisor.call("call", path, *args, answer_within_s=within_s + GRACE_S, **kwargs)
    except OperationFailed as exc:
        if exc.error is not None:
            raise exc.error from None
        raise


class WorkerPool:
    """`size` long-lived children, each started on first use; a call waits for a free one."""

    def __init__(self, role: str, size: int = 2, kind: str = RECORD_READER) -> None:
        self._free: queue.Queue[Supervisor] = queue.Queue()
        self._all = [
            Supervisor(f"{role} #{i + 1}", CALL_SESSION, backoff=Backoff(first=0.5, cap=5.0), kind=kind)
            for i in range(size)
        ]
        for supervisor in self._all:
            self._free.put(supervisor)

    @property
    def pids(self) -> list[int]:
        """The running children's process ids."""
        return [pid for s in self._all if (pid := s.pid) is not None]

    def call(self, path: str, *args: Any, within_s: float, **kwargs: Any) -> Any:
        """Like run_in_child, in the next free child of the pool (WorkerFailed: it died, or is restarting)."""
        supervisor = self._free.get()
        try:
            return _call(supervisor, path, args, kwargs, within_s)
        finally:
            self._free.put(supervisor)
