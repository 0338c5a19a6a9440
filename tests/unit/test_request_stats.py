"""RequestStats reads librdkafka's statistics: requests in all and by "Type@node"."""

from __future__ import annotations

import json
import time

from kafka_admin.snapshot.request_stats import RequestStats


def statistics(ts_s: float) -> str:
    """A statistics document as librdkafka writes it (the fields RequestStats reads)."""
    return json.dumps(
        {
            "ts": int(ts_s * 1e6),
            "brokers": {
                "127.0.0.1:9092/bootstrap": {"source": "configured", "nodeid": -1, "tx": 2, "req": {"Metadata": 2}},
                "127.0.0.1:9092/1": {
                    "source": "learned",
                    "nodeid": 1,
                    "tx": 3,
                    "req": {"ListOffsets": 2, "Metadata": 1},
                },
                "127.0.0.1:9094/2": {"source": "learned", "nodeid": 2, "tx": 2, "req": {"ListOffsets": 2, "Fetch": 0}},
                "GroupCoordinator": {"source": "logical", "nodeid": 1, "tx": 9, "req": {"Metadata": 9}},
            },
        }
    )


def test_counts_by_type_and_broker_match_the_total():
    stats = RequestStats()
    moment = time.monotonic()
    stats.callback(statistics(moment + 0.01))
    total, by = stats.counts_after(moment, 1.0)
    assert total == 7  # the logical handle's requests went out on a real connection: not twice
    assert by == {"Metadata@bootstrap": 2, "ListOffsets@1": 2, "Metadata@1": 1, "ListOffsets@2": 2}
    assert sum(by.values()) == total
    assert stats.sent_after(moment, 1.0) == total
