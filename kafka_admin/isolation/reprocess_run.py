"""A reprocess run in a child process: librdkafka's crash ends the run, never the server.

The engine (kafka_admin.reprocess.reprocess) runs in a spawned child; its ledger stays in the
parent, which owns the database. The child's RemoteLedger sends each ledger call over the pipe and
waits for the answer: a handful of calls per transaction (done, record_pending, confirm), so the
round trips cost little beside the transaction itself. Progress comes back the same way.

When the child dies mid-run (abort, segfault, kill) the parent raises WorkerFailed with the cause.
Batches it had produced but not confirmed are pending in the ledger, exactly as after a SIGKILL of
the whole process, and the next run of that DLQ settles them (kafka_admin.reprocess.recovery).
"""

from __future__ import annotations

import faulthandler
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import Connection
from typing import Any

from kafka_admin.config import ClusterConfig
from kafka_admin.isolation.counts import REPROCESS, WORKER_CRASHES
from kafka_admin.isolation.crash import cause_of, detail_of
from kafka_admin.isolation.supervisor import SPAWN, StderrTail, WorkerFailed

log = logging.getLogger(__name__)

LEDGER_CALLS = frozenset({"done", "resolved", "record_pending", "pending", "confirm", "abandon"})


class RemoteLedger:
    """The child's Ledger: every call answered by the parent's ledger over the pipe."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()

    def _call(self, name: str, *args: Any) -> Any:
        with self._lock:
            self._conn.send(("ledger", name, args))
            ok, value = self._conn.recv()
        if not ok:
            raise RuntimeError(f"ledger.{name} failed in the server: {value}")
        return value

    def done(self, keys):
        return self._call("done", list(keys))

    def resolved(self, keys):
        return self._call("resolved", list(keys))

    def record_pending(self, entries):
        return self._call("record_pending", list(entries))

    def pending(self):
        return self._call("pending")

    def confirm(self, keys, run_id):
        return self._call("confirm", list(keys), run_id)

    def abandon(self, keys, run_id):
        return self._call("abandon", list(keys), run_id)


def child_main(conn: Connection, stderr: Connection, job: dict[str, Any]) -> None:
    """The spawn target: run the engine with a RemoteLedger, send ("done", report) or ("error", text)."""
    os.dup2(stderr.fileno(), 2)  # glibc's assert() writes here: the parent keeps the tail for the cause
    stderr.close()
    faulthandler.enable(sys.stderr)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from kafka_admin.dlq.routing import header_targets  # after stderr is in place: loads librdkafka
    from kafka_admin.reprocess import reprocess

    try:
        report = reprocess(
            job["config"],
            job["dlq_topic"],
            job["selection"],
            targets=header_targets(job["dlq_topic"], *job["routing"]),
            ledger=RemoteLedger(conn),
            on_progress=lambda p: conn.send(("progress", p)),
            **job["options"],
        )
    except Exception as exc:  # noqa: BLE001 - said to the parent, which records the run as failed
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("done", report))


def reprocess_in_child(
    config: ClusterConfig,
    dlq_topic: str,
    selection: object,
    *,
    routing: tuple[Sequence[str], Mapping[str, str] | None],
    ledger: Any,
    on_progress: Callable[[Any], None] | None = None,
    **options: Any,
) -> Any:
    """kafka_admin.reprocess.reprocess(...) in a spawned child, `ledger` served here; its report.

    `routing` is header_targets' (patterns, mapping): the router is built in the child. Raises
    WorkerFailed when the child dies, RuntimeError when the engine raised there.
    """
    conn, child_conn = SPAWN.Pipe()
    err_read, err_write = SPAWN.Pipe(duplex=False)
    job = {"config": config, "dlq_topic": dlq_topic, "selection": selection, "routing": routing, "options": options}
    process = SPAWN.Process(
        target=child_main, args=(child_conn, err_write, job), name=f"kafka-dashboard reprocess {dlq_topic}", daemon=True
    )
    process.start()
    child_conn.close()
    err_write.close()
    tail = StderrTail(err_read, forward=True)
    tail.start()
    try:
        return _serve(conn, ledger, on_progress)
    except (EOFError, OSError):
        process.join(10)
        tail.join(2)
        cause = cause_of(process.exitcode)
        detail = detail_of(tail.text())
        WORKER_CRASHES.note(REPROCESS, cause)
        failure = f"the reprocess worker died ({cause})" + (f": {detail}" if detail else "")
        log.error("%s (DLQ %s)", failure, dlq_topic)
        raise WorkerFailed(failure) from None
    finally:
        conn.close()
        process.join(10)
        if process.exitcode is None:
            process.kill()
            process.join(5)


def _serve(conn: Connection, ledger: Any, on_progress: Callable[[Any], None] | None) -> Any:
    while True:
        kind, *rest = conn.recv()
        if kind == "ledger":
            name, args = rest
            if name not in LEDGER_CALLS:
                conn.send((False, f"not a ledger call: {name}"))
                continue
            try:
                conn.send((True, getattr(ledger, name)(*args)))
            except Exception as exc:  # noqa: BLE001 - the engine in the child decides what a failure means
                conn.send((False, f"{type(exc).__name__}: {exc}"))
        elif kind == "progress":
            if on_progress is not None:
                on_progress(rest[0])
        elif kind == "done":
            return rest[0]
        else:
            raise RuntimeError(rest[0] if rest else f"unknown message from the reprocess worker: {kind}")
