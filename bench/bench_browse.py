"""The message browser's merged read of every partition (newest 20, merged by time) as a ratio to the
same page of ONE partition, in the same run and process; and a filtered scan of 10,000 records (the
default cap) as a ratio to the plain page. Also the old single-partition reader (read_records,
Newest) as the baseline the browser replaced.

Usage: .venv/bin/python bench/bench_browse.py [--partitions 12] [--records 2000] [--repeat 15]
(records per partition; TEST_KAFKA_BOOTSTRAP_SERVERS to use a running broker)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from common import REPO, name_prefix, percentiles, start_broker, timed

sys.path.insert(0, str(REPO))

from kafka_admin.records.browse import browse
from kafka_admin.records.match import Match
from kafka_admin.records.read import Newest, read_records
from tests.kafka_support import Kafka


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--partitions", type=int, default=12)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    broker = start_broker(Path(tempfile.mkdtemp(prefix="bench-browse-")) / "kafka")
    try:
        print(json.dumps(run(broker, args.partitions, args.records, args.repeat)))
    finally:
        if not os.environ.get("TEST_KAFKA_BOOTSTRAP_SERVERS"):
            broker.down()


def run(broker, partitions: int, records: int, repeat: int) -> dict:
    kafka = Kafka(broker)
    topic = kafka.create_topic(f"{name_prefix()}bench-browse-{partitions}", partitions=partitions)
    p = kafka.producer(acks="all")
    for i in range(records * partitions):
        p.produce(
            topic, key=b"k%d" % i, value=b'{"n": %d, "payload": "%s"}' % (i, b"x" * 200), partition=i % partitions
        )
        if i % 10_000 == 0:
            p.poll(0)
    assert p.flush(120) == 0
    config = broker.config()
    needle = Match("no-such-text", "value")
    sides = {
        "single": lambda: browse(config, topic, 0, Newest(), limit=20),
        "merged": lambda: browse(config, topic, None, Newest(), limit=20),
        "old_reader": lambda: read_records(config, topic, 0, Newest(), limit=20),
        "scan_10k": lambda: browse(config, topic, None, Newest(), limit=20, match=needle, scan_cap=10_000),
    }
    for fn in sides.values():  # warm up: metadata, connections
        fn()
    samples: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeat):  # interleaved, so load from other work falls on every side alike
        for name, fn in sides.items():
            samples[name] += timed(fn, 1)
    stats = {name: percentiles(s) for name, s in samples.items()}
    scan = browse(config, topic, None, Newest(), limit=20, match=needle, scan_cap=10_000)
    return {
        "partitions": partitions,
        "records_per_partition": records,
        **stats,
        "merged_over_single": round(stats["merged"]["p50_ms"] / stats["single"]["p50_ms"], 2),
        "single_over_old_reader": round(stats["single"]["p50_ms"] / stats["old_reader"]["p50_ms"], 2),
        "scan_10k_over_merged": round(stats["scan_10k"]["p50_ms"] / stats["merged"]["p50_ms"], 2),
        "scanned": scan.scanned,
        "load_average": os.getloadavg()[0],
    }


if __name__ == "__main__":
    main()
