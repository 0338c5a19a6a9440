"""The "Downstream at W4" section of bench/RESULTS.md, from bench_scale_downstream.py's results.

`make bench-scale-downstream` runs outside `make bench`, so its section lives between two markers
that run_all.py carries over when it rewrites the file.
Usage: .venv/bin/python bench/scale_downstream_report.py bench/scale-downstream-results.json [note.md]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import sections

BEGIN, END = "<!-- scale-downstream: written by bench/scale_downstream_report.py -->", "<!-- /scale-downstream -->"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
POLL_TARGET_MS = 5000.0


def render(r: dict[str, Any], note: str = "") -> str:
    steps, history, memory, pages = r["steps"], r["history"], r["memory"], r["pages"]
    lines = [
        BEGIN,
        "## Downstream at W4 (`make bench-scale-downstream`, `bench/bench_scale_downstream.py`)",
        "",
        f"{r['group_partition_rows']:,} group-partition rows (synthetic snapshot from the model, no broker:",
        "bench/synthetic.py; 1,000 topics x 10 partitions; 1 % of the groups commit every cycle, 10 % of",
        "the topics are written to, 2 % of the groups have members, some rebalance). Each cycle goes",
        "through the poller's steps after the collection. Times are CPU seconds of this process",
        "(`time.process_time`): the machine was shared with other jobs, wall times moved by 2-5x.",
        f"Baseline loop (5 M additions) in the same run: {r['baseline_loop_cpu_s']} s CPU before,",
        f"{r.get('baseline_loop_cpu_s_after', '-')} s after (about 0.1 s on an idle machine).",
        "",
        *([note, ""] if note else []),
        f"| step (cycles 2..{r['cycles']}) | p50 ms | max ms | last cycle ms |",
        "|---|---|---|---|",
    ]
    for name, s in steps.items():
        lines.append(f"| {name} | {s['p50_ms']:,} | {s['max_ms']:,} | {s.get('last_ms', '-')} |")
    lines += ["", f"First cycle (every row written, windows created): {r['first_cycle_downstream_s']} s CPU.", ""]
    lines += handoff_lines(r)
    lines += gc_lines(r)
    lines += [
        "| history (writes on change, heartbeat every HISTORY_HEARTBEAT_SECONDS) | |",
        "|---|---|",
        f"| rows, first cycle | {history['rows_first_cycle']:,} |",
        f"| rows per steady cycle | {history['rows_per_steady_cycle']:,} |",
        f"| rows per hour (5 s cycles) | {history['rows_per_hour']:,} |",
        f"| database bytes per row written (SQLite) | {history['db_bytes_per_row_written']} |",
        f"| bytes per hour | {history['bytes_per_hour'] / 2**20:,.0f} MiB |",
        f"| writing every group every cycle, for comparison | {r['group_partition_rows'] // 10 * 720:,} rows/h |",
        "",
        "| memory (this one process: store, figures, windows, history writer, the cycle's snapshot) | |",
        "|---|---|",
        f"| RSS at start (synthetic generator built) | {memory['rss_start_mb']} MB |",
        f"| RSS after the first cycle | {memory['rss_after_first_cycle_mb']} MB |",
        f"| RSS after the last cycle | {memory['rss_end_mb']} MB |",
        f"| growth per group-partition row | {memory['rss_growth_bytes_per_group_partition_row']:,} bytes |",
        "",
        "| page (over HTTP, threaded WSGI server in the bench process) | p50 ms | ratio to /healthz | bytes |",
        "|---|---|---|---|",
    ]
    for name, p in pages.items():
        lines.append(f"| {name} | {p['p50_ms']} | {p['ratio_p50']}x | {p['bytes']:,} |")
    lines += ["", END]
    return "\n".join(lines) + "\n"


def handoff_lines(r: dict[str, Any]) -> list[str]:
    """The collector child's hand-off: what a delta weighs against the whole snapshot (older results lack it)."""
    h = r.get("handoff")
    if h is None:
        return []
    return [
        "| hand-off, child to parent (kafka_admin/isolation/delta.py), per steady cycle | |",
        "|---|---|",
        f"| delta pickle, p50 (max) | {h['delta_bytes_p50'] / 2**20:,.2f} MiB ({h['delta_bytes_max'] / 2**20:,.2f}) |",
        f"| whole-snapshot pickle, before, p50 | {h['full_bytes_p50'] / 2**20:,.2f} MiB |",
        f"| messages sent whole / as deltas | {h['messages_full']} / {h['messages_delta']} |",
        "",
    ]


def gc_lines(r: dict[str, Any]) -> list[str]:
    """The cycle detector's pauses inside the steps above (older results lack them)."""
    g = r.get("gc")
    if g is None:
        return []
    pause = g["pause_per_steady_cycle"]
    return [
        f"| cycle detector (kafka_admin/isolation/gc_schedule.py), schedule: {g['schedule']} | |",
        "|---|---|",
        f"| its CPU per steady cycle, inside the steps: p50 (max) | {pause['p50_ms']:,} ms ({pause['max_ms']:,}) |",
        f"| full collections in the steady cycles | {g['full_collections_in_steady_cycles']} |",
        f"| one full collection, this state unfrozen (every {g['full_every_s']:.0f} s) | {g['full_collection_s']} s |",
        "",
    ]


def replace(report: str, section: str) -> str:
    """`report` with this section in place of the old one, or appended."""
    return sections.replace(report, section, BEGIN, END)


def main() -> None:
    results = json.loads(Path(sys.argv[1]).read_text())
    note = Path(sys.argv[2]).read_text().strip() if len(sys.argv) > 2 else ""
    RESULTS.write_text(replace(RESULTS.read_text(), render(results, note)))


if __name__ == "__main__":
    main()
