"""The latest snapshot per cluster, kept in the Django cache (local memory, or Redis scaled out).

Pages, the API, websockets and /metrics read from here; only the poller writes. The last good
snapshot is kept apart from the latest attempt, so a broker outage shows stale data plus the
reason instead of an empty page.

When the cache itself fails (Redis down in the scaled-out setup), nothing raises: each process
keeps serving the last state it holds in memory, with `cache_error` saying so (docs/faults.md).
A process whose own poller saved that state recently serves it as fresh; any other process marks
it stale ("snapshot cache unavailable"). The cache is used again as soon as it answers.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache

from dashboard.clusters import scrub
from kafka_admin.figures.tracker import EMPTY, ClusterFigures
from kafka_admin.isolation.crash import Health
from kafka_admin.snapshot.model import ClusterSnapshot

log = logging.getLogger(__name__)

T = TypeVar("T")
_PREFIX = "kd:v1"


def _key(kind: str, cluster: str) -> str:
    return f"{_PREFIX}:{kind}:{cluster}"


@dataclass(frozen=True)
class CycleFailure:
    """Why the latest cycle could not read the cluster, and since when it has been failing."""

    message: str
    since: datetime
    at: datetime


@dataclass(frozen=True)
class ClusterState:
    """What a reader needs: the data to show, whether it is stale, and why."""

    cluster: str
    snapshot: ClusterSnapshot | None
    failure: CycleFailure | None
    figures: ClusterFigures = EMPTY
    cache_error: str | None = None  # the snapshot cache failed: this is the process's own last copy

    @property
    def stale(self) -> bool:
        return self.failure is not None

    @property
    def age_s(self) -> float | None:
        if self.snapshot is None:
            return None
        return max(0.0, (datetime.now(UTC) - self.snapshot.collected_at).total_seconds())


# Readers keep the last state they unpickled, per process, until the poller stores a new version
# (the poller's own process is handed the new state directly):
# unpickling a snapshot of thousands of groups costs far more than rendering a page from it.
_memo: dict[str, tuple[str, ClusterState]] = {}
# Clusters this process's poller saved, and when (time.monotonic()): its memo is fresh while it polls.
_saved_at: dict[str, float] = {}
_cache_error: str | None = None  # the last cache failure, until the cache answers again
_lock = threading.Lock()
# Values derived from the memo's snapshot and figures (a page's sorted rows, a rendered fragment),
# per cluster: (snapshot, figures, {key: value}). Dropped when a new state is saved or read.
_derived: dict[str, tuple[ClusterSnapshot | None, ClusterFigures, dict[Hashable, Any]]] = {}
DERIVED_MAX = 64  # values kept per cluster and state (keys can carry a search text typed by a user)


def _cache_failed(exc: BaseException) -> str:
    """Remember a cache failure; logged once per outage, not once per call. Returns what a page may show."""
    global _cache_error
    shown = f"{type(exc).__name__}"  # the full message (addresses) goes to the log only
    with _lock:
        first, _cache_error = _cache_error is None, shown
    if first:
        log.warning("snapshot cache unavailable, serving the last state held in memory: %s", f"{shown}: {exc}"[:300])
    return shown


def _cache_ok() -> None:
    global _cache_error
    if _cache_error is None:
        return
    with _lock:
        was, _cache_error = _cache_error, None
    if was is not None:
        log.warning("snapshot cache available again")


def _polled_here(cluster: str) -> bool:
    """Did this process's poller save the cluster's state lately (so its memo is as fresh as the cache)?"""
    saved = _saved_at.get(cluster)
    return saved is not None and time.monotonic() - saved < max(30.0, 3 * settings.POLL_INTERVAL_S)


def save(snapshot: ClusterSnapshot, figures: ClusterFigures = EMPTY) -> None:
    """Store a cycle's result: a reachable snapshot replaces the data; an unreachable one marks it stale."""
    name = snapshot.cluster
    version = uuid.uuid4().hex
    _saved_at[name] = time.monotonic()
    _derived.pop(name, None)
    try:
        _save(name, version, snapshot, figures)
    except Exception as exc:  # noqa: BLE001 - any cache backend failure (Redis down): keep serving from memory
        error = _cache_failed(exc)
        _memo[name] = (version, replace(_local_state(name, snapshot, figures), cache_error=error))
        return
    _cache_ok()


