"""Burrow's own evaluator cases, judged by our rules: Burrow's answer, ours, and why they differ.

The cases are the data of linkedin/Burrow's core/internal/evaluator/caching_test.go (the table its
rules are checked against, cases 0 to 15) and of the two groups its storage fixture loads
(core/internal/storage/fixtures.go). Burrow judges a window of commits; we judge polled samples.
Each case is translated twice, and both must give our documented answer:

- commit by commit: one Sample per commit (its offset; log end = offset + the commit's lag, unknown
  when Burrow's lag is nil), then Burrow's older broker offsets as samples spread evenly between
  the last commit and `now`, then the sample at `now` (last offset, last offset + current lag);
- polled: a sample every 5 s ending at `now`, back to the first commit: the committed offset of
  the latest commit by then, the log end interpolated linearly between the known ends and rounded
  down (the records completely written by then).

The window is Burrow's whole window (ours would be shorter: 24 samples), judged complete
(min_samples 2, as Burrow judges these). Ownership is what the case describes: a consumer that
stopped committing (Burrow's STOP) owns nothing; one that commits the same offset (STALL) owns it.
Where the answers differ, the reason is in docs/lag-status.md, "Burrow's own cases", row by row.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kafka_admin.figures.status import LagStatus, Sample, evaluate_partition

OK, WARN, REWIND, STALL, STOP = LagStatus.OK, LagStatus.WARN, LagStatus.REWIND, LagStatus.STALL, LagStatus.STOP
POLL_S = 5.0
DOC = Path(__file__).resolve().parents[2] / "docs" / "lag-status.md"


@dataclass(frozen=True)
class Case:
    name: str
    commits: tuple[tuple[int, int, int | None], ...]  # (offset, timestamp in ms, lag or None), oldest first
    broker: tuple[int, ...]  # Burrow's recent broker (log end) offsets, newest first
    current_lag: int
    now: float  # seconds
    burrow: LagStatus
    ours: LagStatus
    owner: bool = True
    kwargs: dict = field(default_factory=dict)


def steady(offsets, lags, t0_ms=100_000, step_ms=100_000):
    return tuple((o, t0_ms + i * step_ms, lag) for i, (o, lag) in enumerate(zip(offsets, lags, strict=True)))


# Cases 9 and 10: fifteen commits about a second apart, each at lag 0.
SECOND_COMMITS = tuple(
    (792748079 + i, t, 0)
    for i, t in enumerate(
        (
            1512224618356,
            1512224619362,
            1512224620366,
            1512224621367,
            1512224622370,
            1512224623373,
            1512224624378,
            1512224625379,
            1512224626383,
            1512224627383,
            1512224628383,
            1512224629388,
            1512224630391,
            1512224631394,
            1512224632397,
        )
    )
)
RISING = (1000, 2000, 3000, 4000, 5000)
FLAT = (1000,) * 5
REWOUND = (1000, 2000, 3000, 2000, 4000)
REWIND_LAGS = (100, 150, 200, 1250, 300)

CASES = [
    Case("0", steady(RISING, (0, 50, 100, 150, 200)), (5200,), 200, 600, OK, OK),
    Case("1", steady(RISING, (0, 50, 100, 150, 200)), (5200,), 200, 900, OK, OK),
    Case("2", steady(RISING, (0, 50, 100, 150, 200)), (5200,), 200, 1000, STOP, STOP, owner=False),
    Case("3", steady(RISING, (50, 100, 150, 200, 250)), (5250,), 250, 1000, STOP, STOP, owner=False),
    Case("4", steady(FLAT, (0, 50, 100, 150, 200)), (1200,), 200, 600, OK, STALL),
    Case("5", steady(FLAT, (100, 150, 200, 250, 300)), (1300,), 300, 600, STALL, STALL),
    Case("6", steady(FLAT, (100,) * 5), (1100,), 100, 600, STALL, STALL),
    Case("7", steady(REWOUND, REWIND_LAGS), (4300,), 300, 600, OK, OK),
    Case("8", steady(RISING, (50, 100, 150, 200, 250)), (5250,), 0, 1000, OK, OK),
    Case(
        "9",
        SECOND_COMMITS,
        (792749024, 792749000, 792748800, 792748600, 792748500),
        931,
        1512224650,
        STOP,
        OK,
        owner=False,
    ),
    Case("10", SECOND_COMMITS, (792748094, 792748093, 792748093, 792748093), 1, 1512224650, OK, OK),
    Case(
        "11",
        tuple(
            (1000 + 500 * i, 100_000 + 50_000 * i, (0, 50, 100, 150, 200)[i // 2] if i % 2 == 0 else None)
            for i in range(10)
        ),
        (5700,),
        200,
        600,
        OK,
        OK,
    ),
    # 12 to 14 run with Burrow's allowed-lag setting (1, 99, 99); ours has none (see the docs).
    Case("12", ((1000, 100_000, 2), (2000, 200_000, 1), (2000, 300_000, 1)), (2001,), 1, 550, OK, OK),
    Case("13", steady(FLAT, (100, 150, 200, 250, 300)), (1300,), 300, 600, STALL, STALL),
    Case("14", steady(REWOUND, REWIND_LAGS), (4300,), 300, 600, OK, OK),
    Case("15", steady((1000, 2000, 3000, 2000, 2500), REWIND_LAGS), (4300,), 300, 600, REWIND, OK),
    # The storage fixture: commits every 10 s from 100 s before now, the log end at 4321 throughout.
    Case(
        "testgroup",
        tuple((1000 + 100 * i, 900_000 + 10_000 * i, 4321 - 1000 - 100 * i) for i in range(10)),
        (4321,),
        2421,
        1000,
        OK,
        OK,
    ),
    Case(
        "testgroup2",
        tuple((1000 + 100 * i, 900_000 + 10_000 * i, 4321 - 1000 - 100 * i) for i in range(5)),
        (4321,),
        2921,
        1000,
        STOP,
        STOP,
        owner=False,
    ),
]


def as_commits(case: Case) -> list[Sample]:
    """One sample per commit, Burrow's older broker offsets after the last one, and `now`."""
    samples = [Sample(ts / 1000, offset, None if lag is None else offset + lag) for offset, ts, lag in case.commits]
    last_offset, last_t = case.commits[-1][0], case.commits[-1][1] / 1000
    older = list(reversed(case.broker[1:]))
    spacing = (case.now - last_t) / (len(older) + 1)
    samples += [Sample(last_t + spacing * (j + 1), last_offset, end) for j, end in enumerate(older)]
    samples.append(Sample(case.now, last_offset, last_offset + case.current_lag))
    return samples


