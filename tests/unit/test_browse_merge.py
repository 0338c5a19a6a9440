"""The merge of partitions by time and the search predicate, without a broker (kafka_admin.records.merge, match)."""

from __future__ import annotations

import pytest

from kafka_admin.records.match import Match
from kafka_admin.records.merge import Span, first_window, format_cursor, parse_cursor, scan
from kafka_admin.records.read import Record, make_record


def rec(p: int, o: int, ts: int | None, key: bytes | None = None, value: bytes | None = b"v", headers=()) -> Record:
    return make_record("t", p, o, ts, "CreateTime", key, value, tuple(headers), len(key or b""), len(value or b""))


class Log:
    """Partitions as lists of records (offset = index) and a fetch that counts its windows."""

    def __init__(self, partitions: dict[int, list[Record]], gaps: set[tuple[int, int]] = frozenset()) -> None:
        self.partitions, self.gaps, self.windows = partitions, gaps, []

    def fetch(self, windows):
        self.windows.append(dict(windows))
        got = {
            p: [r for r in self.partitions[p][a:b] if (p, r.offset) not in self.gaps] for p, (a, b) in windows.items()
        }
        return got, None

    def spans(self, newest: bool = True) -> dict[int, Span]:
        return {p: Span(0, len(rs), len(rs) if newest else 0) for p, rs in self.partitions.items()}


def two_partitions() -> Log:
    # partition 0 holds even timestamps, partition 1 odd ones: merged they alternate
    return Log({0: [rec(0, i, 2 * i) for i in range(10)], 1: [rec(1, i, 2 * i + 1) for i in range(10)]})


class TestScan:
    def test_newest_first_alternates(self):
        log = two_partitions()
        out = scan(log.spans(), "newest", 4, 100, log.fetch)
        assert [r.timestamp_ms for r in out.records] == [19, 18, 17, 16]
        assert out.positions == {0: 8, 1: 8} and not out.exhausted and out.scanned == 4

    def test_pages_cover_everything_once(self):
        log, seen, spans = two_partitions(), [], None
        spans = log.spans()
        while True:
            out = scan(spans, "newest", 3, 100, log.fetch)
            seen += [r.timestamp_ms for r in out.records]
            spans = {p: Span(0, 10, out.positions[p]) for p in spans}
            if out.exhausted:
                break
        assert seen == list(range(19, -1, -1))

    def test_oldest_forward(self):
        log = two_partitions()
        out = scan(log.spans(newest=False), "oldest", 5, 100, log.fetch)
        assert [r.timestamp_ms for r in out.records] == [0, 1, 2, 3, 4] and out.positions == {0: 3, 1: 2}

    def test_cap_counts_records_looked_at(self):
        log = two_partitions()
        out = scan(log.spans(), "newest", 5, 7, log.fetch, match=lambda r: r.timestamp_ms == 3)
        assert out.records == [] and out.scanned == 7 and not out.exhausted
        more = scan(
            {p: Span(0, 10, o) for p, o in out.positions.items()},
            "newest",
            5,
            100,
            log.fetch,
            match=lambda r: r.timestamp_ms == 3,
        )
        assert [r.timestamp_ms for r in more.records] == [3] and more.scanned == 13 and more.exhausted

    def test_gaps_in_offsets_read_the_window_before(self):
        log = Log({0: [rec(0, i, i) for i in range(10)]}, gaps={(0, 9), (0, 8), (0, 7)})
        out = scan(log.spans(), "newest", 2, 100, log.fetch, window=2)
        assert [r.offset for r in out.records] == [6, 5]

    def test_missing_timestamps_sort_last_and_ties_are_stable(self):
        log = Log({0: [rec(0, 0, None), rec(0, 1, 5)], 1: [rec(1, 0, 5)]})
        out = scan(log.spans(), "newest", 3, 100, log.fetch)
        assert [(r.partition, r.offset) for r in out.records] == [(1, 0), (0, 1), (0, 0)]

    def test_a_failed_fetch_keeps_positions(self):
        log = two_partitions()
        out = scan(log.spans(), "newest", 3, 100, lambda w: ({}, "broker gone"))
        assert out.error == "broker gone" and out.positions == {0: 10, 1: 10} and not out.exhausted

    def test_windows_grow_and_stay_bounded(self):
        assert first_window(20, 3, False) == 20 and first_window(20, 1000, False) == 2
        assert first_window(20, 3, True) == 200 and first_window(20, 1000, True) == 2


class TestCursor:
    def test_round_trip(self):
        assert parse_cursor(format_cursor({2: 5, 0: 10**12})) == {0: 10**12, 2: 5}
        assert parse_cursor("") == {}

    @pytest.mark.parametrize("text", ["0:", "a:1", "0:-1", "0:1;1:2", "0:" + "9" * 25, "\uff11:2"])
    def test_refused(self, text):
        with pytest.raises(ValueError, match="cursor"):
            parse_cursor(text)


class TestMatch:
    def test_scopes(self):
        r = rec(0, 0, 1, key=b"Order-42", value=b'{"state": "FAILED"}', headers=[("trace-id", b"abc"), ("n", None)])
        assert Match("order-4", "key")(r) and not Match("order-4", "value")(r)
        assert Match("failed", "value")(r) and Match("failed")(r)
        assert Match("TRACE", "headers")(r) and Match("abc", "headers")(r) and not Match("abc", "key")(r)

    def test_binary_and_null(self):
        r = rec(0, 0, 1, key=None, value=b"\x00\xffPING\x01")
        assert Match("ping", "value")(r) and not Match("x", "key")(r)

    def test_unicode_is_matched_as_utf8(self):
        assert Match("ünï")(rec(0, 0, 1, value="Ünï-ünï".encode()))

    @pytest.mark.parametrize(("text", "scope"), [("", "any"), ("x" * 201, "any"), ("x", "regex")])
    def test_bad_searches(self, text, scope):
        with pytest.raises(ValueError):
            Match(text, scope)
