"""One consumer group's status windows and runs, every partition in a few compact arrays.

Why: the tracker kept a SampleWindow (two arrays) and a Run object per (group, topic, partition),
in dicts keyed by 3-tuples: about 1.4 KB a group-partition, most of the server's memory at 500,000
of them. Every partition of a group is sampled at the same cycle times (the tracker pushes one
sample per partition of the group's offsets at each cycle's time, and forgets the partitions it no
longer has), so the times are kept once per group, and each partition (a *slot*) keeps its window
as the newest `lens[k]` of those times (fewer for a partition that joined later) with its
(committed, end) values in a fixed-stride block, and its run in two parallel arrays.

The push rules are window.SampleWindow's (status.push): a sample at the newest time replaces it, an
older one clears the window, at most `max_len` are kept. A slot that missed a sample the others
took (stored history with a gap: seeding) no longer ends at the group's times; it keeps its own
SampleWindow (`_odd`) until its times are the group's newest again.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from itertools import pairwise

from kafka_admin.figures.run import Run, Sample, advance
from kafka_admin.figures.window import UNKNOWN, SampleWindow

NAN = float("nan")
# The block's element types, narrowest first, with the value each takes for UNKNOWN (its minimum)
# and its largest: a slot's values are stored as differences from its own base (_bases), so a
# window whose offsets lie within 32,767 of each other takes 2 bytes a value, not 8.
WIDTHS = {"h": (-(2**15), 2**15 - 1), "i": (-(2**31), 2**31 - 1), "q": (-(2**63), 2**63 - 1)}
WIDER = {"h": "i", "i": "q"}
_I = 5  # per slot in _ri: committed, start_end, end, samples (0: no run), moved
_F = 3  # per slot in _rf: t, waiting_t (NaN: None), last_t
Row = tuple[str, int, int | None, int | None]  # topic, partition, committed, end


class GroupWindows:
    """The windows and runs of one group's partitions, slot k being (topics[k], parts[k])."""

    __slots__ = (
        "_bases",
        "_block",
        "_lens",
        "_odd",
        "_previous",
        "_rf",
        "_ri",
        "max_len",
        "parts",
        "times",
        "topics",
    )

    def __init__(self, max_len: int) -> None:
        if max_len < 1:
            raise ValueError("max_len must be at least 1")
        self.max_len = max_len
        self.topics: list[str] = []
        self.parts = array("q")
        self.times = array("d")  # the group's newest sample times, oldest first (do not change them)
        self._lens = array("i")  # each slot's window: the newest lens[k] of `times`
        # Slot k: committed offsets at [2Mk, 2Mk + M), ends at [2Mk + M, 2Mk + 2M), each window in the
        # last lens[k] places of its half, as differences from _bases[k] (the type's minimum: UNKNOWN).
        self._block = array("h")
        self._bases = array("q")
        self._ri = array("q")
        self._rf = array("d")
        self._previous: dict[int, Run] | None = None  # a run's previous run (rare: one sample old)
        self._odd: dict[int, SampleWindow] | None = None

    # -- slots -------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.topics)

    def tps(self) -> list[tuple[str, int]]:
        return list(zip(self.topics, self.parts, strict=True))

    def slot(self, topic: str, partition: int) -> int | None:
        for k, (t, p) in enumerate(zip(self.topics, self.parts, strict=True)):
            if p == partition and t == topic:
                return k
        return None

    def matches(self, offsets: Sequence) -> bool:
        """The slots are the partitions of `offsets` (objects with .topic, .partition), in order."""
        topics, parts = self.topics, self.parts
        if len(offsets) != len(topics):
            return False
        return all(o.partition == parts[k] and o.topic == topics[k] for k, o in enumerate(offsets))

    def reslot(self, tps: Sequence[tuple[str, int]]) -> None:
        """Make the slots exactly `tps`, in that order: kept partitions keep their state, new ones
        start empty, the others are forgotten."""
        old = {tp: k for k, tp in enumerate(self.tps())}
        m2, size = 2 * self.max_len, len(tps)
        # Made at their size (repeat and slices allocate exactly; extend would over-allocate).
        low = WIDTHS[self._block.typecode][0]
        block, lens = array(self._block.typecode, [low]) * (m2 * size), array("i", [0]) * size
        bases = array("q", [0]) * size
        ri, rf = array("q", [0]) * (_I * size), array("d", [NAN]) * (_F * size)
        previous: dict[int, Run] = {}
        odd: dict[int, SampleWindow] = {}
        for new, tp in enumerate(tps):
            k = old.get(tp)
            if k is None:
                continue
            block[m2 * new : m2 * (new + 1)] = self._block[m2 * k : m2 * (k + 1)]
            lens[new] = self._lens[k]
            bases[new] = self._bases[k]
            ri[_I * new : _I * (new + 1)] = self._ri[_I * k : _I * (k + 1)]
            rf[_F * new : _F * (new + 1)] = self._rf[_F * k : _F * (k + 1)]
            if self._previous and k in self._previous:
                previous[new] = self._previous[k]
            if self._odd and k in self._odd:
                odd[new] = self._odd[k]
        self.topics = [t for t, _ in tps]
        self.parts = array("q", [p for _, p in tps])
        self._block, self._lens, self._ri, self._rf, self._bases = block, lens, ri, rf, bases
        self._previous = previous or None
        self._odd = odd or None

    def keep(self, tps: Iterable[tuple[str, int]]) -> None:
        """Forget the slots not in `tps` (the order of the others stays)."""
        wanted = set(tps)
        kept = [tp for tp in self.tps() if tp in wanted]
        if len(kept) != len(self.topics):
            self.reslot(kept)

    # -- pushing samples -----------------------------------------------------------------------------
    def push_offsets(self, t: float, offsets: Sequence) -> None:
        """One cycle's sample of every partition of `offsets` (PartitionOffsets, in order) at `t`;
        the partitions not among them are forgotten."""
        if not self.matches(offsets):
            self.reslot([(o.topic, o.partition) for o in offsets])
        cs = [o.committed for o in offsets]
        es = [o.end_offset for o in offsets]
        self._push(t, cs, es, None)

    def push_rows(self, t: float, rows: Sequence[Row]) -> None:
        """A stored sample at `t` of some partitions (seeding); the others keep their windows."""
        index = {tp: k for k, tp in enumerate(self.tps())}
        new = [(topic, p) for topic, p, _, _ in rows if (topic, p) not in index]
        if new:
            self.reslot(self.tps() + list(dict.fromkeys(new)))
            index = {tp: k for k, tp in enumerate(self.tps())}
        n = len(self.topics)
        cs: list[int | None] = [None] * n
        es: list[int | None] = [None] * n
        present = [False] * n
        for topic, p, c, e in rows:
            k = index[(topic, p)]
            cs[k], es[k], present[k] = c, e, True
        self._push(t, cs, es, None if all(present) else present)

    def _push(self, t: float, cs: list, es: list, present: list[bool] | None) -> None:
        """Push slot k's (cs[k], es[k]) at `t` for every slot present (None: all), window then run."""
        self._push_windows(t, [_stored(c) for c in cs], [_stored(e) for e in es], present)
        for k in range(len(cs)):
            if present is None or present[k]:
                self._advance(k, t, cs[k], es[k])

    def _push_windows(self, t: float, cs: list[int], es: list[int], present: list[bool] | None) -> None:
        times, lens, block, m = self.times, self._lens, self._block, self.max_len
        n = len(times)
        odd = self._odd
        if n and t < times[-1]:
            mode = 2  # older: every window pushed starts again
        elif n and t == times[-1]:
            mode = 1  # the same time: replaces the newest sample
        else:
            mode = 0
        if present is not None and mode != 1:
            for k, here in enumerate(present):
                if not here and lens[k] > 0 and not (odd and k in odd):
                    self._to_odd(k)  # it misses this sample: no longer ends at the group's times
            odd = self._odd
        if odd:
            for k in list(odd):
                if present is None or present[k]:
                    odd[k].push(Sample(t, cs[k], es[k]), m)  # stored values read back as themselves
        if mode == 2:
            del times[:]
            times.append(t)
        elif mode == 0:
            if n == m:
                del times[0]
            times.append(t)
            if block:  # every slot's halves shift one place: the oldest sample leaves
                block[:-1] = block[1:]
        top = len(times)
        bases = self._bases
        low, high = WIDTHS[block.typecode]
        for k in range(len(lens)):
            if (present is not None and not present[k]) or (odd and k in odd):
                continue
            if mode == 2:
                lens[k] = 1
            elif mode == 0 or lens[k] == 0:
                lens[k] = min(lens[k] + 1, top)
            c, e, b = cs[k], es[k], bases[k]
            c = low if c == UNKNOWN else c - b
            e = low if e == UNKNOWN else e - b
            if (
                low <= c <= high
                and low <= e <= high
                and (c == low) is (cs[k] == UNKNOWN)
                and (e == low) is (es[k] == UNKNOWN)
            ):
                at = 2 * m * k + m - 1
                block[at] = c
                block[at + m] = e
            else:  # out of the slot's range: a new base, or a wider type for the group
                older = self._decoded(k, lens[k] - 1, skip=1)
                self._write(k, [*older[0], cs[k]], [*older[1], es[k]])
                block = self._block
                low, high = WIDTHS[block.typecode]
        if odd:
            self._regular_again()

    def _to_odd(self, k: int) -> None:
        window = self.window(k)
        assert isinstance(window, SampleWindow)
        if self._odd is None:
            self._odd = {}
        self._odd[k] = window
        self._lens[k] = 0

    def _regular_again(self) -> None:
        """Back into the block: the odd windows whose times are the group's newest."""
        odd, times = self._odd, self.times
        assert odd is not None
        for k, window in list(odd.items()):
            size = len(window)
            if size > len(times) or window.times != times[len(times) - size :]:
                continue
            offsets = window.offsets()
            self._lens[k] = size
            self._write(k, offsets[0::2].tolist(), offsets[1::2].tolist())
            del odd[k]
        if not odd:
            self._odd = None

    def extend_same(self, times: Sequence[float]) -> None:
        """window.extend_same for every slot: copies of its newest sample at each of `times` (a quiet
        group's held-back samples), in one step when they all follow the newest in increasing order.
        The runs are left alone (run_after)."""
        if not times:
            return
        m, block, lens, own = self.max_len, self._block, self._lens, self.times
        n = len(self.topics)
        newest = [(block[2 * m * k + m - 1], block[2 * m * k + 2 * m - 1]) for k in range(n)]
        ordered = all(b > a for a, b in pairwise(times))
        if self._odd or not own or times[0] <= own[-1] or not ordered:
            for t in times:  # one by one, as push() would (a slot may leave or join the odd ones)
                odd = self._odd or {}
                pairs = [odd[k].offsets()[-2:] if k in odd else self.newest(k) for k in range(n)]
                self._push_windows(t, [c for c, _ in pairs], [e for _, e in pairs], None)
            return
        taken = list(times[-m:])
        s = len(taken)
        own.extend(taken)
        if len(own) > m:
            del own[: len(own) - m]
        if s < len(block):
            block[: len(block) - s] = block[s:]
        for k, (c, e) in enumerate(newest):
            base = 2 * m * k
            block[base + m - s : base + m] = array(block.typecode, [c]) * s  # as stored: the same base
            block[base + 2 * m - s : base + 2 * m] = array(block.typecode, [e]) * s
            lens[k] = min(lens[k] + len(times), len(own))

    def _decoded(self, k: int, count: int, skip: int = 0) -> tuple[list[int], list[int]]:
        """Slot k's newest `count` (committed, end) values, oldest first, UNKNOWN where unknown
        (skip: leave out that many newest places)."""
        m, block, b = self.max_len, self._block, self._bases[k]
        low = WIDTHS[block.typecode][0]
        at = 2 * m * k + m - skip
        committed = [UNKNOWN if x == low else x + b for x in block[at - count : at]]
        ends = [UNKNOWN if x == low else x + b for x in block[at + m - count : at + m]]
        return committed, ends

    def _write(self, k: int, committed: list[int], ends: list[int]) -> None:
        """Slot k's window values (its newest len(committed), oldest first), from a new base: its
        newest known offset; the group's type widens while they do not fit."""
        known = [v for v in (*committed, *ends) if v != UNKNOWN]
        b = next((v for v in (committed[-1], ends[-1], *known) if v != UNKNOWN), 0)
        low, high = WIDTHS[self._block.typecode]
        while not all(low < v - b <= high for v in known):
            self._widen()
            low, high = WIDTHS[self._block.typecode]
        self._bases[k] = b
        m, count = self.max_len, len(committed)
        at = 2 * m * k + m
        block = self._block
        block[at - count : at] = array(block.typecode, [low if v == UNKNOWN else v - b for v in committed])
        block[at + m - count : at + m] = array(block.typecode, [low if v == UNKNOWN else v - b for v in ends])

    def _widen(self) -> None:
        """The next wider element type for the whole block (the differences stay, UNKNOWN moves)."""
        old = self._block.typecode
        wider = WIDER[old]
        was, now = WIDTHS[old][0], WIDTHS[wider][0]
        self._block = array(wider, [now if x == was else x for x in self._block])

    # -- reading windows ----------------------------------------------------------------------------
    def length(self, k: int) -> int:
        if self._odd and k in self._odd:
            return len(self._odd[k])
        return self._lens[k]

    def has_odd(self) -> bool:
        return bool(self._odd)

    def window(self, k: int) -> Sequence[Sample]:
        """Slot k's window as a SampleWindow (a copy, for status.evaluate_partition)."""
        if self._odd and k in self._odd:
            return self._odd[k]
        size = self._lens[k]
        committed, ends = self._decoded(k, size)
        offsets = array("q", bytes(16 * size))
        offsets[0::2] = array("q", committed)
        offsets[1::2] = array("q", ends)
        return SampleWindow.of(self.times[len(self.times) - size :], offsets)

    def window_times(self, k: int) -> array:
        """Slot k's sample times (a copy)."""
        if self._odd and k in self._odd:
            return self._odd[k].times
        return self.times[len(self.times) - self._lens[k] :]

    def newest(self, k: int) -> tuple[int, int]:
        """Slot k's newest (committed, end), UNKNOWN where unknown (a regular slot's)."""
        m, block, b = self.max_len, self._block, self._bases[k]
        low = WIDTHS[block.typecode][0]
        c, e = block[2 * m * k + m - 1], block[2 * m * k + 2 * m - 1]
        return (UNKNOWN if c == low else c + b), (UNKNOWN if e == low else e + b)

    def ends(self, k: int) -> array:
        """Slot k's end offsets, oldest first (a copy; UNKNOWN where unknown)."""
        if self._odd and k in self._odd:
            return self._odd[k].ends()
        return array("q", self._decoded(k, self._lens[k])[1])

    def steady(self, k: int) -> tuple[int, int, int] | None:
        """SampleWindow.steady of slot k's window: (committed, newest end, lowest end) when every
        sample shows the same known committed offset and a known end; else None."""
        if self._odd and k in self._odd:
            return self._odd[k].steady()
        size, m = self._lens[k], self.max_len
        if not size:
            return None
        base = 2 * m * k
        block = self._block
        unknown = WIDTHS[block.typecode][0]
        committed = block[base + m - 1]
        if committed == unknown:
            return None
        if size > 1 and block[base + m - size : base + m].count(committed) != size:
            return None
        ends = block[base + 2 * m - size : base + 2 * m]
        low = min(ends)
        if low == unknown:
            return None
        b = self._bases[k]
        return committed + b, ends[-1] + b, low + b

    # -- runs ---------------------------------------------------------------------------------------
    def run(self, k: int) -> Run | None:
        """Slot k's run (status.advance over every sample it took, beyond the window)."""
        fields = self.run_fields(k)
        if fields is None:
            return None
        previous = self._previous.get(k) if self._previous else None
        return Run(*fields, previous)

    def run_fields(self, k: int) -> tuple[int, float, bool, float | None, int, int, float, int] | None:
        """Slot k's run as (committed, t, moved, waiting_t, start_end, end, last_t, samples), no object."""
        ri, rf = self._ri, self._rf
        i, f = _I * k, _F * k
        if not ri[i + 3]:
            return None
        waiting = rf[f + 1]
        return (
            ri[i],
            rf[f],
            bool(ri[i + 4]),
            None if waiting != waiting else waiting,
            ri[i + 1],
            ri[i + 2],
            rf[f + 2],
            ri[i + 3],
        )

    def waiting_t(self, k: int) -> float | None:
        """Slot k's run's waiting_t (None also without a run)."""
        waiting = self._rf[_F * k + 1]
        return None if waiting != waiting or not self._ri[_I * k + 3] else waiting

    def run_committed(self, k: int) -> int | None:
        return self._ri[_I * k] if self._ri[_I * k + 3] else None

    def set_run(self, k: int, run: Run | None) -> None:
        i, f = _I * k, _F * k
        if run is None:
            self._ri[i + 3] = 0
            if self._previous:
                self._previous.pop(k, None)
            return
        self._ri[i : i + _I] = array("q", (run.committed, run.start_end, run.end, run.samples, int(run.moved)))
        waiting = NAN if run.waiting_t is None else run.waiting_t
        self._rf[f : f + _F] = array("d", (run.t, waiting, run.last_t))
        if run.previous is not None:
            if self._previous is None:
                self._previous = {}
            self._previous[k] = run.previous
        elif self._previous:
            self._previous.pop(k, None)
            if not self._previous:
                self._previous = None

    def _advance(self, k: int, t: float, committed: int | None, end: int | None) -> None:
        """status.advance of slot k's run by one sample; the common case (the offset stands, both
        known, a later time) in place."""
        ri, rf = self._ri, self._rf
        i, f = _I * k, _F * k
        if (
            ri[i + 3]
            and committed is not None
            and end is not None
            and end >= 0
            and committed == ri[i]
            and t > rf[f + 2]
        ):
            if end > committed:
                if rf[f + 1] != rf[f + 1]:
                    rf[f + 1] = t
            else:
                rf[f + 1] = NAN
            ri[i + 2] = end
            ri[i + 3] += 1
            rf[f + 2] = t
            if self._previous:
                self._previous.pop(k, None)
                if not self._previous:
                    self._previous = None
            return
        run = self.run(k)
        after = advance(run, Sample(t, committed, end))
        if after is not run:
            self.set_run(k, after)

    def run_after(self, held: int, last_t: float) -> None:
        """Every slot's run after `held` more copies of its newest sample, the last at `last_t` (a
        quiet group's, whose offsets stand still: only the time and the count move)."""
        if held == 0:
            return
        ri, rf = self._ri, self._rf
        for k in range(len(self.topics)):
            if ri[_I * k + 3]:
                ri[_I * k + 3] += held
                rf[_F * k + 2] = last_t
        self._previous = None


def _stored(offset: int | None) -> int:
    return UNKNOWN if offset is None or offset < 0 else offset
