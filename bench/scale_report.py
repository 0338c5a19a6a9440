"""The "Scale" section of bench/RESULTS.md, from bench_scale.py's results; run_all.py keeps it.

bench_scale.py (`make bench-scale`) runs outside `make bench`, so its section lives between two
markers that `make bench` carries over when it rewrites the file.
"""

from __future__ import annotations

import statistics
from typing import Any

import sections

BEGIN, END = "<!-- scale: written by bench/bench_scale.py -->", "<!-- /scale -->"
TARGETS = {"wall_s": 5.0, "requests": 100, "vs_admin": 10.0, "vs_tool": 20.0}


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.1f}x" if a and b else "-"


def by_type(cycles: list[dict[str, int]]) -> str:
    """Steady cycles' requests by request type: the median per cycle and the brokers they went to,
    from the counts by "client:Type@node" (requests_by_kind)."""
    types = sorted({k.split(":", 1)[1].rsplit("@", 1)[0] for c in cycles for k in c})
    parts = []
    for t in types:
        per_cycle = [sum(n for k, n in c.items() if k.split(":", 1)[1].rsplit("@", 1)[0] == t) for c in cycles]
        nodes = sorted({k.rsplit("@", 1)[1] for c in cycles for k in c if k.split(":", 1)[1].rsplit("@", 1)[0] == t})
        parts.append(f"{t} {statistics.median(per_cycle):g} (broker {', '.join(nodes)})")
    return "; ".join(parts)


def render(results: dict[str, Any], note: str = "") -> str:
    lines = [
        BEGIN,
        "## Scale (`make bench-scale`, `bench/bench_scale.py`)",
        "",
        "W2-W4 on one broker, W5 on two; 10 topics x 10 partitions; each group commits on the 10",
        "partitions of one topic.",
        "Churn before every steady cycle: 1 % of the groups commit new offsets; 20 live members in 4",
        "groups (2 classic, 2 KIP-848) throughout; one more consumer joins a live classic group and",
        "leaves (two rebalances). Steady state: offsets-topic source, median of the cycles. Requests per",
        "cycle: the admin client's as librdkafka counts them (statistics) plus the codec's own; the",
        "offsets reader's Fetch long-polls apart. CPU: the process's (every thread, librdkafka's too).",
        "Baselines measured in the same run on the same broker: one admin-source cycle and one",
        "kafka-consumer-groups --describe --all-groups (JVM start included). Seed s: the groups added",
        "since the previous workload (batched OffsetCommit, 4 connections; a sample read back).",
        "Nothing is produced during the run: unchanged groups are handed on as last cycle's Group",
        "objects. Where producers move every partition's end offset each cycle, every group's rows",
        "are rebuilt: requests stay the same, CPU per steady cycle is then about what an earlier run",
        "without the hand-on measured (W4 at commit 7ae30ea: 2.9 s CPU, 20.6 s wall at load 20+).",
        "W5: W4's 50,000 groups on a two-broker cluster of its own (node 1 controller and broker,",
        "node 2 broker only; the topics and __consumer_offsets, replication factor 1, led half by",
        "each, so each broker coordinates half the groups): a steady cycle's requests follow the",
        "brokers (ListOffsets and ListGroups go to every broker, Metadata to one, a describe to each",
        "coordinator of a changed group), not the groups.",
    ]
    if note:
        lines += ["", note]
    lines += [
        "",
        "| | brokers | groups | seed s | cold start s (catch-up s) | steady wall s (best) | steady CPU s |"
        " requests/cycle (max) | reader fetches/cycle | described/cycle | admin source wall s (CPU s) |"
        " vs admin: wall (CPU) | kafka-consumer-groups s | vs tool |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in ("W2", "W3", "W4", "W5"):
        r = results.get(name)
        if not r:
            continue
        ours = r["ours"]
        wall, cpu = ours["wall_s"]["median"], ours["cpu_s"]["median"]
        tool = r.get("tool", {}).get("wall_s") if r.get("tool", {}).get("ok") else None
        lines.append(
            f"| {name} | {r.get('brokers', results.get('brokers', 1))} | {r['groups']:,} | {r['seed_s']} |"
            f" {r['cold_start_s']} ({r['catch_up_s']:.1f}) |"
            f" {wall} ({ours['wall_s']['best']}) | {cpu} | {ours['requests_per_cycle']['median']}"
            f" ({ours['requests_per_cycle']['max']}) | {ours['reader_fetch_requests_per_cycle']['median']} |"
            f" {', '.join(map(str, ours['described_per_cycle']))} |"
            f" {r.get('admin_source_s', '-')} ({r.get('admin_source_cpu_s', '-')}) |"
            f" {_ratio(r.get('admin_source_s'), wall)} ({_ratio(r.get('admin_source_cpu_s'), cpu)}) |"
            f" {tool or '-'} | {_ratio(tool, wall)} |"
        )
    kinds = [
        (n, results[n]) for n in ("W2", "W3", "W4", "W5") if results.get(n, {}).get("ours", {}).get("requests_by_kind")
    ]
    if kinds:
        lines += [
            "",
            "| | brokers | a steady cycle's requests by type: median per cycle (the brokers they went to, any cycle) |",
            "|---|---|---|",
        ]
        lines += [f"| {n} | {r.get('brokers', 1)} | {by_type(r['ours']['requests_by_kind'])} |" for n, r in kinds]
    w4 = results.get("W4")
    if w4:
        ours = w4["ours"]
        wall, cpu = ours["wall_s"]["median"], ours["cpu_s"]["median"]
        tool = w4.get("tool", {}).get("wall_s") if w4.get("tool", {}).get("ok") else None
        rows = [
            ("steady-state cycle wall time <= 5 s", f"{wall} s (CPU {cpu} s)", wall <= TARGETS["wall_s"]),
            (
                "requests per steady cycle <= 100",
                str(ours["requests_per_cycle"]["max"]),
                ours["requests_per_cycle"]["max"] <= 100,
            ),
            (
                ">= 10x faster than the admin source",
                f"{_ratio(w4.get('admin_source_s'), wall)} wall, {_ratio(w4.get('admin_source_cpu_s'), cpu)} CPU",
                bool(w4.get("admin_source_s")) and w4["admin_source_s"] / wall >= TARGETS["vs_admin"],
            ),
            (
                ">= 20x faster than kafka-consumer-groups",
                _ratio(tool, wall),
                bool(tool) and tool / wall >= TARGETS["vs_tool"],
            ),
            (
                "cold start to the first full snapshot",
                f"{w4['cold_start_s']} s (catch-up {w4['catch_up_s']:.1f} s)",
                True,
            ),
        ]
        lines += ["", "| W4 target | measured | met |", "|---|---|---|"]
        lines += [f"| {t} | {m} | {'yes' if ok else 'no'} |" for t, m, ok in rows]
    lines.append(END)
    return "\n".join(lines) + "\n"


def replace(report: str, section: str) -> str:
    """`report` with this section in place of the old one, or appended."""
    return sections.replace(report, section, BEGIN, END)
