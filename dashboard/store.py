"""The latest snapshot per cluster, kept in the Django cache (local memory, or Redis scaled out).

Pages, the API, websockets and /metrics read from here; only the poller writes. The last good
snapshot is kept apart from the latest attempt, so a broker outage shows stale data plus the
reason instead of an empty page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.cache import cache

from kafka_admin.figures import EMPTY, ClusterFigures
from kafka_admin.model import ClusterSnapshot

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


def save(snapshot: ClusterSnapshot, figures: ClusterFigures = EMPTY) -> None:
    """Store a cycle's result: a reachable snapshot replaces the data; an unreachable one marks it stale."""
    name = snapshot.cluster
    version = uuid.uuid4().hex
    if snapshot.reachable:
        cache.set_many(
            {_key("snapshot", name): snapshot, _key("figures", name): figures, _key("version", name): version},
            timeout=None,
        )
        cache.delete(_key("failure", name))
        _memo[name] = (version, ClusterState(name, snapshot, None, figures))
        return
    previous: CycleFailure | None = cache.get(_key("failure", name))
    message = "; ".join(e.message for e in snapshot.errors) or "cluster unreachable"
    since = previous.since if previous else snapshot.collected_at
    failure = CycleFailure(message, since, snapshot.collected_at)
    failures = (cache.get(_key("failures", name)) or 0) + 1
    cache.set_many(
        {_key("failure", name): failure, _key("version", name): version, _key("failures", name): failures},
        timeout=None,
    )
    _memo.pop(name, None)


def state(cluster: str) -> ClusterState:
    version = cache.get(_key("version", cluster))
    memo = _memo.get(cluster)
    if memo is not None and version is not None and memo[0] == version:
        return memo[1]
    keys = [_key(kind, cluster) for kind in ("snapshot", "failure", "figures")]
    found = cache.get_many(keys)
    current = ClusterState(cluster, found.get(keys[0]), found.get(keys[1]), found.get(keys[2]) or EMPTY)
    if version is not None:
        _memo[cluster] = (version, current)
    return current


def failure_count(cluster: str) -> int:
    """Poll cycles that could not reach the cluster since the cache was created (a counter)."""
    return cache.get(_key("failures", cluster)) or 0


def clear(cluster: str) -> None:
    _memo.pop(cluster, None)
    cache.delete_many([_key(kind, cluster) for kind in ("snapshot", "failure", "figures", "version", "failures")])


def save_topic_configs(cluster: str, configs: dict) -> None:
    cache.set(_key("configs", cluster), configs, timeout=None)


def topic_configs(cluster: str) -> dict:
    return cache.get(_key("configs", cluster)) or {}
