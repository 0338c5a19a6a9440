"""The parent's side of a supervised child: start it (spawn), call it with a timeout, restart it after a crash.

A call that finds its child dead (an exit code, a signal) or silent past its timeout (then killed)
raises WorkerFailed after the crash is recorded: logged once with its cause (the signal's name and
the line of the child's stderr that says why, e.g. librdkafka's assertion), counted by cause in
`health`, and a restart scheduled with back-off (crash.Backoff). The next call after the back-off
starts a new child; a call during it raises WorkerUnavailable at once. Nothing here blocks longer
than the timeout a caller gives, and nothing here imports librdkafka: the parent never loads the
session's module.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from kafka_admin.isolation import worker
from kafka_admin.isolation.counts import COLLECTOR, WORKER_CRASHES
from kafka_admin.isolation.crash import HUNG, Backoff, Crash, Health, cause_of, detail_of

log = logging.getLogger(__name__)

# Spawn, never fork: the server has threads (daphne's, librdkafka's), and a forked child would inherit
# their locks in whatever state they were. Spawn starts a fresh interpreter (fork + exec at once).
SPAWN = multiprocessing.get_context("spawn")
TAIL_BYTES = 8192  # the end of a child's stderr kept for the cause of its death
START_TIMEOUT_S = 60.0  # a fresh interpreter importing librdkafka, on a loaded machine


class WorkerFailed(Exception):
    """No answer: the child died or hung (recorded, restart scheduled), or is waiting for its restart."""


class WorkerUnavailable(WorkerFailed):
    """The child crashed lately and is not restarted yet (back-off)."""


class OperationFailed(Exception):
    """The operation raised in the child; the child lives on. The text is "ExcType: message";
    `error` is the exception itself when it could be sent back."""

    def __init__(self, text: str, error: BaseException | None = None) -> None:
        super().__init__(text)
        self.error = error


class StderrTail(threading.Thread):
    """Reads a child's stderr pipe: forwards every byte to ours, keeps the last TAIL_BYTES."""

    def __init__(self, pipe: Connection, forward: bool) -> None:
        super().__init__(name="child-stderr", daemon=True)
        self.pipe, self.forward = pipe, forward
        self._tail = bytearray()

    def run(self) -> None:
        fd = self.pipe.fileno()
        try:
            while chunk := os.read(fd, 4096):
                if self.forward:
                    with contextlib.suppress(OSError):
                        os.write(sys.stderr.fileno(), chunk)
                self._tail += chunk
                del self._tail[:-TAIL_BYTES]
        except OSError:
            pass
        finally:
            self.pipe.close()

    def text(self) -> str:
        return self._tail.decode("utf-8", "replace")


@dataclass
class _Child:
    process: BaseProcess
    conn: Connection
    stderr: StderrTail
    started: float


class Supervisor:
    """One supervised child running `session_path(*args)` (see worker.py); calls are serialized."""

    def __init__(
        self,
        role: str,
        session_path: str,
        args: tuple = (),
        backoff: Backoff | None = None,
        forward_stderr: bool = True,
        kind: str = COLLECTOR,
    ) -> None:
        self.role = role  # for the log: "collector of cluster X"
        self.session_path, self.args = session_path, args
        self.backoff = backoff or Backoff()
        self.forward_stderr = forward_stderr
        self.kind = kind  # for /metrics (counts.WORKER_CRASHES)
        self.health = Health()
        self._child: _Child | None = None
        self._restart_at = 0.0
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        """The running child's process id (None between a crash and the restart)."""
        return self._child.process.pid if self._child is not None else None

    def call(self, operation: str, *args: Any, answer_within_s: float, **kwargs: Any) -> Any:
        """`session.operation(*args, **kwargs)` in the child; WorkerFailed when it dies or hangs."""
        with self._lock:
            child = self._running()
            try:
                child.conn.send((operation, args, kwargs))
                if not child.conn.poll(answer_within_s):
                    raise self._crashed(child, HUNG, f"no answer to {operation} within {answer_within_s:.1f} s")
                ok, value = child.conn.recv()
            except (EOFError, OSError) as exc:
                raise self._crashed(child) from exc
        if not ok:
            raise OperationFailed(*value)
        return value

    def close(self, timeout_s: float = 5.0) -> None:
        """Ask the child to stop (it closes its session), kill it when it does not within `timeout_s`."""
        with self._lock:
            child, self._child = self._child, None
        if child is None:
            return
        with contextlib.suppress(OSError, ValueError):
            child.conn.send(None)
        child.process.join(timeout_s)
        if child.process.exitcode is None:
            child.process.kill()
            child.process.join(5)
        child.conn.close()

    # --- inside the lock ---------------------------------------------------------------------------

    def _running(self) -> _Child:
        child = self._child
        if child is not None and child.process.exitcode is not None:
            raise self._crashed(child)  # died between calls
        if child is not None:
            return child
        left = self._restart_at - time.monotonic()
        if left > 0:
            last = self.health.last
            after = f" after {last.cause}" if last else ""
            raise WorkerUnavailable(f"{self.role}: restarting in {left:.1f} s{after}")
        self._child = self._start()
        return self._child

    def _start(self) -> _Child:
        conn, child_conn = SPAWN.Pipe()
        err_read, err_write = SPAWN.Pipe(duplex=False)
        process = SPAWN.Process(
            target=worker.main,
            args=(child_conn, err_write, self.session_path, self.args),
            name=f"kafka-dashboard {self.role}",
            daemon=True,  # ends with this process even when it is killed before close()
        )
        started = time.monotonic()
        process.start()
        child_conn.close()  # the child holds its ends; ours closed, EOF means the child is gone
        err_write.close()
        tail = StderrTail(err_read, self.forward_stderr)
        tail.start()
        child = _Child(process, conn, tail, started)
        try:
            if not conn.poll(START_TIMEOUT_S):
                raise self._crashed(child, HUNG, f"not started within {START_TIMEOUT_S:.0f} s")
            conn.recv()  # (READY, pid)
        except (EOFError, OSError) as exc:
            raise self._crashed(child) from exc
        log.debug("%s started (pid %s) in %.2f s", self.role, process.pid, time.monotonic() - started)
        return child

    def _crashed(self, child: _Child, cause: str | None = None, detail: str | None = None) -> WorkerFailed:
        """Record the death of `child` (killing it first when it hung) and schedule the restart."""
        if cause == HUNG and child.process.exitcode is None:
            with contextlib.suppress(OSError):
                os.kill(child.process.pid or 0, signal.SIGKILL)
        child.process.join(10)
        child.stderr.join(2)  # the last bytes of its stderr, up to EOF: the assertion is often the last line
        child.conn.close()
        cause = cause or cause_of(child.process.exitcode)
        detail = detail or detail_of(child.stderr.text())
        delay = self.backoff.after_crash(time.monotonic() - child.started)
        self._restart_at = time.monotonic() + delay
        self.health = self.health.with_crash(Crash(datetime.now(UTC), cause, detail))
        WORKER_CRASHES.note(self.kind, cause)
        self._child = None
        log.error("%s died (%s)%s; restarting in %.1f s", self.role, cause, f": {detail}" if detail else "", delay)
        return WorkerFailed(f"{self.role} died ({cause})")
