"""SQLite connections kept for the next request (config/sqlite/base.py): reused when idle, never
with a transaction pending, always seeing the latest committed data, set up as a new one."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from django.db import connection, connections

from config.sqlite import base

pytestmark = pytest.mark.django_db


@pytest.fixture
def wrapper(tmp_path: Path):
    """New wrappers on a database file, as each request's thread gets one."""
    made: list[base.DatabaseWrapper] = []

    def make(closed_by_test: bool = False) -> base.DatabaseWrapper:
        w = base.DatabaseWrapper({**connection.settings_dict, "NAME": str(tmp_path / "db.sqlite3")}, alias="pooled")
        if not closed_by_test:
            made.append(w)
        return w

    base.discard_pooled()
    yield make
    for w in made:
        w.close()
    base.discard_pooled()


def test_the_default_database_uses_it() -> None:
    assert isinstance(connections["default"], base.DatabaseWrapper)


def closed_with_table(wrapper) -> object:
    """A request that made table t and ended: its raw connection, now in the pool."""
    first = wrapper()
    with first.cursor() as cursor:
        cursor.execute("CREATE TABLE t (v INTEGER)")
    raw = first.connection
    first.close()
    return raw


def test_a_closed_connection_serves_the_next_request_with_the_latest_data(wrapper, tmp_path) -> None:
    raw = closed_with_table(wrapper)
    other = sqlite3.connect(tmp_path / "db.sqlite3")  # another process writes meanwhile
    other.execute("INSERT INTO t VALUES (7)")
    other.commit()
    other.close()
    seen: list[object] = []

    def request() -> None:  # another thread, as the next request runs in
        second = wrapper(closed_by_test=True)
        with second.cursor() as cursor:
            cursor.execute("SELECT v FROM t")
            seen.extend([second.connection is raw, cursor.fetchall(), second.get_autocommit()])
        second.close()

    thread = threading.Thread(target=request)
    thread.start()
    thread.join()
    assert seen == [True, [(7,)], True]


def test_a_connection_closed_in_a_transaction_is_not_kept(wrapper) -> None:
    first = wrapper()
    with first.cursor() as cursor:
        cursor.execute("CREATE TABLE t (v INTEGER)")
    first.set_autocommit(False)
    with first.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (1)")  # left uncommitted
    raw = first.connection
    assert raw.in_transaction
    first.close()
    second = wrapper()
    second.ensure_connection()
    assert second.connection is not raw
    with second.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM t")
        assert cursor.fetchone() == (0,)


def test_a_kept_connection_comes_back_with_constraint_checks_on(wrapper) -> None:
    first = wrapper()
    first.ensure_connection()
    assert first.disable_constraint_checking()
    raw = first.connection
    first.close()
    second = wrapper()
    with second.cursor() as cursor:
        assert second.connection is raw
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone() == (1,)
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone() == ("wal",)


def test_at_most_pool_size_are_kept(wrapper) -> None:
    opened = [wrapper() for _ in range(base.POOL_SIZE + 3)]
    for w in opened:
        w.ensure_connection()
    for w in opened:
        w.close()
    assert base.discard_pooled() == base.POOL_SIZE


def test_a_database_file_made_again_gets_new_connections(wrapper, tmp_path) -> None:
    raw = closed_with_table(wrapper)
    path = tmp_path / "db.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    fresh = sqlite3.connect(path)
    fresh.execute("CREATE TABLE u (w INTEGER)")
    fresh.commit()
    fresh.close()
    second = wrapper()
    with second.cursor() as cursor:
        assert second.connection is not raw
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        assert cursor.fetchall() == [("u",)]
