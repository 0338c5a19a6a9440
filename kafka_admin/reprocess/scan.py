"""A selection read in pages (short first page, retries, offsets outside the log noted)."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from kafka_admin.config import ClusterConfig
from kafka_admin.records.read import ReadStop, Record
from kafka_admin.reprocess.errors import Halt
from kafka_admin.reprocess.reading import Chunk, DlqReader
from kafka_admin.reprocess.selection import OffsetRange, Offsets, Selection

# The first page of a run is short: nothing but starting the producer overlaps it, so the first
# transaction starts sooner.
FIRST_PAGE_RECORDS = 1000


@dataclass
class Page:
    partition: int
    records: list[Record]
    """The selected records of the page (keys and values cut to VIEW_BYTES)."""
    read: list[Record]
    """Every record read for the page, selected or not, in offset order."""
    missing: int
    missing_sample: list[int]
    position: int
    """The offset after the page: everything before it has been read."""
    cut: set[int] = field(default_factory=set)
    """Offsets of the records read whose key or value was cut to VIEW_BYTES (read again whole to be sent)."""
    unreadable: dict[int, str] = field(default_factory=dict)
    """Offsets of the records read whose headers could not be read, with why (never sent)."""


class Scanner:
    """Reads a selection in pages with read_committed, and notes offsets outside the log."""

    def __init__(self, config: ClusterConfig, topic: str, selection: Selection, page_size: int) -> None:
        self.config = config
        self.topic = topic
        self.selection = selection
        self.page_size = page_size
        self.reader = DlqReader(config, topic, page_size)
        self.notes: list[str] = []
        self.outside_selected = 0  # offsets of an Offsets selection that lie outside the log
        self.total = len(set(selection.keys)) if isinstance(selection, Offsets) else 0
        self.first = True  # the first page is short: the first transaction starts sooner

    def close(self) -> None:
        self.reader.close()

    def pages(self) -> Iterator[Page]:
        if isinstance(self.selection, OffsetRange):
            s = self.selection
            yield from self._span(s.partition, s.start, s.end, None)
            return
        by_partition: dict[int, list[int]] = defaultdict(list)
        for partition, offset in sorted(set(self.selection.keys)):
            by_partition[partition].append(offset)
        gap = max(self.page_size, 1000)
        for partition, offsets in by_partition.items():
            cluster = [offsets[0]]
            for offset in offsets[1:]:
                if offset - cluster[-1] > gap:
                    yield from self._span(partition, cluster[0], cluster[-1], set(cluster))
                    cluster = []
                cluster.append(offset)
            yield from self._span(partition, cluster[0], cluster[-1], set(cluster))

    def _span(self, partition: int, first: int, last: int, wanted: set[int] | None) -> Iterator[Page]:
        pos, failures, counted = first, 0, False
        problem: str | None = None  # why the last attempt at pos failed
        while pos <= last:
            if problem is not None:
                failures += 1
                if failures >= 3:
                    raise Halt(f"reading {self.topic} partition {partition} at offset {pos} failed: {problem}")
                time.sleep(0.2 * failures)
            try:
                low, high = self.reader.bounds(partition)
            except ReadStop as exc:
                problem = str(exc)
                continue
            if wanted is None and not counted:
                self.total = max(0, min(last + 1, high) - max(first, low))
                counted = True
            if pos < low:
                self._outside(partition, pos, min(last, low - 1), wanted, f"below the log start {low}")
                pos, problem = min(low, last + 1), None
                continue
            if pos >= high:  # nothing to read: an empty page says how far the selection was looked at
                if pos == high:
                    yield Page(partition, [], [], 0, [], pos)
                self._outside(partition, pos, last, wanted, f"beyond the end of the log ({high})")
                return
            problem = None
            while pos <= last:
                size = self.page_size
                if self.first:
                    size, self.first = min(size, FIRST_PAGE_RECORDS), False
                chunk = self.reader.read(partition, pos, last, min(size, last - pos + 1))
                if chunk.error and not chunk.records:
                    problem = chunk.error  # the bounds again: the log start may have passed pos
                    break
                page = self._page(partition, pos, last, wanted, chunk)
                yield page
                end = page.position
                if end <= last and chunk.at_end:
                    self._outside(partition, end, last, wanted, f"beyond the end of the log ({end})")
                    return
                if end == pos:  # nothing read and not at the end
                    problem = "no progress"
                    break
                failures, pos = 0, end

    def _page(self, partition: int, pos: int, last: int, wanted: set[int] | None, chunk: Chunk) -> Page:
        end = max(pos, min(last + 1, chunk.next_offset))
        read = chunk.records
        if wanted is None:
            selected = read
            missing = (end - pos) - len(read)
            sample: list[int] = []
            if missing:
                present = {r.offset for r in read}
                sample = list(_first_n(o for o in range(pos, end) if o not in present))
        else:
            present = {r.offset for r in read}
            selected = [r for r in read if r.offset in wanted]
            absent = sorted(o for o in wanted if pos <= o < end and o not in present)
            missing, sample = len(absent), absent[:100]
        return Page(partition, selected, read, missing, sample, end, chunk.cut, chunk.unreadable)

    def _outside(self, partition: int, first: int, last: int, wanted: set[int] | None, where: str) -> None:
        if first > last:
            return
        if wanted is None:
            self.notes.append(f"offsets {first}-{last} of partition {partition} are {where}")
            return
        outside = sorted(o for o in wanted if first <= o <= last)
        if outside:
            shown = ", ".join(map(str, outside[:10])) + (", ..." if len(outside) > 10 else "")
            self.notes.append(f"{len(outside)} selected offsets of partition {partition} are {where}: {shown}")
            self.outside_selected += len(outside)


def _first_n(values: Iterable[int], n: int = 100) -> Iterator[int]:
    for i, value in enumerate(values):
        if i >= n:
            return
        yield value
