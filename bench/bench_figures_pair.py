"""FigureTracker.update with and without the quiet-group reuse, side by side on the same snapshots.

Why: on a shared machine two runs at different times differ by 2-5x; here both trackers get each
synthetic W4 cycle (bench/synthetic.py) one after the other in one process, so their CPU seconds
(`time.process_time`) are comparable cycle by cycle, and their figures are checked equal on a
sample of groups. Usage:
.venv/bin/python bench/bench_figures_pair.py [--groups 50000] [--partitions 10] [--cycles 26] [--json-out F]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from synthetic import SyntheticCluster, add_size_arguments  # noqa: E402

from kafka_admin.figures.tracker import FigureTracker  # noqa: E402


def same(a, b) -> bool:
    """The figures a reader sees, compared (statuses with their reasons' texts)."""

    def key(gf) -> tuple:
        statuses = {tp: (ps.status, ps.reason, ps.steady) for tp, ps in gf.partition_statuses.items()}
        return (gf.time_lag, gf.commit_rate, gf.produce_rate, gf.trend, gf.catch_up, gf.lag_history,
                dict(gf.partition_time_lags.items()), gf.status, statuses, gf.within_noise)  # fmt: skip

    return key(a) == key(b)


def main() -> None:
    parser = argparse.ArgumentParser()
    add_size_arguments(parser)
    parser.add_argument("--cycles", type=int, default=26)
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args()
    cluster = SyntheticCluster(groups=args.groups, partitions=args.partitions, topics=args.topics)
    full, reuse = FigureTracker(reuse_quiet=False), FigureTracker()
    cycles = []
    for c in range(args.cycles):
        cluster.advance()
        snapshot = cluster.snapshot(c)
        t0 = time.process_time()
        a = full.update(snapshot)
        t1 = time.process_time()
        b = reuse.update(snapshot)
        t2 = time.process_time()
        sample = list(a.groups)[:: max(1, len(a.groups) // 2000)]
        equal = all(same(a.groups[gid], b.groups[gid]) for gid in sample)
        cycles.append({"full_s": round(t1 - t0, 3), "reuse_s": round(t2 - t1, 3), "quiet": reuse.quiet_groups})
        print(f"cycle {c}: full {t1 - t0:.2f} s, reuse {t2 - t1:.2f} s, quiet {reuse.quiet_groups}, equal {equal}")
        assert equal, f"figures differ at cycle {c}"
    steady = cycles[1:]
    judged = cycles[12:]  # every window has its 12 samples: statuses are judged, not NODATA
    result = {
        "bench": "figures-pair",
        "groups": args.groups,
        "partitions": args.partitions,
        "cycles": cycles,
        "p50_full_s": statistics.median(c["full_s"] for c in steady),
        "p50_reuse_s": statistics.median(c["reuse_s"] for c in steady),
        "p50_full_judged_s": statistics.median(c["full_s"] for c in judged) if judged else None,
        "p50_reuse_judged_s": statistics.median(c["reuse_s"] for c in judged) if judged else None,
    }
    print(json.dumps({k: v for k, v in result.items() if k != "cycles"}, indent=2))
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
