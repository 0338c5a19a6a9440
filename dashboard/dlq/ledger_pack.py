"""The per-record data of one reprocess batch, packed into a few columns of the batch's row.

Why: a database row per re-published record made the ledger about a third of a reprocess run
(docs/dlq.md, Ledger storage). Packed, a 10,000-record transaction is
one INSERT of one row and its confirmation one UPDATE, and every record is still kept: its DLQ
offset and where it was written.

The columns, all in one order (ascending DLQ offset):

- `offsets`: the DLQ offsets, distinct. Empty when they are contiguous (first_offset, first_offset +
  1, ... count of them: a range, or a page of one, the usual case), else int64 values.
- `target_topics`: the distinct target topic names (a JSON list); `topic_index`: each record's
  index into it, uint16 (int32 past 65,536 names), empty when there is one name.
- `target_partitions`: int32 per record; `target_offsets`: int64 per record. -1 stands for None
  (unknown), which Kafka never uses for a partition or offset a record was written at.

Integers are stored little-endian whatever the host (the array module writes native order; it is
byte-swapped on big-endian hosts), so a database moved between machines reads the same. The array
module converts whole columns in C loops. No Django here: the migration and tests read it too.
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from itertools import compress, islice, repeat
from operator import lt
from typing import Any, Protocol

Entry = tuple[int, str, int | None, int | None]
"""One record: (DLQ offset, target topic, target partition, target offset)."""

Offsets = range | array
"""The DLQ offsets of a batch, ascending: a range when contiguous (nothing decoded), else int64s."""

NONE = -1
"""Stored for a target partition or offset that is None."""

_SWAP = sys.byteorder == "big"
_I64 = "q"
_I32 = next(code for code in "il" if array(code).itemsize == 4)
_U16 = "H"
if array(_I64).itemsize != 8 or array(_U16).itemsize != 2:
    raise ImportError("dashboard.dlq.ledger_pack needs 8-byte 'q' and 2-byte 'H' arrays")


class Packed(Protocol):
    """What the functions below read: a ReprocessBatch (or anything with its fields)."""

    first_offset: int
    last_offset: int
    count: int
    offsets: bytes
    target_topics: list[str]
    topic_index: bytes
    target_partitions: bytes
    target_offsets: bytes


def _encode(code: str, values: Iterable[int]) -> bytes:
    a = array(code, values)
    if _SWAP:
        a.byteswap()
    return a.tobytes()


def _decode(code: str, blob: bytes | memoryview) -> array:
    a = array(code)
    a.frombytes(blob)  # memoryview too (PostgreSQL's bytea)
    if _SWAP:
        a.byteswap()
    return a


def _encode_optional(code: str, values: Sequence[int | None]) -> bytes:
    try:
        return _encode(code, values)
    except TypeError:  # a None among them (rare: the fast path above checks nothing per value)
        return _encode(code, [NONE if v is None else v for v in values])


def _decode_optional(code: str, blob: bytes | memoryview, count: int, name: str) -> list[int | None]:
    values = _decode(code, blob)
    if len(values) != count:
        raise ValueError(f"{name} holds {len(values)} values for {count} records")
    if NONE in values:
        return [None if v == NONE else v for v in values]
    return values.tolist()


class NotAscending(ValueError):
    """pack() was given offsets out of order or repeated."""


def strictly_ascending(offsets: Sequence[int]) -> bool:
    return all(map(lt, offsets, islice(offsets, 1, None)))


def pack(
    offsets: Sequence[int],
    topics: Sequence[str],
    partitions: Sequence[int | None],
    target_offsets: Sequence[int | None],
) -> dict[str, Any]:
    """The fields of a batch holding these records (parallel sequences, offsets strictly ascending):
    count, first_offset, last_offset and the packed columns, ready for ReprocessBatch(**fields)."""
    count = len(offsets)
    if count == 0:
        raise ValueError("a batch holds at least one record")
    if not len(topics) == len(partitions) == len(target_offsets) == count:
        raise ValueError("offsets, topics, partitions and target offsets differ in length")
    if not strictly_ascending(offsets):
        raise NotAscending("the offsets of a batch must be strictly ascending")
    first, last = offsets[0], offsets[-1]
    if topics.count(topics[0]) == count:  # one target topic, the usual case: counted in C, by identity
        names, index = [topics[0]], b""
    else:
        names = list(dict.fromkeys(topics))
        position = {name: i for i, name in enumerate(names)}
        index = _encode(_U16 if len(names) <= 1 << 16 else _I32, map(position.__getitem__, topics))
    return {
        "count": count,
        "first_offset": first,
        "last_offset": last,
        "offsets": b"" if last - first + 1 == count else _encode(_I64, offsets),
        "target_topics": names,
        "topic_index": index,
        "target_partitions": _encode_optional(_I32, partitions),
        "target_offsets": _encode_optional(_I64, target_offsets),
    }


def pack_entries(entries: Iterable[Entry]) -> dict[str, Any]:
    """pack() of entries in any order; of entries with the same offset, the last is kept."""
    by_offset = {e[0]: e for e in entries}
    ordered = [by_offset[o] for o in sorted(by_offset)]
    return pack(*_columns_of(ordered))


def _columns_of(entries: Sequence[Entry]) -> tuple[list, list, list, list]:
    if not entries:
        return [], [], [], []
    offsets, topics, partitions, target_offsets = map(list, zip(*entries, strict=True))
    return offsets, topics, partitions, target_offsets


def offset_view(first_offset: int, count: int, blob: bytes | memoryview) -> Offsets:
    """The offsets of a batch from its first_offset, count and offsets columns."""
    if not blob:
        return range(first_offset, first_offset + count)
    values = _decode(_I64, blob)
    if len(values) != count:
        raise ValueError(f"offsets holds {len(values)} values for {count} records")
    return values


def offsets(batch: Packed) -> Offsets:
    return offset_view(batch.first_offset, batch.count, batch.offsets)


def among(view: Offsets, wanted: Sequence[int]) -> list[int]:
    """Those of `wanted` (ascending, distinct) that are in `view`, ascending. A range is a slice,
    whatever its size; a sparse batch a set intersection (both in C)."""
    if not view:
        return []
    lo, hi = bisect_left(wanted, view[0]), bisect_right(wanted, view[-1])
    if isinstance(view, range):
        return list(wanted[lo:hi])
    return sorted(set(view).intersection(wanted[lo:hi]))


def index_of(view: Offsets, offset: int) -> int | None:
    """The position of `offset` in the batch, None when the batch does not hold it."""
    if isinstance(view, range):
        return offset - view.start if offset in view else None
    i = bisect_left(view, offset)
    return i if i < len(view) and view[i] == offset else None


def runs(view: Offsets, lo: int, hi: int) -> Iterator[tuple[int, int]]:
    """The contiguous runs (first, last) of the batch's offsets within lo..hi."""
    if isinstance(view, range):
        start, end = max(view.start, lo), min(view.stop - 1, hi)
        if start <= end:
            yield start, end
        return
    start = end = None
    for o in view[bisect_left(view, lo) : bisect_right(view, hi)]:
        if end is not None and o == end + 1:
            end = o
            continue
        if start is not None:
            yield start, end
        start = end = o
    if start is not None:
        yield start, end


