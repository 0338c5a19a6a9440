"""The cost of exact time lag (kafka_admin/snapshot/record_times.py) per snapshot cycle.

Workload: 10 topics x 10 partitions, 2,000 records each; 1,000 memberless groups, each committed
on the 10 partitions of one topic: 900 near the end (lag 5), 100 stuck far behind (offset 10, lag
1,990). Nothing is produced during the run, so every committed offset is older than the
timeline: the worst case for reads (on a busy topic the groups near the end are interpolated).

Measured, cycles alternating between two collectors on the same cluster:
  - "off":    SnapshotCollector with time_lag_reads=0 (no reads), the baseline;
  - "steady": time_lag_reads=50 after its cache is warm (every distinct offset read once):
              reads per cycle (target 0) and the cycle time as a ratio to "off" (target <= 1.2x);
  - "moving": as "steady", while 20 of the far-behind groups commit a new offset before every
              cycle (a new read each, each time): reads per cycle and the ratio to "off".
Wall time of collect() (the reads happen inside it), median over --repeat cycles.

Usage: .venv/bin/python bench/bench_time_lag.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from common import commit_offsets, create_topics, fill_partitions, machine, name_prefix, start_broker

from kafka_admin.snapshot.collect import SnapshotCollector

TOPICS, PARTITIONS, RECORDS = 10, 10, 2000
GROUPS, STUCK, MOVING = 1000, 100, 20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    broker = start_broker(Path(tempfile.mkdtemp(prefix="bench-timelag-")) / "kafka")
    try:
        prefix = name_prefix()
        topics = {f"{prefix}tl-{i}": PARTITIONS for i in range(TOPICS)}
        create_topics(broker.bootstrap, topics)
        fill_partitions(broker.bootstrap, topics, RECORDS)
        names = list(topics)

        def offsets(topic: str, at: int) -> list[tuple[str, int, int]]:
            return [(topic, p, at) for p in range(PARTITIONS)]

        groups = [(f"{prefix}tl-g{i:04d}", names[i % TOPICS]) for i in range(GROUPS)]
        stuck = groups[:STUCK]
        commit_offsets(broker.bootstrap, [(g, offsets(t, 10 if (g, t) in stuck else RECORDS - 5)) for g, t in groups])
        config = broker.config(request_timeout_s=10.0, cycle_timeout_s=60.0)
        off = SnapshotCollector(config.with_overrides(time_lag_reads=0))
        on = SnapshotCollector(config)
        try:
            warm_cycles = 0
            while True:  # warm the cache: 50 reads a cycle until every distinct offset is known
                before = on.record_times.reads
                on.collect()
                warm_cycles += 1
                if on.record_times.reads == before and on.record_times.deferred == 0:
                    break
            off.collect()
            results: dict[str, list[float]] = {"off": [], "steady": [], "moving": []}
            reads: dict[str, list[int]] = {"steady": [], "moving": []}
            for _ in range(args.repeat):
                for name, collector in (("off", off), ("steady", on)):
                    before = collector.record_times.reads
                    started = time.perf_counter()
                    collector.collect()
                    results[name].append(time.perf_counter() - started)
                    if name == "steady":
                        reads[name].append(collector.record_times.reads - before)
            for cycle in range(args.repeat):
                commit_offsets(broker.bootstrap, [(g, offsets(t, 11 + cycle)) for g, t in stuck[:MOVING]])
                for name, collector in (("off", off), ("moving", on)):
                    before = collector.record_times.reads
                    started = time.perf_counter()
                    collector.collect()
                    elapsed = time.perf_counter() - started
                    if name == "moving":
                        results[name].append(elapsed)
                        reads[name].append(collector.record_times.reads - before)
                    else:
                        results["off"].append(elapsed)
        finally:
            off.close()
            on.close()
        median = {k: statistics.median(v) for k, v in results.items()}
        report = {
            "workload": f"{GROUPS} groups x {PARTITIONS} partitions, {STUCK} far behind, {MOVING} of them moving",
            "warm_up_cycles": warm_cycles,
            "cycle_ms_median": {k: round(v * 1000, 1) for k, v in median.items()},
            "ratio_to_off": {k: round(median[k] / median["off"], 3) for k in ("steady", "moving")},
            "reads_per_cycle": {k: v for k, v in reads.items()},
            "machine": machine(),
        }
        print(json.dumps(report, indent=2))
    finally:
        broker.down()


if __name__ == "__main__":
    main()