def as_polls(case: Case, every: float = POLL_S) -> list[Sample]:
    """A sample every `every` seconds up to `now`: the latest commit by then, the end interpolated."""
    commits = as_commits(case)
    ends = [(s.t, s.end) for s in commits if s.end is not None]
    first = case.commits[0][1] / 1000
    times = []
    t = case.now
    while t >= first:
        times.append(t)
        t -= every
    samples = []
    for t in reversed(times):
        committed = [offset for offset, ts, _ in case.commits if ts / 1000 <= t][-1]
        samples.append(Sample(t, committed, _interpolate(ends, t)))
    return samples


def _interpolate(points: list[tuple[float, int]], t: float) -> int | None:
    before = [p for p in points if p[0] <= t]
    after = [p for p in points if p[0] >= t]
    if not before:
        return None
    (t0, e0), (t1, e1) = before[-1], (after[0] if after else before[-1])
    return e0 if t1 == t0 else math.floor(e0 + (e1 - e0) * (t - t0) / (t1 - t0))


def judge(samples: list[Sample], case: Case, *, owner: bool | None = None) -> LagStatus:
    return evaluate_partition(
        samples, min_samples=2, now=case.now, has_owner=case.owner if owner is None else owner, **case.kwargs
    ).status


def documented() -> dict[str, tuple[str, str, str]]:
    """The rows of docs/lag-status.md's table of Burrow's cases: case -> (Burrow, ours, why)."""
    text = DOC.read_text()
    section = text[text.index("## Burrow's own cases") :]
    section = section[: section.find("\n## ", 3)] if "\n## " in section[3:] else section
    rows = {}
    for line in section.splitlines():
        m = re.match(r"\|\s*([\w]+)\s*\|\s*(\w+)\s*\|\s*(\w+)\s*\|(.*)\|\s*$", line)
        if m and m.group(1) != "case":
            rows[m.group(1)] = (m.group(2), m.group(3), m.group(4).strip())
    return rows


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
class TestBurrowCases:
    def test_commit_by_commit(self, case):
        assert judge(as_commits(case), case) == case.ours

    @pytest.mark.parametrize("every", [POLL_S, 1.0, 30.0])
    def test_polled(self, case, every):
        assert judge(as_polls(case, every), case) == case.ours

    def test_ownership_only_separates_stop_from_stall(self, case):
        other = {STOP: STALL, STALL: STOP}.get(case.ours, case.ours)
        assert judge(as_commits(case), case, owner=not case.owner) == other
        assert judge(as_polls(case), case, owner=not case.owner) == other

    def test_documented(self, case):
        burrow, ours, why = documented()[case.name]
        assert (burrow, ours) == (case.burrow.value, case.ours.value)
        if case.burrow != case.ours:
            assert len(why) > 40, f"case {case.name}: ours differs from Burrow's answer without a documented reason"


def test_every_documented_case_is_in_the_table():
    assert set(documented()) == {c.name for c in CASES}


def test_case_15_with_a_log_that_never_shrinks_is_rewind_as_in_burrow():
    """Case 15's lags put the log end at 2,800 at its last commit, below the 3,250 before and below
    the old position 3,000: a log cut beneath the consumer, which ours does not call REWIND (the
    truncation guard). Read with the log end held at its highest, ours agrees with Burrow."""
    case = next(c for c in CASES if c.name == "15")
    for samples in (as_commits(case), as_polls(case)):
        highest, monotone = 0, []
        for s in samples:
            highest = max(highest, s.end)
            monotone.append(Sample(s.t, s.committed, highest))
        assert judge(monotone, case) == REWIND


def test_case_9_is_burrow_s_stop_without_the_60_s_wait():
    """Case 9's records have waited 14 s: ours waits min_stuck_s (60 s) for clients that commit
    every 30 s (Kafka Streams); without that wait ours says STOP there too."""
    case = next(c for c in CASES if c.name == "9")
    samples = as_commits(case)
    assert evaluate_partition(samples, min_samples=2, now=case.now, has_owner=False, min_stuck_s=0).status == STOP


def test_the_translations():
    case = next(c for c in CASES if c.name == "9")
    commits = as_commits(case)
    assert len(commits) == 15 + 5
    assert [s.end - 792748093 for s in commits[15:]] == [407, 507, 707, 907, 931]
    assert commits[-1].t == case.now
    polls = as_polls(case)
    assert [round(s.t - case.now) for s in polls] == [-30, -25, -20, -15, -10, -5, 0]
    assert polls[0].committed == 792748080 and polls[-1] == commits[-1]
    eleven = next(c for c in CASES if c.name == "11")
    assert [s.end for s in as_commits(eleven)[:3]] == [1000, None, 2050]
    assert [s.end for s in as_polls(eleven)[:3]] == [1000, 1052, 1105]
