"""A small, steady demo workload, so that every page of the dashboard has something true to show.

Three producers write orders, payments and shipments at steady rates. Six consumer groups read
them side by side, each showing one thing a user should be able to see on the dashboard:
the three delivery guarantees on the same topic, a group falling further and further behind,
a group with committed offsets and no members (stopped), and an order processor that retries
poison records and then writes them to ``orders-dlq`` with Spring-compatible and the project's
own failure headers. See docs/demo.md.

Everything here is plain Python on confluent-kafka, built from a ClusterConfig. Each worker runs
in its own daemon thread with its own client; a worker that fails (a fatal client error, a broker
that stays away) is restarted with backoff, so a broker restart never ends the demo.

The modules: workload (topics, groups, rates, what a worker is), clients, records, producers,
consumers, dead_letters (the DLQ writer), runner. Their public names are all here.
"""

from __future__ import annotations

from kafka_admin.demo.clients import ClientStuckError, ensure_topics
from kafka_admin.demo.consumers import at_least_once, at_most_once, exactly_once, slow, stopped
from kafka_admin.demo.dead_letters import bug_fixed, dlq_writer, exception_class_name, failure_headers
from kafka_admin.demo.producers import seed_once
from kafka_admin.demo.records import (
    BUILDERS,
    Headers,
    InvalidOrderError,
    Record,
    business_headers,
    order_record,
    parse_order,
    payment_record,
    shipment_record,
)
from kafka_admin.demo.runner import demo_workers, is_local_bootstrap, resolve_state_dir, run_demo, summarize
from kafka_admin.demo.workload import (
    BUG_FIXED_ENV,
    BUG_FIXED_FILE,
    COMMIT_ATTEMPTS,
    DEFAULT_STATE_DIR,
    EOS_INTERVAL_S,
    EOS_MAX_RECORDS,
    GROUP_AT_LEAST_ONCE,
    GROUP_AT_MOST_ONCE,
    GROUP_EXACTLY_ONCE,
    GROUP_ORDER_PROCESSOR,
    GROUP_SLOW,
    GROUP_STOPPED,
    MAX_RETRIES,
    ORDERS,
    ORDERS_DLQ,
    ORDERS_ENRICHED,
    PAYMENTS,
    POISON_EVERY,
    POLL_TIMEOUT_S,
    PRODUCE_TICK_S,
    RATES,
    RESTART_MAX_S,
    RESTART_MIN_S,
    RETRY_BACKOFF_S,
    SEED_COUNTS,
    SHIPMENTS,
    SLOW_RATE,
    STATE_DIR_ENV,
    STOPPED_PER_PARTITION,
    TOPIC_CONFIGS,
    TOPICS,
    TRANSACTIONAL_ID,
    Log,
    Worker,
    WorkerSpec,
    WorkerStats,
)

__all__ = [
    "BUG_FIXED_ENV",
    "BUG_FIXED_FILE",
    "BUILDERS",
    "COMMIT_ATTEMPTS",
    "DEFAULT_STATE_DIR",
    "EOS_INTERVAL_S",
    "EOS_MAX_RECORDS",
    "GROUP_AT_LEAST_ONCE",
    "GROUP_AT_MOST_ONCE",
    "GROUP_EXACTLY_ONCE",
    "GROUP_ORDER_PROCESSOR",
    "GROUP_SLOW",
    "GROUP_STOPPED",
    "MAX_RETRIES",
    "ORDERS",
    "ORDERS_DLQ",
    "ORDERS_ENRICHED",
    "PAYMENTS",
    "POISON_EVERY",
    "POLL_TIMEOUT_S",
    "PRODUCE_TICK_S",
    "RATES",
    "RESTART_MAX_S",
    "RESTART_MIN_S",
    "RETRY_BACKOFF_S",
    "SEED_COUNTS",
    "SHIPMENTS",
    "SLOW_RATE",
    "STATE_DIR_ENV",
    "STOPPED_PER_PARTITION",
    "TOPICS",
    "TOPIC_CONFIGS",
    "TRANSACTIONAL_ID",
    "ClientStuckError",
    "Headers",
    "InvalidOrderError",
    "Log",
    "Record",
    "Worker",
    "WorkerSpec",
    "WorkerStats",
    "at_least_once",
    "at_most_once",
    "bug_fixed",
    "business_headers",
    "demo_workers",
    "dlq_writer",
    "ensure_topics",
    "exactly_once",
    "exception_class_name",
    "failure_headers",
    "is_local_bootstrap",
    "order_record",
    "parse_order",
    "payment_record",
    "resolve_state_dir",
    "run_demo",
    "seed_once",
    "shipment_record",
    "slow",
    "stopped",
    "summarize",
]
