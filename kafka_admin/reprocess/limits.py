"""How much a run holds, reads and sends at a time: what keeps its memory and transactions bounded."""

from __future__ import annotations

from kafka_admin.records.read import DEFAULT_MAX_VALUE_BYTES

# Records per transaction (and per page read): each transaction waits for a few round trips while
# nothing is sent, so fewer, larger ones go faster (measured in docs/dlq.md).
DEFAULT_BATCH_SIZE = 10_000
# What the filter and the plan see of each key and value (the message browser's default cut).
VIEW_BYTES = DEFAULT_MAX_VALUE_BYTES
# At most this many bytes of keys and values are held (and sent in one transaction) at a time,
# unless one record alone is bigger.
BATCH_BYTES = 32 * 1024 * 1024
# A page (read, then classified) ends early once it holds this many bytes of (cut) keys and values;
# a run holds two pages at a time (the next one is read ahead).
PAGE_BYTES = BATCH_BYTES // 2

# With a rate limit, a transaction holds at most this many seconds of records, well inside the
# transaction timeout.
RATE_LIMITED_TRANSACTION_S = 5.0
