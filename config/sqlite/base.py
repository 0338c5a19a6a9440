"""Django's SQLite backend, with closed connections kept in a small pool for the next request.

Why: a request opens its own connection (a new thread per request under the threaded server and
under ASGI, and CONN_MAX_AGE=0 closes it at the end anyway), and a new SQLite connection reads the
database schema and opens the WAL's shared memory on its first statement: about 0.7 ms, a third
of a trivial page, before any query of the page runs. Handing a closed connection to the next
request skips that.

A connection goes back to the pool only when nothing is pending on it: no transaction open (a
connection closed inside one, or after an error, is really closed) and not the in-memory database
(which Django never closes). Taking it again sets it up as Django sets up a new one (autocommit,
the PRAGMAs), and only if the database file is still the one it was opened on (a file deleted and
made again gets new connections; while a kept connection holds the old file open, its inode
number cannot be reused). SQLite gives every statement outside a
transaction the latest committed data, so a kept connection reads nothing stale; each is used by
one thread at a time (the pool hands it to one taker). This is what Django's persistent
connections (CONN_MAX_AGE) give the next request of the same thread, across threads.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from django.db.backends.sqlite3 import base

POOL_SIZE = 8  # idle connections kept per database; more concurrent requests open their own

FileId = tuple[int, int]  # (device, inode) of the database file

_pools: dict[str, list[tuple[Any, FileId]]] = {}
_lock = threading.Lock()


def _pool_key(conn_params: dict[str, Any]) -> str:
    return repr(sorted(conn_params.items()))


def _file_id(conn_params: dict[str, Any]) -> FileId | None:
    """The database file's identity, or None (a URI, or no file yet): then nothing is pooled."""
    name = str(conn_params.get("database", ""))
    if name.startswith("file:"):
        return None
    try:
        stat = os.stat(name)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


class DatabaseWrapper(base.DatabaseWrapper):
    _pool_file: FileId | None = None

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        self._pool_params = conn_params
        self._pool_file = None if self.is_in_memory_db() else _file_id(conn_params)
        conn = self._take(conn_params) if self._pool_file is not None else None
        if conn is None:
            conn = super().get_new_connection(conn_params)
            if not self.is_in_memory_db():
                self._pool_file = _file_id(conn_params)  # the file exists now, if it did not
            return conn
        # What Django's get_new_connection sets, again: a connection that had constraint checks
        # switched off (loaddata, migrations) comes back as a new one would.
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA legacy_alter_table = OFF")
        for command in self.init_commands:
            if command := command.strip():
                conn.execute(command)
        return conn

    def _take(self, conn_params: dict[str, Any]) -> Any:
        stale = []
        with _lock:
            pool = _pools.get(_pool_key(conn_params), [])
            while pool:
                conn, file = pool.pop()
                if file == self._pool_file:
                    break
                stale.append(conn)
            else:
                conn = None
        for old in stale:  # opened on a file since deleted or replaced
            old.close()
        return conn

    def _close(self) -> None:
        conn = self.connection
        if conn is None:
            return
        idle = not (self.in_atomic_block or self.errors_occurred or conn.in_transaction)
        if idle and self._pool_file is not None:
            with _lock:
                pool = _pools.setdefault(_pool_key(self._pool_params), [])
                if len(pool) < POOL_SIZE:
                    pool.append((conn, self._pool_file))
                    return
        super()._close()


def discard_pooled() -> int:
    """Close every idle pooled connection (tests; a process that must let go of the file)."""
    with _lock:
        held = [conn for pool in _pools.values() for conn, _ in pool]
        _pools.clear()
    for conn in held:
        conn.close()
    return len(held)
