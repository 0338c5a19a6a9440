"""The "Memory of every process at W4" section of bench/RESULTS.md, from bench_scale_rss.py's results.

`make bench-scale-rss` runs outside `make bench`; run_all.py carries the section over.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import sections

BEGIN, END = "<!-- scale-rss: written by bench/bench_scale_rss.py -->", "<!-- /scale-rss -->"
TARGET_MB = 1536  # issue 20: every dashboard process together <= 1.5 GB at W4


def render(r: dict, commit: str) -> str:
    """The RESULTS.md section: the run's totals, by process, and the cold start."""
    roles = ", ".join(f"{name} {mb:,.0f} MB" for name, mb in r["by_role_rss_mb_end"].items())
    pages = ", ".join(f"`{path}` {ms['p50']:,} ({ms['max']:,})" for path, ms in r["page_ms"].items())
    seen = r["progress_seen"]
    progress = (
        f"{len(seen)} views of the catch-up progress, the last {seen[-1][1]:,} of {seen[-1][2]:,} records"
        if seen
        else "no view caught the catch-up progress (it ended before the first snapshot was published)"
    )
    met = "yes" if r["pss_mb_max"] <= TARGET_MB else "no"
    samples = r.get("samples", [])
    step = max(1, len(samples) // 8)
    timeline = ", ".join(
        f"{s['t'] - samples[0]['t']:.0f} s: {s['by_role_rss_mb'].get('server', 0):,.0f} / "
        f"{s['by_role_rss_mb'].get('child', 0):,.0f}"
        for s in samples[::step]
    )
    return "\n".join(
        [
            BEGIN,
            "## Memory of every process at W4 (`make bench-scale-rss`, `bench/bench_scale_rss.py`)",
            "",
            f"{r['groups']:,} groups x 10 partitions ({r['group_partition_rows']:,} rows) on one broker, seeded as",
            "bench_scale.py seeds W4; `manage.py serve` as `make run` starts it (embedded poller, offsets",
            "source auto, 5 s interval), with 1 % of the groups committing every interval and a client asking",
            "for the groups page, a search, a group, the overview and /metrics once a second for",
            f"{r['steady_s']:.0f} s.",
            "RSS and PSS of the server and all its descendants from /proc every second (PSS counts shared",
            f"pages once). Commit {commit}; load average at the end {r['load_avg_end']} on 2 CPUs.",
            "",
            "| measure | value |",
            "|---|---|",
            f"| processes | {r['processes']} ({roles} RSS at the end) |",
            f"| all processes, PSS max (end) | {r['pss_mb_max']:,.0f} MB ({r['pss_mb_end']:,.0f}) |",
            f"| all processes, RSS max (end) | {r['rss_mb_max']:,.0f} MB ({r['rss_mb_end']:,.0f}) |",
            f"| PSS per group-partition row | {r['pss_bytes_per_row_max']:,} bytes |",
            f"| server / child RSS MB, from the first full snapshot on | {timeline} |",
            f"| target: all processes <= 1.5 GB | {met} |",
            f"| server start to the first snapshot with every group | {r['first_full_snapshot_s']} s; {progress} |",
            f"| answer time per page, ms: p50 (max), beside the poller's cycles | {pages} |",
            *cycle_lines(r.get("cycles")),
            "",
            END,
            "",
        ]
    )


def cycle_lines(c: dict | None) -> list[str]:
    """The poll cycles the API showed (older results lack them)."""
    if not c or "cycle_period_s" not in c:
        return []
    period, delay = c["cycle_period_s"], c["collected_to_pages_s"]
    return [
        f"| poll cycles seen; period between collections, s: p50 (max) | {c['cycles_seen']}; "
        f"{period['p50']} ({period['max']}) |",
        f"| a collection's start to its snapshot in the pages, s: p50 (max) | {delay['p50']} ({delay['max']}) |",
    ]


def replace(report: str, section: str) -> str:
    return sections.replace(report, section, BEGIN, END)


def main() -> None:
    """Write the section from a results file: scale_rss_report.py RESULTS.json COMMIT."""
    results_md = Path(__file__).with_name("RESULTS.md")
    results = json.loads(Path(sys.argv[1]).read_text())
    results_md.write_text(replace(results_md.read_text(), render(results, sys.argv[2])))


if __name__ == "__main__":
    main()