def columns(batch: Packed) -> tuple[Offsets, list[str], list[int | None], list[int | None]]:
    """The batch's records as four parallel sequences: offsets, target topics, partitions, offsets."""
    count = batch.count
    names = list(batch.target_topics)
    blob = batch.topic_index
    if not blob:
        if len(names) != 1:
            raise ValueError(f"no topic index for {len(names)} target topics")
        topics = list(repeat(names[0], count))
    else:
        index = _decode(_U16 if len(blob) == 2 * count else _I32, blob)
        if len(index) != count:
            raise ValueError(f"topic_index holds {len(blob)} bytes for {count} records")
        topics = list(map(names.__getitem__, index))
    return (
        offsets(batch),
        topics,
        _decode_optional(_I32, batch.target_partitions, count, "target_partitions"),
        _decode_optional(_I64, batch.target_offsets, count, "target_offsets"),
    )


def unpack(batch: Packed) -> list[Entry]:
    """The batch's records, ascending by DLQ offset."""
    return list(zip(*columns(batch), strict=True))


def entry(batch: Packed, offset: int) -> Entry | None:
    """The record of the batch at `offset` (None when it holds none), reading only that record's
    values from the columns (the record page asks for one record of possibly many batches)."""
    i = index_of(offsets(batch), offset)
    if i is None:
        return None
    names = batch.target_topics
    index = batch.topic_index
    if index:
        width = 2 if len(index) == 2 * batch.count else 4
        topic = names[_decode(_U16 if width == 2 else _I32, memoryview(index)[width * i : width * (i + 1)])[0]]
    else:
        topic = names[0]
    partition = _decode(_I32, memoryview(batch.target_partitions)[4 * i : 4 * i + 4])[0]
    target = _decode(_I64, memoryview(batch.target_offsets)[8 * i : 8 * i + 8])[0]
    return offset, topic, None if partition == NONE else partition, None if target == NONE else target


def split(batch: Packed, taken: Iterable[int]) -> tuple[dict[str, Any], dict[str, Any]]:
    """pack() of the batch's records at `taken` (offsets it holds) and of the others, in that order.
    Both must be non-empty: a batch settled whole is not split."""
    wanted = set(taken)
    view, topics, partitions, target_offsets = columns(batch)
    mask = [o in wanted for o in view]
    rest = [not m for m in mask]
    cols = (view, topics, partitions, target_offsets)
    return (
        pack(*(list(compress(c, mask)) for c in cols)),
        pack(*(list(compress(c, rest)) for c in cols)),
    )
