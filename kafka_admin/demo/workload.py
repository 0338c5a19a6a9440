"""What the demo workload is made of: its topics, groups, rates and knobs, and what a worker is.

See docs/demo.md for what each group shows on the dashboard.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka_admin.config import ClusterConfig

Log = Callable[[str], None]


ORDERS = "orders"
PAYMENTS = "payments"
SHIPMENTS = "shipments"
ORDERS_DLQ = "orders-dlq"
ORDERS_ENRICHED = "orders-enriched"

# name -> partitions. Replication factor: the broker's default (a local cluster has one broker).
TOPICS: dict[str, int] = {ORDERS: 6, PAYMENTS: 3, SHIPMENTS: 3, ORDERS_DLQ: 3, ORDERS_ENRICHED: 3}
# A day of demo data is plenty and keeps a laptop's disk small; the DLQ keeps the broker default.
_ONE_DAY_MS = str(24 * 3600 * 1000)
TOPIC_CONFIGS: dict[str, dict[str, str]] = {
    name: {"retention.ms": _ONE_DAY_MS} for name in (ORDERS, PAYMENTS, SHIPMENTS, ORDERS_ENRICHED)
}

GROUP_AT_MOST_ONCE = "demo-at-most-once"
GROUP_AT_LEAST_ONCE = "demo-at-least-once"
GROUP_EXACTLY_ONCE = "demo-exactly-once"
GROUP_SLOW = "demo-slow"
GROUP_STOPPED = "demo-stopped"
GROUP_ORDER_PROCESSOR = "demo-order-processor"  # the worker is called demo-dlq-writer
TRANSACTIONAL_ID = "demo-exactly-once-1"

# Messages per second at rate scale 1.
RATES: dict[str, float] = {ORDERS: 20.0, PAYMENTS: 10.0, SHIPMENTS: 5.0}
SLOW_RATE = 3.0  # demo-slow processes payments at 3/s while 10/s arrive: its lag grows by ~7/s
POISON_EVERY = 100  # one order in a hundred is poison (alternately a NaN amount and non-JSON bytes)
MAX_RETRIES = 3  # the order processor retries a failing record 3 times before dead-lettering it
RETRY_BACKOFF_S = 0.05  # 0.05, 0.1, 0.2 s between attempts
STOPPED_PER_PARTITION = 10  # demo-stopped reads this many shipments per partition, commits, leaves
EOS_MAX_RECORDS = 500  # one transaction per this many records ...
EOS_INTERVAL_S = 0.2  # ... or per 200 ms, whichever comes first
COMMIT_ATTEMPTS = 2  # commit_transaction is retried once when librdkafka calls the error retriable
POLL_TIMEOUT_S = 0.5
PRODUCE_TICK_S = 0.2
RESTART_MIN_S = 1.0
RESTART_MAX_S = 30.0
BUG_FIXED_ENV = "DEMO_BUG_FIXED"
BUG_FIXED_FILE = "bug-fixed"
STATE_DIR_ENV = "DEMO_STATE_DIR"
DEFAULT_STATE_DIR = Path("var") / "demo"

# Seed batch produced by seed_once(): enough for every group to have something to read.
SEED_COUNTS: dict[str, int] = {ORDERS: 200, PAYMENTS: 100, SHIPMENTS: 50}


@dataclass
class WorkerStats:
    """Counters of one worker; written only by its own thread, read after it has stopped."""

    name: str
    produced: int = 0
    consumed: int = 0
    dead_lettered: int = 0
    transactions: int = 0
    aborted: int = 0
    skipped: int = 0
    delivery_errors: int = 0
    restarts: int = 0
    last_error: str | None = None

    def summary(self) -> str:
        counts = {
            "produced": self.produced,
            "consumed": self.consumed,
            "dead-lettered": self.dead_lettered,
            "transactions": self.transactions,
            "aborted": self.aborted,
            "skipped": self.skipped,
            "delivery errors": self.delivery_errors,
            "restarts": self.restarts,
        }
        text = ", ".join(f"{label} {n}" for label, n in counts.items() if n) or "nothing"
        return f"{self.name}: {text}" + (f" (last error: {self.last_error})" if self.last_error else "")


@dataclass
class Worker:
    """What a worker body gets: its cluster, the shared stop flag, its own stats and state."""

    name: str
    config: ClusterConfig
    stop: threading.Event
    log: Log
    state_dir: Path
    stats: WorkerStats
    state: dict[str, Any] = field(default_factory=dict)  # survives restarts (e.g. the next sequence)


@dataclass(frozen=True)
class WorkerSpec:
    name: str
    description: str
    body: Callable[[Worker], None]
    one_shot: bool = False
