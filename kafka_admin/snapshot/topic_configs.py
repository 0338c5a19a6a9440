"""Topic configurations (retention, cleanup policy, ...) in one batched DescribeConfigs call.

Configs change rarely, so the poller reads them every few cycles rather than every cycle.
"""

from __future__ import annotations

from concurrent.futures import wait

from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType

from kafka_admin.clients import error_text

# Shown first on the topic page, in this order; other non-default settings follow.
KEY_CONFIGS = (
    "cleanup.policy",
    "retention.ms",
    "retention.bytes",
    "min.insync.replicas",
    "max.message.bytes",
    "segment.bytes",
    "compression.type",
    "message.timestamp.type",
)

TopicConfigs = dict[str, list[tuple[str, str | None, bool]]]


def describe_topic_configs(admin: AdminClient, topics: list[str], timeout_s: float) -> tuple[TopicConfigs, list[str]]:
    """{topic: [(name, value, is_default), ...]} for the key and the non-default settings, plus errors."""
    if not topics:
        return {}, []
    futures = admin.describe_configs([ConfigResource(ResourceType.TOPIC, t) for t in topics], request_timeout=timeout_s)
    wait(list(futures.values()), timeout=timeout_s + 1)
    out: TopicConfigs = {}
    errors: list[str] = []
    for resource, fut in futures.items():
        try:
            entries = fut.result(timeout=0)
        except Exception as exc:  # noqa: BLE001 - recorded per topic
            errors.append(f"{resource.name}: {error_text(exc)}")
            continue
        shown = [(n, entries[n].value, entries[n].is_default) for n in KEY_CONFIGS if n in entries]
        shown += sorted(
            (e.name, None if e.is_sensitive else e.value, False)
            for e in entries.values()
            if not e.is_default and e.name not in KEY_CONFIGS
        )
        out[resource.name] = shown
    return out, errors
