"""The cycle detector's schedule for large pollers (kafka_admin/isolation/gc_schedule.py), on the real gc."""

from __future__ import annotations

import gc
import time
import weakref
from collections.abc import Iterator

import pytest

from kafka_admin.isolation import gc_schedule
from kafka_admin.isolation.gc_schedule import FULL_EVERY_S, LARGE_ROWS, NO_AUTOMATIC_FULL, forget, settle_after_cycle


class Node:
    """A weakly referenceable object that can sit in a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture(autouse=True)
def default_schedule() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    yield before
    for who in ("big", "small", "other"):
        forget(who)
    gc.unfreeze()
    gc.set_threshold(*before)


def garbage_cycle() -> weakref.ref[Node]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_a_small_poller_keeps_the_default_schedule(default_schedule: tuple[int, int, int]) -> None:
    assert settle_after_cycle("small", LARGE_ROWS - 1) is False
    assert gc.get_threshold() == default_schedule
    assert gc.get_freeze_count() == 0


def test_a_large_poller_freezes_survivors_and_stops_automatic_full_collections(
    default_schedule: tuple[int, int, int],
) -> None:
    assert settle_after_cycle("big", LARGE_ROWS) is True
    assert gc.get_threshold() == (default_schedule[0], default_schedule[1], NO_AUTOMATIC_FULL)
    assert gc.get_freeze_count() > 0
    forget("big")
    assert gc.get_threshold() == default_schedule
    assert gc.get_freeze_count() == 0


def test_a_cycle_s_garbage_is_collected_before_the_survivors_are_frozen() -> None:
    settle_after_cycle("big", LARGE_ROWS)
    ref = garbage_cycle()  # a page request's leftovers: unreachable, in a reference cycle
    settle_after_cycle("big", LARGE_ROWS)
    assert ref() is None


def test_a_cycle_that_turns_garbage_once_frozen_is_freed_by_the_due_full_collection() -> None:
    start = time.monotonic()
    held = garbage_cycle()
    node = held()
    settle_after_cycle("big", LARGE_ROWS, now=start)  # still referenced: it survives, frozen
    del node
    gc.collect()
    assert held() is not None, "a frozen cycle is out of the detector's view"
    settle_after_cycle("big", LARGE_ROWS, now=start + FULL_EVERY_S / 2)
    assert held() is not None, "no full collection before FULL_EVERY_S"
    settle_after_cycle("big", LARGE_ROWS, now=start + FULL_EVERY_S)
    assert held() is None


def test_young_garbage_cycles_are_still_collected() -> None:
    settle_after_cycle("big", LARGE_ROWS)
    ref = garbage_cycle()
    gc.collect(1)  # what the young collections do on their own
    assert ref() is None


def test_the_process_counts_every_poller(default_schedule: tuple[int, int, int]) -> None:
    settle_after_cycle("big", LARGE_ROWS)
    assert settle_after_cycle("small", 10) is True, "a small poller beside a large one keeps the schedule"
    forget("big")
    assert gc.get_threshold() == default_schedule
    assert gc_schedule.settle_after_cycle("small", 10) is False


def test_collection_switched_off_stays_off() -> None:
    gc.set_threshold(0, 10, 10)
    assert settle_after_cycle("big", LARGE_ROWS) is False
    assert gc.get_threshold() == (0, 10, 10)
