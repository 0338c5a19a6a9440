"""The message browser's and the DLQ record page's reads, in the pool of reader children.

Same answers as kafka_admin.records.read; a crash of the child becomes the read's error ("the
broker client crashed (SIGSEGV) ..."), which the pages already show as a failed read.
"""

from __future__ import annotations

from typing import Any

from kafka_admin.config import ClusterConfig
from kafka_admin.isolation.oneshot import WorkerFailed, WorkerPool
from kafka_admin.records.browse import BrowseResult
from kafka_admin.records.read import Newest, ReadResult, Record, Seek

# One pool per process, like a connection pool: started on the first read, children live on.
_POOL = WorkerPool("record reader", size=2)


def read_records(config: ClusterConfig, topic: str, partition: int, seek: Seek, **options: Any) -> ReadResult:
    within = options.get("timeout_s") or config.request_timeout_s
    try:
        path = "kafka_admin.records.read:read_records"
        return _POOL.call(path, config, topic, partition, seek, within_s=within, **options)
    except WorkerFailed as exc:
        return ReadResult(error=f"the broker client crashed ({exc}); try again")


def browse(config: ClusterConfig, topic: str, partition: int | None, seek: Seek, **options: Any) -> BrowseResult:
    """The message browser's page (kafka_admin.records.browse.browse) in a reader child."""
    within = options.get("timeout_s") or config.request_timeout_s
    try:
        path = "kafka_admin.records.browse:browse"
        return _POOL.call(path, config, topic, partition, seek, within_s=within, **options)
    except WorkerFailed as exc:
        return BrowseResult(
            direction="newest" if isinstance(seek, Newest) else "oldest",
            error=f"the broker client crashed ({exc}); try again",
        )


def read_one(config: ClusterConfig, topic: str, partition: int, offset: int) -> Record | None:
    """The record at exactly `offset`, whole, or None (also when the reader crashed)."""
    try:
        path = "kafka_admin.records.read:read_one"
        return _POOL.call(path, config, topic, partition, offset, within_s=config.request_timeout_s)
    except WorkerFailed:
        return None
