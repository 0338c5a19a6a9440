"""Deciding, per selected record, whether it is sent and where, or why not."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from kafka_admin.config import ClusterConfig
from kafka_admin.dlq.conventions.registry import CONVENTIONS
from kafka_admin.dlq.routing import FailureInfo, Header, Target, parse_failure, republish_headers
from kafka_admin.records.read import Record
from kafka_admin.reprocess.errors import Halt
from kafka_admin.reprocess.ledger import Ledger, RecordKey
from kafka_admin.reprocess.scan import Page
from kafka_admin.reprocess.sizing import headers_size, record_batch_size
from kafka_admin.reprocess.topics import TargetTopics

Accept = Callable[[Record, FailureInfo], bool]
Targets = Callable[[Record, FailureInfo], Target]


def size_and_original_topics(headers: Sequence[Header]) -> tuple[int, tuple[bytes | None, ...]]:
    """The headers' size (as headers_size) and their route key (as dlq.routing.route_key: the last
    values of the registered conventions' original-topic headers), what HeaderRouter.route_key
    routes by, picked up in the pass that sizes the headers. The registry names the headers."""
    slots, values_end = CONVENTIONS.route_slots, CONVENTIONS.value_slots
    key: list[bytes | None] = [None] * len(slots)
    size = 0
    for name, value in headers:
        size += len(name) + len(value or b"")
        i = slots.get(name)
        if i is not None:
            key[i] = (value or b"") if i < values_end else b""
    return size, tuple(key)


@dataclass(slots=True)
class Decision:
    record: Record
    key: RecordKey
    kind: Literal[
        "send", "done", "unmapped", "filtered", "missing_target", "unsettled", "too_large", "target_error", "unreadable"
    ]
    target: str = ""
    reason: str = ""
    forced: bool = False
    partition: int = -1
    """The target partition: the original one when the headers give it and it exists; -1: by key."""
    size: int = 0
    """Bytes of the record's key, value and headers (whole sizes, as record_size), for BATCH_BYTES."""


class Classifier:
    """Decides, per selected record, whether it is sent and where, or why not."""

    def __init__(
        self,
        config: ClusterConfig,
        dlq_topic: str,
        targets: Targets,
        ledger: Ledger,
        force: bool,
        accept: Accept | None,
        unsettled: set[RecordKey],
        actor: str,
    ) -> None:
        self.dlq_topic = dlq_topic
        self.targets = targets
        self.ledger = ledger
        self.force = force
        self.accept = accept
        self.unsettled = unsettled
        self.actor = actor
        self.topics = TargetTopics(config)
        # The size bound's slack (see __call__): the headers added at their longest, the batch overhead, other varints.
        longest = republish_headers(
            (), dlq_topic=dlq_topic, partition=2**31 - 1, offset=2**63 - 1, actor=actor, at=datetime.now(UTC)
        )
        self.slack = record_batch_size(0, 0, longest) + 32

    def __call__(self, page: Page) -> list[Decision]:
        dlq, accept, unsettled, unreadable = self.dlq_topic, self.accept, self.unsettled, page.unreadable
        partition = page.partition
        out = [Decision(r, (dlq, partition, r.offset), "send") for r in page.records]
        infos: dict[RecordKey, FailureInfo] = {}
        candidates = out
        if accept is not None:
            candidates = []
            for d in out:
                info = infos[d.key] = parse_failure(d.record.headers)
                if accept(d.record, info):
                    candidates.append(d)
                else:
                    d.kind = "filtered"
        keys = [d.key for d in candidates]
        done = self._ledger_call("read", self.ledger.done, keys) if keys else set()
        resolved: set[RecordKey] = set()
        if self.force and done:
            resolved = self._ledger_call("read", self.ledger.resolved, [k for k in keys if k in done])
        route_key = getattr(self.targets, "route_key", None)
        force, slack, described = self.force, self.slack, self.topics.cache
        for d in candidates:
            key = d.key
            if unsettled and key in unsettled:
                d.kind = "unsettled"
                d.reason = "an earlier run's outcome for this record is not settled yet; not sent again"
                continue
            if done and key in done and (not force or key in resolved):
                d.kind = "done"
                continue
            if unreadable and key[2] in unreadable:
                d.kind, d.reason = "unreadable", unreadable[key[2]]
                continue
            record = d.record
            headers = record.headers
            # Without a filter, the failure headers are parsed only for the records that need a target,
            # and not at all when the targets callable can route by the headers themselves.
            header_size = -1
            if infos:
                target = self.targets(record, infos[key])
            elif route_key is not None:
                header_size, key_values = size_and_original_topics(headers)
                target = route_key(key_values)
            else:
                target = self.targets(record, parse_failure(headers))
            topic = target.topic
            if topic is None or topic == dlq:
                d.kind = "unmapped"
                d.reason = target.reason if topic is None else f"target {topic} is the DLQ itself"
                continue
            if target.metadata_only_if_empty and record.key is None and record.value is None:
                d.kind = "unmapped"
                d.reason = "the DLQ record holds only the failure's metadata (no key, no value): nothing to re-publish"
                continue
            d.target = topic
            about = described.get(topic) or self.topics.lookup((topic,))[topic]  # described once per run
            if about.error:
                d.kind, d.reason = "target_error", about.error
                continue
            if not about.exists:
                d.kind, d.reason = "missing_target", f"target topic {topic} does not exist"
                continue
            original = target.partition
            if original is not None and original < about.partitions:
                d.partition = original
            if header_size < 0:
                header_size = headers_size(headers)
            d.size = size = record.key_size + record.value_size + header_size
            limit = about.max_message_bytes
            # A bound first (UTF-8 takes up to 4 bytes a character of a name; each header adds two length
            # varints; then the slack): only a record near the limit is sized exactly, as its record batch.
            bound = size + 3 * header_size + 10 * len(headers) + slack
            if bound > limit and (exact := self._batch_size(record)) > limit:
                d.kind = "too_large"
                d.reason = f"{exact} bytes as a record batch exceed max.message.bytes {limit} of target topic {topic}"
                continue
            if done:
                d.forced = key in done
        return out

    def _batch_size(self, record: Record) -> int:
        headers = republish_headers(
            record.headers,
            dlq_topic=self.dlq_topic,
            partition=record.partition,
            offset=record.offset,
            actor=self.actor,
            at=datetime.now(UTC),
        )
        key_size = None if record.key is None else record.key_size
        value_size = None if record.value is None else record.value_size
        return record_batch_size(key_size, value_size, headers)

    def limits(self) -> list[int]:
        return [i.max_message_bytes for i in self.topics.cache.values() if i.exists]

    @staticmethod
    def _ledger_call(what: str, call: Callable[[list[RecordKey]], set[RecordKey]], keys: list[RecordKey]):
        try:
            return call(keys)
        except Exception as exc:
            raise Halt(f"the ledger could not be {what}: {type(exc).__name__}: {exc}") from exc