def _local_state(name: str, snapshot: ClusterSnapshot, figures: ClusterFigures) -> ClusterState:
    """The state after this cycle, from this process's memory alone (the cache failed)."""
    if snapshot.reachable:
        return ClusterState(name, snapshot, None, figures)
    memo = _memo.get(name)
    previous = memo[1] if memo else ClusterState(name, None, None)
    message = scrub(name, "; ".join(e.message for e in snapshot.errors) or "cluster unreachable")
    since = previous.failure.since if previous.failure else snapshot.collected_at
    return replace(previous, failure=CycleFailure(message, since, snapshot.collected_at))


def _shared_cache() -> bool:
    """Whether other processes read this cache (Redis). The local-memory cache is this process's alone."""
    return not settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")


def _save(name: str, version: str, snapshot: ClusterSnapshot, figures: ClusterFigures) -> None:
    if snapshot.reachable:
        if _shared_cache():
            cache.set_many(
                {_key("snapshot", name): snapshot, _key("figures", name): figures, _key("version", name): version},
                timeout=None,
            )
        else:
            # The local-memory cache pickles every value, and only this process reads it: the memo
            # below holds the state, the cache the version alone (at 500,000 group-partitions the
            # pickle cost seconds a cycle, bench/RESULTS.md).
            cache.delete_many([_key("snapshot", name), _key("figures", name)])
            cache.set(_key("version", name), version, timeout=None)
        cache.delete(_key("failure", name))
        _memo[name] = (version, ClusterState(name, snapshot, None, figures))
        return
    previous: CycleFailure | None = cache.get(_key("failure", name))
    current_version = cache.get(_key("version", name))
    message = scrub(name, "; ".join(e.message for e in snapshot.errors) or "cluster unreachable")
    since = previous.since if previous else snapshot.collected_at
    failure = CycleFailure(message, since, snapshot.collected_at)
    failures = (cache.get(_key("failures", name)) or 0) + 1
    cache.set_many(
        {_key("failure", name): failure, _key("version", name): version, _key("failures", name): failures},
        timeout=None,
    )
    memo = _memo.pop(name, None)
    if memo is not None and memo[0] == current_version and not _shared_cache():
        # The last good data lives in the memo alone (a local-memory cache): keep it, marked stale.
        _memo[name] = (version, replace(memo[1], failure=failure))


def state(cluster: str) -> ClusterState:
    try:
        version = cache.get(_key("version", cluster))
        memo = _memo.get(cluster)
        if memo is not None and version is not None and memo[0] == version:
            current = memo[1]
        else:
            keys = [_key(kind, cluster) for kind in ("snapshot", "failure", "figures")]
            found = cache.get_many(keys)
            current = ClusterState(cluster, found.get(keys[0]), found.get(keys[1]), found.get(keys[2]) or EMPTY)
            if version is not None:
                _memo[cluster] = (version, current)
    except Exception as exc:  # noqa: BLE001 - any cache backend failure: answer from memory, never a 500
        return _from_memory(cluster, _cache_failed(exc))
    _cache_ok()
    return current


def _from_memory(cluster: str, error: str) -> ClusterState:
    memo = _memo.get(cluster)
    now = datetime.now(UTC)
    reason = f"snapshot cache unavailable ({error}): showing this server's last copy"  # error: a class name
    if memo is None:
        return ClusterState(cluster, None, CycleFailure(reason, now, now), cache_error=error)
    current = memo[1]
    if _polled_here(cluster) or current.failure is not None:
        return replace(current, cache_error=error)  # fresh (our poller) or already marked stale with its reason
    return replace(current, failure=CycleFailure(reason, now, now), cache_error=error)


