"""A partition's samples and its Run: since when its committed offset has stood where it is.

Split from status.py: the run is the part of a partition's state that outlives the status window
(kept by the tracker beside it), and the quiet groups (quiet.py) advance it in closed form.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace


def known(offset: int | None) -> int | None:
    return offset if offset is not None and offset >= 0 else None


@dataclass(frozen=True, slots=True)
class Sample:
    """One poll's view of one partition of one group at unix time `t`.

    committed: the group's committed offset, None when it could not be read (coordinator moving
    during a broker restart) or the group has none; end: the log-end offset, None when unknown
    (offline partition). Negative offsets (Kafka's -1, "no offset") count as None.
    """

    t: float
    committed: int | None
    end: int | None


@dataclass(frozen=True, slots=True)
class Run:
    """Since when one partition's committed offset has stood where it is: kept beyond the window,
    so a reason can say how long a condition has lasted, however short the window.

    t: the first sample showing `committed`; moved: an earlier sample showed another offset, so the
    commit came within a poll before `t` (False: it stood there since the first sample held);
    waiting_t: the first sample of the current stretch with records waiting (end beyond committed),
    None while caught up; start_end and end: the log end at `t` and at `last_t`, the latest sample;
    previous: the run before, kept while this one is one sample old (a stale read comes back).
    """

    committed: int
    t: float
    moved: bool
    waiting_t: float | None
    start_end: int
    end: int
    last_t: float
    samples: int = 1
    previous: Run | None = None

    @property
    def arrived(self) -> int:
        """Records written since the offset last moved (or since the first sample held)."""
        return self.end - self.start_end


def advance(run: Run | None, sample: Sample) -> Run | None:
    """The run after one more sample (the same order as the window's). Pure; returns a new Run.

    A sample with an unreadable committed offset only updates the log end, and an unknown end keeps
    the last known, as in the rules. A clock stepping backwards starts afresh. One sample lower and straight back to the
    previous offset is a stale read: the previous run continues, so its clock does not restart.
    """
    committed = known(sample.committed)
    end = known(sample.end)
    if end is None and run is not None:
        end = run.end
    if committed is None or end is None:
        return replace(run, end=end) if run is not None and end is not None else run
    if run is None or sample.t < run.last_t:
        return _new_run(committed, end, sample.t, moved=False, previous=None)
    if sample.t == run.last_t:
        return run
    if committed == run.committed:
        return _continued(run, end, sample.t, extra=1)
    previous = run.previous
    if previous is not None and run.samples == 1 and committed == previous.committed > run.committed:
        return _continued(previous, end, sample.t, extra=2)
    return _new_run(committed, end, sample.t, moved=True, previous=replace(run, previous=None))


def _new_run(committed: int, end: int, t: float, *, moved: bool, previous: Run | None) -> Run:
    return Run(committed, t, moved, t if end > committed else None, end, end, t, 1, previous)


def _continued(run: Run, end: int, t: float, *, extra: int) -> Run:
    waiting = (run.waiting_t if run.waiting_t is not None else t) if end > run.committed else None
    # Built directly, not with dataclasses.replace: this runs for every partition in every cycle.
    return Run(run.committed, run.t, run.moved, waiting, run.start_end, end, t, run.samples + extra, None)


def run_of(window: Iterable[Sample]) -> Run | None:
    """The run at the end of a window, from its samples alone (oldest first after sorting)."""
    run = None
    for sample in sorted(window, key=lambda s: s.t):
        run = advance(run, sample)
    return run
