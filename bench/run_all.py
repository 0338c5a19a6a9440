"""Run every benchmark (each in its own process, one after the other) and rewrite bench/RESULTS.md:
date, Kafka version, machine, each benchmark's numbers in tables with its targets and whether
each target is met, and the raw JSON at the end.

Usage: .venv/bin/python bench/run_all.py [--quick] [--only pages snapshot fanout reprocess] [--output PATH]
(`make bench` / `make bench-quick`). --quick uses small sizes: a smoke run, not the issue's numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import scale_downstream_report
import scale_report
import scale_rss_report
import sections

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

from common import machine  # noqa: E402

KAFKA_VERSION = os.environ.get("KAFKA_VERSION", "4.3.1")
BUDGET_S = 15 * 60

FULL = {
    "pages": ["bench_pages.py"],
    "snapshot-w12": ["bench_snapshot.py", "--workload", "W1", "W2", "--repeat", "9", "--repeat-large", "4"],
    "fanout": ["bench_fanout.py"],
    "snapshot-w3": ["bench_snapshot.py", "--workload", "W3", "--repeat-large", "4"],
    "reprocess": ["bench_reprocess.py", "--rounds", "2"],
    "schemas": ["bench_schemas.py"],
    "browse": ["bench_browse.py"],
}
QUICK = {
    "pages": ["bench_pages.py", "--groups", "200", "--requests", "50"],
    "snapshot-w12": ["bench_snapshot.py", "--quick", "--workload", "W1", "W2", "--repeat", "3", "--repeat-large", "2"],
    "fanout": ["bench_fanout.py", "--clients", "50", "--groups", "200", "--updates", "2", "--interval", "3"],
    "snapshot-w3": ["bench_snapshot.py", "--quick", "--workload", "W3", "--repeat-large", "2"],
    "reprocess": ["bench_reprocess.py", "--records", "10000", "--rounds", "1"],
    "schemas": ["bench_schemas.py", "--requests", "10"],
    "browse": ["bench_browse.py", "--records", "500", "--repeat", "8"],
}
GROUPS = {"pages": "pages", "snapshot-w12": "snapshot", "snapshot-w3": "snapshot", "fanout": "fanout"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="+", choices=["pages", "snapshot", "fanout", "reprocess", "schemas", "browse"])
    parser.add_argument("--output", type=Path, default=BENCH / "RESULTS.md")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    started = time.monotonic()
    runs: dict[str, dict[str, Any]] = {}
    for name, argv in plan.items():
        if args.only and GROUPS.get(name, name) not in args.only:
            continue
        if not (BENCH / argv[0]).exists():
            runs[name] = {"skipped": f"{argv[0]} does not exist"}
            continue
        runs[name] = run(name, argv)
    total_s = time.monotonic() - started
    report = render(runs, total_s, args.quick)
    # make bench-scale's, bench-scale-downstream's and bench-scale-rss's sections are not run here:
    # carried over as the file holds them.
    for part in (scale_report, scale_downstream_report, scale_rss_report):
        report = sections.replace(report, sections.kept(args.output, part.BEGIN, part.END), part.BEGIN, part.END)
    args.output.write_text(report)
    print(f"wrote {args.output} ({total_s / 60:.1f} min)", file=sys.stderr)
    failed = [n for n, r in runs.items() if "error" in r]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        raise SystemExit(1)


def run(name: str, argv: list[str]) -> dict[str, Any]:
    print(f"== {name}: {' '.join(argv)}", file=sys.stderr, flush=True)
    load_before = round(os.getloadavg()[0], 1)
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(BENCH / argv[0]), *argv[1:]],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    took = time.monotonic() - started
    stderr_tail = "\n".join(line for line in proc.stderr.splitlines() if not line.startswith("%"))[-2000:]
    print(f"   {took:.0f} s, exit {proc.returncode}", file=sys.stderr, flush=True)
    data = parse_json(proc.stdout)
    if data is None:
        return {"error": f"exit {proc.returncode}, no JSON on stdout", "stderr": stderr_tail, "took_s": round(took, 1)}
    out = {"data": data, "took_s": round(took, 1), "load_1m": [load_before, round(os.getloadavg()[0], 1)]}
    if proc.returncode != 0:
        out["error"] = f"exit {proc.returncode}"
        out["stderr"] = stderr_tail
    return out


def parse_json(stdout: str) -> dict | None:
    start = stdout.find("{")
    if start < 0:
        return None
    try:
        return json.loads(stdout[start:])
    except json.JSONDecodeError:
        return None


# ------------------------------------------------------------------------------------- report


def yes(ok: bool | None) -> str:
    return "n/a" if ok is None else ("yes" if ok else "**NO**")


def kafka_versions() -> str:
    try:
        import confluent_kafka

        return f"confluent-kafka {confluent_kafka.__version__}, librdkafka {confluent_kafka.libversion()[0]}"
    except ImportError:
        return "confluent-kafka not importable"


def render(runs: dict[str, dict], total_s: float, quick: bool) -> str:
    m = machine()
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark results",
        "",
        "Written by `bench/run_all.py` (`make bench`); do not edit by hand, run it again.",
        "",
        f"- Date: {now}" + (" — **quick run (small sizes), not the issue's workloads**" if quick else ""),
        f"- Kafka {KAFKA_VERSION} (KRaft, started by `scripts/kafka.sh` for each benchmark; one broker, two for W3)",
        f"- Machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['ram_gib']} GiB RAM, Linux {m['kernel']}",
        f"- Python {m['python']}, {kafka_versions()}",
        f"- `make bench` total: {total_s / 60:.1f} min (budget 15 min: {yes(total_s <= BUDGET_S)})",
        "",
        "Every ratio compares two things measured in the same run on the same broker; absolute times",
        "on a shared 2-core machine move by tens of percent from run to run (see the load averages at",
        "the end).",
        "",
    ]
    targets: list[tuple[str, str, bool | None]] = []
    sections: list[str] = []
    snapshot = {}
    for key in ("snapshot-w12", "snapshot-w3"):
        snapshot.update(runs.get(key, {}).get("data", {}).get("workloads", {}))
    if snapshot:
        sections += snapshot_section(snapshot, targets)
    if "pages" in runs and "data" in runs["pages"]:
        sections += pages_section(runs["pages"]["data"], targets)
    if "fanout" in runs and "data" in runs["fanout"]:
        sections += fanout_section(runs["fanout"]["data"], targets)
    if "reprocess" in runs and "data" in runs["reprocess"]:
        sections += reprocess_section(runs["reprocess"]["data"], targets)
    if "schemas" in runs and "data" in runs["schemas"]:
        sections += schemas_section(runs["schemas"]["data"], targets)
    if "browse" in runs and "data" in runs["browse"]:
        sections += browse_section(runs["browse"]["data"], targets)
    targets.append(("`make bench` within 15 minutes", f"{total_s / 60:.1f} min", total_s <= BUDGET_S))
    lines += ["## Targets", "", "| Target | Measured | Met |", "|---|---|---|"]
    lines += [f"| {t} | {v} | {yes(ok)} |" for t, v, ok in targets]
    lines += [""]
    problems = [(n, r) for n, r in runs.items() if "error" in r or "skipped" in r]
    if problems:
        lines += ["## Benchmarks that did not complete", ""]
        for n, r in problems:
            lines += [f"- `{n}`: {r.get('error') or r.get('skipped')}"]
            if r.get("stderr"):
                lines += ["", "```", r["stderr"][-1200:], "```", ""]
        lines += [""]
    lines += sections
    lines += [
        "## Run times",
        "",
        f"Load average (1 min) before / after each benchmark, on {os.cpu_count()} CPUs: above the CPU count,",
        "other work shared the machine and the absolute times (and, less so, the ratios) suffer.",
        "",
        "| Benchmark | Seconds | Load before / after |",
        "|---|---|---|",
    ]
    lines += [
        f"| {n} | {r.get('took_s', '-')} | {' / '.join(map(str, r.get('load_1m', [])))} |" for n, r in runs.items()
    ]
    lines += ["", "<details><summary>Raw JSON</summary>", "", "```json"]
    lines += [json.dumps({n: r.get("data", r) for n, r in runs.items()}, indent=1)]
    lines += ["```", "", "</details>", ""]
    return "\n".join(lines)


def snapshot_section(workloads: dict[str, dict], targets: list) -> list[str]:
    names = sorted(workloads)
    for name in names:
        w = workloads[name]
        r = w["ratios"]
        targets.append(
            (
                f"Snapshot {name}: ours <= 1.25x the bare harness (wall, median of runs; best)",
                f"{r['ours_over_bare_median']}x ({r['ours_over_bare_best']}x)",
                r["ours_over_bare_median"] <= 1.25,
            )
        )
    if "W1" in workloads and "tool_over_ours" in workloads["W1"]["ratios"]:
        r = workloads["W1"]["ratios"]["tool_over_ours"]
        targets.append(
            ("Snapshot W1: ours >= 5x faster than kafka-consumer-groups --describe --all-groups", f"{r}x", r >= 5)
        )

    def row(label: str, fn) -> str:
        cells = []
        for n in names:
            try:
                cells.append(str(fn(workloads[n])))
            except (KeyError, TypeError, ZeroDivisionError):
                cells.append("-")
        return f"| {label} | " + " | ".join(cells) + " |"

    def req(w: dict, side: str) -> str:
        by = w["requests_librdkafka"][side]["by_type"]
        return ", ".join(f"{k.split(' ')[0]} {v}" for k, v in by.items())

    lines = [
        "## Snapshot cycle (`bench/bench_snapshot.py`)",
        "",
        "One full cycle (topics, watermarks, groups, members, committed offsets, lag). *Ours* is",
        "`SnapshotCollector.collect()` with the production defaults; *bare* is the minimal",
        "confluent-kafka calls for the same data with the same batching and in-flight bound, no model.",
        "CPU is the whole process (librdkafka threads included); main thread is the caller's alone.",
        "",
        "| | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
        row(
            "groups / partitions / group-partition rows",
            lambda w: f"{w['groups']} / {w['partitions']} / {w['seen']['rows']}",
        ),
        row("live members / brokers", lambda w: f"{w['seen']['members']} / {w['brokers']}"),
        row("ours wall s, median (best)", lambda w: f"{w['ours']['wall_s']['median']} ({w['ours']['wall_s']['best']})"),
        row("bare wall s, median (best)", lambda w: f"{w['bare']['wall_s']['median']} ({w['bare']['wall_s']['best']})"),
        row(
            "bare, list_offsets in calls of 1,000 partitions: wall s (best)",
            lambda w: w["bare_offsets_chunked"]["wall_s"]["best"],
        ),
        row("**ours / bare** (target <= 1.25)", lambda w: f"**{w['ratios']['ours_over_bare_median']}**"),
        row(
            "ours CPU s: process / main thread",
            lambda w: f"{w['ours']['cpu_process_s']['median']} / {w['ours']['cpu_main_thread_s']['median']}",
        ),
        row(
            "bare CPU s: process / main thread",
            lambda w: f"{w['bare']['cpu_process_s']['median']} / {w['bare']['cpu_main_thread_s']['median']}",
        ),
        row("snapshot errors", lambda w: w["seen"]["snapshot_errors"]),
        row("requests: ours' `requests` field", lambda w: w["ours"]["requests_field"]),
        row(
            "requests sent, per librdkafka: ours / bare",
            lambda w: f"{w['requests_librdkafka']['ours']['total']} / {w['requests_librdkafka']['bare']['total']}",
        ),
        row("ours' requests by type (librdkafka)", lambda w: req(w, "ours")),
        row(
            "Python memory, peak bytes per row: ours / bare",
            lambda w: f"{w['memory']['ours_peak_bytes_per_row']} / {w['memory']['bare_peak_bytes_per_row']}",
        ),
        row(
            "bytes per row the result keeps: ours / bare",
            lambda w: f"{w['memory']['ours_kept_bytes_per_row']} / {w['memory']['bare_kept_bytes_per_row']}",
        ),
        row("kafka-consumer-groups --describe --all-groups, s", lambda w: w["tool"]["wall_s"]),
        row("**tool / ours** (target >= 5 at W1)", lambda w: f"**{w['ratios']['tool_over_ours']}**"),
        row("seeding, s", lambda w: w["seed_s"]),
        "",
        "Requests: the `requests` field counts one request per group and call; librdkafka sends more.",
        "Per group it sends a ConsumerGroupDescribe and, for a classic group, a DescribeGroups after it,",
        "an OffsetFetch, and FindCoordinator lookups before each (no coordinator cache across admin",
        "calls). The bare harness sends the same. librdkafka's statistics leave OffsetFetch out of an",
        "admin client's per-type counts; it is the difference between all requests sent and the itemized ones.",
        "",
    ]
    return lines + offsets_source_section(workloads, targets)


def offsets_source_section(workloads: dict[str, dict], targets: list) -> list[str]:
    """The two offsets sources side by side at W1/W2 (docs/offsets-source.md chooses the default from this)."""
    names = [n for n in sorted(workloads) if "offsets_topic" in workloads[n]]
    if not names:
        return []
    for n in names:
        t = workloads[n]["offsets_topic"]
        targets.append(
            (
                f"Snapshot {n}: offsets-topic source's rows equal the admin source's (every round)",
                t["rows_equal_rounds"],
                t["rows_equal_admin_all_rounds"],
            )
        )

    def cells(fn) -> str:
        out = []
        for n in names:
            for side in ("admin", "topic"):
                try:
                    out.append(str(fn(workloads[n], side)))
                except (KeyError, TypeError, ZeroDivisionError):
                    out.append("-")
        return " | ".join(out)

    def side(w: dict, which: str) -> dict:
        return w["offsets_topic"][which]

    def requests(w: dict, which: str) -> str:
        total = side(w, which)["requests_librdkafka"]["total"]
        return str(total) if which == "admin" else f"{total} + reader {w['offsets_topic']['reader_requests']['total']}"

    def by_type(w: dict, which: str) -> str:
        r = side(w, which)["requests_librdkafka"]
        return ", ".join(f"{k.split(' ')[0]} {v}" for k, v in r["by_type"].items())

    def catch_up(w: dict, which: str) -> str:
        if which == "admin":
            return "none"
        c = w["offsets_topic"]["catch_up"]
        return f"{c['wall_s']} s, {c['records']} records"

    def wall(w: dict, which: str) -> str:
        r = side(w, which)["wall_s"]
        return f"{r['median']} ({r['best']})"

    def cpu(w: dict, which: str) -> str:
        r = side(w, which)
        return f"{r['cpu_process_s']['median']} / {r['cpu_main_thread_s']['median']}"

    def equal(w: dict, which: str) -> str:
        return "-" if which == "admin" else w["offsets_topic"]["rows_equal_rounds"]

    def ratio(w: dict, which: str) -> str:
        return "1" if which == "admin" else f"**{w['offsets_topic']['topic_over_admin_median']}**"

    header = " | ".join(f"{n} {label}" for n in names for label in ("admin", "offsets-topic"))
    return [
        "### Offsets source: `admin` and `offsets-topic`",
        "",
        "The same collector with each `offsets_source`, alternating on the same broker after the",
        "ours/bare timing above (the admin side is *ours*, timed again in this rotation). The",
        "offsets-topic side is timed after its start-up catch-up (one full read of `__consumer_offsets`,",
        "timed on its own); its reader's own requests (long-poll Fetches, going on between cycles too)",
        "are counted over the cycle apart from its admin client's.",
        "Rows: (group, topic, partition, committed, end offset, lag) of both sources from the same round.",
        "",
        f"| | {header} |",
        "|---|" + "---|" * (2 * len(names)),
        f"| wall s, median (best) | {cells(wall)} |",
        f"| **wall / admin's** (median) | {cells(ratio)} |",
        f"| CPU s: process / main thread | {cells(cpu)} |",
        f"| requests per cycle (librdkafka) | {cells(requests)} |",
        f"| requests by type (librdkafka, admin client) | {cells(by_type)} |",
        f"| `requests` field | {cells(lambda w, x: side(w, x)['requests_librdkafka']['requests_field'])} |",
        f"| start-up catch-up | {cells(catch_up)} |",
        f"| rows equal admin's (rounds) | {cells(equal)} |",
        "",
    ]


def pages_section(data: dict, targets: list) -> list[str]:
    res = data["results"]
    lines = [
        "## Pages (`bench/bench_pages.py`)",
        "",
        f"{data['groups']} groups x {data['partitions_per_group']} partitions; server time per request",
        "(sequential requests from one client, one of each page in turn), as a ratio to a trivial page",
        "on the same server.",
        "",
        "| Page | p50 ms | p95 ms | p50 ratio | p95 ratio | n |",
        "|---|---|---|---|---|---|",
    ]
    for label, r in res.items():
        lines.append(
            f"| {label} | {r['p50_ms']} | {r['p95_ms']} | {r.get('ratio_p50', '-')} | {r.get('ratio_p95', '-')} "
            f"| {r['n']} |"
        )
        if "ratio_p50" in r:
            targets.append(
                (
                    f"Page '{label}': p50 and p95 <= 3x trivial",
                    f"{r['ratio_p50']}x / {r['ratio_p95']}x",
                    r["ratio_p50"] <= 3 and r["ratio_p95"] <= 3,
                )
            )
    return [*lines, ""]


def fanout_section(data: dict, targets: list) -> list[str]:
    s = data.get("summary") or {}
    targets.append(
        (
            f"Fan-out: the groups-table fragment rendered once per update ({data['clients']} clients)",
            f"renders per update: {s.get('groups_table_renders_per_update')}",
            s.get("rendered_once"),
        )
    )
    lines = [
        "## Live fan-out (`bench/bench_fanout.py`)",
        "",
        f"{data['clients']} websocket clients on the groups page (sorted by lag), {data['groups']} groups;",
        "each update commits new offsets for one group, which moves it to the top of the table. Times",
        "are from the poller's cycle end (collect + store + history done) in the server process.",
        "",
        "| Measure | Median | Max / note |",
        "|---|---|---|",
        f"| cycle end -> last client has the new groups table, ms | {s.get('last_client_ms_median')} "
        f"| {s.get('last_client_ms_max')} |",
        f"| cycle end -> first client, ms | {s.get('first_client_ms_median')} | |",
        f"| first -> last client spread, ms | {s.get('spread_ms_median')} | |",
        f"| cycle end -> publisher rendered, ms | {s.get('render_ms_median')} | |",
        f"| server CPU per update (cycle end -> every consumer sent), ms | {s.get('server_cpu_ms_median')} | "
        f"of which rendering: {s.get('server_cpu_render_ms_median')} |",
        f"| publisher renders of groups-table per update | {s.get('groups_table_renders_per_update')} | "
        f"{data['clients']} clients received it: {s.get('all_clients_received')} |",
        f"| groups-table fragment size, bytes | {s.get('groups_table_bytes')} | |",
        f"| connecting {data['clients']} clients, s | {data.get('connect_s')} | "
        f"renders on connect (one per client and fragment): {data.get('connect_renders')} |",
        "",
    ]
    return lines


def reprocess_section(data: dict, targets: list) -> list[str]:
    if "ratio" in data and "target_ratio" in data:
        targets.append(
            (
                f"Reprocess (as the dashboard runs it, SQLite ledger): ours >= {data['target_ratio']}x"
                " the bare copy loop's throughput",
                f"{data['ratio']}x; engine alone (memory ledger) {data.get('memory_ledger_ratio')}x"
                f" (correct: {data.get('correct')})",
                data.get("meets_target", data["ratio"] >= data["target_ratio"]) and data.get("correct", True),
            )
        )
    keys = [k for k, v in data.items() if not isinstance(v, dict | list)]
    lines = ["## DLQ reprocess (`bench/bench_reprocess.py`)", "", "| Measure | Value |", "|---|---|"]
    lines += [f"| {k} | {data[k]} |" for k in keys]
    return [*lines, ""]


def schemas_section(data: dict, targets: list) -> list[str]:
    targets.append(
        (
            f"Message browser, {data['records_per_page']} Avro records decoded: "
            f"<= {data['target_ratio']}x raw bytes (p50)",
            f"{data['ratio_p50']}x",
            data["ratio_met"],
        )
    )
    targets.append(
        (
            "Schema registry requests per warm page: 0",
            f"{data['registry_requests_per_warm_page']} (first page {data['registry_requests_first_page']})",
            data["requests_met"],
        )
    )
    raw, avro = data["raw_page"], data["avro_page"]
    return [
        "## Schema-aware payloads (`bench/bench_schemas.py`)",
        "",
        "| Page | p50 ms | p95 ms | n |",
        "|---|---|---|---|",
        f"| raw bytes (no registry) | {raw['p50_ms']} | {raw['p95_ms']} | {raw['n']} |",
        f"| Avro, decoded | {avro['p50_ms']} | {avro['p95_ms']} | {avro['n']} |",
        "",
        *protobuf_lines(data),
    ]


def protobuf_lines(data: dict) -> list[str]:
    """The decoder's warm cost per record by format and a new .proto text schema's first use."""
    if "decode_us_per_record" not in data:
        return []
    us, first = data["decode_us_per_record"], data["first_use_ms"]
    return [
        f"Warm decode per record, the same two-field record ({data['decodes_per_format']} each, "
        f"median of {data.get('rounds', 5)} interleaved rounds):",
        "",
        "| Format | µs / record |",
        "|---|---|",
        *[f"| {name.replace('_', ' ')} | {value} |" for name, value in us.items()],
        "",
        f"Protobuf (.proto text) / Avro {data['protobuf_text_vs_avro']}x, / JSON Schema "
        f"{data['protobuf_text_vs_json']}x; Protobuf (serialized) / Avro {data['protobuf_serialized_vs_avro']}x.",
        f"First use of a new schema id (fresh decoder, p50 of {first['n']}): .proto text "
        f"{first['protobuf_text_p50']} ms (registry fetch + protoc child), serialized "
        f"{first['protobuf_serialized_p50']} ms, protoc alone {first['protoc_alone_p50']} ms; text / serialized "
        f"{data['first_use_text_vs_serialized']}x, first use / warm decode {data['first_use_text_vs_warm_decode']}x.",
        "",
    ]


def browse_section(data: dict, targets: list) -> list[str]:
    ratio = data["merged_over_single"]
    targets.append(
        (
            f"Message browser: newest page of {data['partitions']} partitions merged <= 2x one partition (p50)",
            f"{ratio}x",
            ratio <= 2,
        )
    )
    return [
        "## Message browser (`bench/bench_browse.py`)",
        "",
        f"{data['partitions']} partitions x {data['records_per_partition']} records; the newest 20, in-process.",
        "",
        "| Read | p50 ms | p95 ms | n |",
        "|---|---|---|---|",
        *(
            f"| {label} | {data[key]['p50_ms']} | {data[key]['p95_ms']} | {data[key]['n']} |"
            for key, label in (
                ("single", "one partition"),
                ("merged", "all partitions merged by time"),
                ("old_reader", "the old reader (read_records, one partition)"),
                ("scan_10k", f"a search scanning {data['scanned']:,} records"),
            )
        ),
        "",
        f"merged / single {ratio}; single / old reader {data['single_over_old_reader']}; "
        f"scan / merged {data['scan_10k_over_merged']}. (docs/message-browser.md)",
        "",
    ]


if __name__ == "__main__":
    main()