def derived(state: ClusterState, key: Hashable, build: Callable[[ClusterState], T]) -> T:
    """`build(state)`, computed once per process and stored state, then reused until the next cycle.

    Why: the memo above already spares readers the unpickling; what they computed from the same
    snapshot (each group's total lag and status, the groups table sorted by lag, the rendered table
    fragment) was still recomputed on every request and websocket connect. The value is keyed by
    the identity of the state's snapshot and figures objects, which the memo keeps for as long as
    they are current, so a new cycle (or a state read afresh from the cache) starts over. `build`
    must depend on `state` and `key` alone, never on who is asking.
    """
    cluster = state.cluster
    entry = _derived.get(cluster)
    if entry is None or entry[0] is not state.snapshot or entry[1] is not state.figures:
        entry = (state.snapshot, state.figures, {})
        _derived[cluster] = entry
    values = entry[2]
    try:
        return values[key]
    except KeyError:
        pass
    value = build(state)  # outside any lock: two requests may build the same value, one wins
    with _lock:
        while len(values) >= DERIVED_MAX:
            values.pop(next(iter(values)))
        values[key] = value
    return value


def failure_count(cluster: str) -> int:
    """Poll cycles that could not reach the cluster since the cache was created (a counter)."""
    return _read(_key("failures", cluster)) or 0


def clear(cluster: str) -> None:
    _memo.pop(cluster, None)
    _derived.pop(cluster, None)
    kinds = ("snapshot", "failure", "figures", "version", "failures", "collector", "first-cycle")
    cache.delete_many([_key(kind, cluster) for kind in kinds])


@dataclass(frozen=True)
class FirstCycle:
    """What a poller's first cycle is doing, while no snapshot exists yet: at tens of thousands of
    groups that cycle (the __consumer_offsets catch-up, every group described and judged once) takes
    tens of seconds, and the status bar says which step it is in and since when."""

    step: str
    since: datetime


def save_first_cycle(cluster: str, step: str | None) -> None:
    """The first cycle's step now; None once its snapshot is stored."""
    try:
        if step is None:
            cache.delete(_key("first-cycle", cluster))
        else:
            cache.set(_key("first-cycle", cluster), FirstCycle(step, datetime.now(UTC)), timeout=None)
    except Exception as exc:  # noqa: BLE001 - cache down: the status bar says "waiting" without the step
        _cache_failed(exc)


def first_cycle(cluster: str) -> FirstCycle | None:
    return _read(_key("first-cycle", cluster))


def save_collector_health(cluster: str, health: Health) -> None:
    """The poller's child restarts (by cause) and its last crash: the status bar and /metrics show them."""
    try:
        cache.set(_key("collector", cluster), health, timeout=None)
    except Exception as exc:  # noqa: BLE001 - cache down: saved again with the next crash
        _cache_failed(exc)


def collector_health(cluster: str) -> Health | None:
    """None while the collector never crashed (or its poller runs in-process)."""
    return _read(_key("collector", cluster))


def save_topic_configs(cluster: str, configs: dict) -> None:
    try:
        cache.set(_key("configs", cluster), configs, timeout=None)
    except Exception as exc:  # noqa: BLE001 - cache down: the configs are read again within a minute
        _cache_failed(exc)


def topic_configs(cluster: str) -> dict:
    return _read(_key("configs", cluster)) or {}


def save_dlq_scanned(cluster: str, scanned: dict[str, dict[int, int]]) -> None:
    """How far the DLQ index has read each DLQ partition: {topic: {partition: next offset}}."""
    try:
        cache.set(_key("dlq-scanned", cluster), scanned, timeout=None)
    except Exception as exc:  # noqa: BLE001 - cache down: the DLQ pages fall back to counting offsets
        _cache_failed(exc)


def dlq_scanned(cluster: str) -> dict[str, dict[int, int]]:
    return _read(_key("dlq-scanned", cluster)) or {}


def _read(key: str) -> Any:
    """One cache value, or None while the cache fails."""
    try:
        return cache.get(key)
    except Exception as exc:  # noqa: BLE001 - cache down: the caller shows nothing instead of failing
        _cache_failed(exc)
        return None
