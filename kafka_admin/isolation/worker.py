"""The child's side: build a session, then answer the parent's requests one at a time until told to stop.

A request is `(operation, args, kwargs)`: a public method of the session. The answer is
`(True, value)` or `(False, (text, exception))`: "ExcType: message", and the exception itself when
it pickles (a caller may re-raise it, e.g. offset reset's InvalidReset), else None. Values and
requests travel as pickles over a multiprocessing Pipe. The session is named by a dotted path
("module:Class") so that this module imports nothing heavy itself: the parent imports it (to name
it as the spawn target) without loading librdkafka, and the child loads the session's module only
after its stderr is in place.
"""

from __future__ import annotations

import faulthandler
import importlib
import os
import pickle
import signal
import sys
from multiprocessing.connection import Connection
from typing import Any

READY = "ready"


def load(path: str) -> Any:
    """The object a "package.module:Name" path names."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def main(conn: Connection, stderr: Connection | None, session_path: str, args: tuple) -> None:
    """The spawn target: stderr onto the parent's pipe, then serve requests until EOF or None."""
    if stderr is not None:
        # fd 2 is where glibc's assert() and faulthandler write: the parent keeps the tail of it, which
        # names the cause of a crash (the assertion text), and forwards it to its own stderr.
        os.dup2(stderr.fileno(), 2)
        stderr.close()
    faulthandler.enable(sys.stderr)  # a SIGSEGV/SIGABRT prints the Python stack of the crash
    # Ctrl-C in a terminal reaches the whole process group; the parent decides when the child stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    session = load(session_path)(*args)
    conn.send((READY, os.getpid()))
    try:
        serve(conn, session)
    finally:
        close = getattr(session, "close", None)
        if close is not None:
            close()


def serve(conn: Connection, session: Any) -> None:
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if request is None:
            return
        operation, args, kwargs = request
        try:
            if operation.startswith("_"):
                raise AttributeError(f"not an operation: {operation}")
            value = getattr(session, operation)(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the caller
            _send_failure(conn, exc)
            continue
        try:
            conn.send((True, value))
        except Exception as exc:  # noqa: BLE001 - an unpicklable value: said, not fatal
            conn.send((False, (f"{type(exc).__name__}: the answer could not be sent: {exc}", None)))


def _send_failure(conn: Connection, exc: Exception) -> None:
    text = f"{type(exc).__name__}: {exc}"
    try:
        exc.__traceback__ = None
        pickle.loads(pickle.dumps(exc))  # an exception whose __init__ takes other arguments does not come back
        conn.send((False, (text, exc)))
    except Exception:  # noqa: BLE001 - the text alone, then
        conn.send((False, (text, None)))
