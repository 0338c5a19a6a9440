"""dashboard.dlq.ledger_pack: a batch's records packed and read back, in a byte order fixed on disk."""

from __future__ import annotations

import struct
from types import SimpleNamespace

import pytest

from dashboard.dlq import ledger_pack as lp


def batch(**fields) -> SimpleNamespace:
    return SimpleNamespace(**fields)


def packed(entries) -> SimpleNamespace:
    return batch(**lp.pack_entries(entries))


def test_a_contiguous_batch_of_one_topic_stores_no_offsets_and_no_topic_index() -> None:
    fields = lp.pack(list(range(100, 110)), ["orders"] * 10, list(range(10)), list(range(5000, 5010)))
    assert (fields["count"], fields["first_offset"], fields["last_offset"]) == (10, 100, 109)
    assert (fields["offsets"], fields["topic_index"], fields["target_topics"]) == (b"", b"", ["orders"])
    assert len(fields["target_partitions"]) == 4 * 10 and len(fields["target_offsets"]) == 8 * 10
    b = batch(**fields)
    assert lp.offsets(b) == range(100, 110)
    assert lp.unpack(b) == [(100 + i, "orders", i, 5000 + i) for i in range(10)]


def test_the_byte_order_is_little_endian_whatever_the_host() -> None:
    fields = lp.pack([7, 9], ["a", "b"], [1, 2**31 - 1], [3, 2**63 - 1])
    assert fields["offsets"] == struct.pack("<2q", 7, 9)
    assert fields["topic_index"] == struct.pack("<2H", 0, 1)
    assert fields["target_partitions"] == struct.pack("<2i", 1, 2**31 - 1)
    assert fields["target_offsets"] == struct.pack("<2q", 3, 2**63 - 1)


def test_a_sparse_batch_keeps_every_offset_and_answers_membership() -> None:
    offsets = [3, 4, 10, 1_000_000, 2**40]
    b = packed([(o, "t", 0, o * 2) for o in offsets])
    view = lp.offsets(b)
    assert list(view) == offsets and not isinstance(view, range)
    assert lp.among(view, [1, 3, 5, 10, 11, 2**40, 2**41]) == [3, 10, 2**40]
    assert [lp.index_of(view, o) for o in (3, 10, 11, 2**40, 0)] == [0, 2, None, 4, None]
    assert lp.entry(b, 1_000_000) == (1_000_000, "t", 0, 2_000_000)
    assert lp.entry(b, 5) is None
    assert list(lp.runs(view, 0, 2**41)) == [(3, 4), (10, 10), (1_000_000, 1_000_000), (2**40, 2**40)]
    assert list(lp.runs(view, 4, 999_999)) == [(4, 4), (10, 10)]


def test_a_contiguous_batch_is_a_range_for_membership_and_runs() -> None:
    b = packed([(o, "t", 1, o) for o in range(50, 150)])
    view = lp.offsets(b)
    assert view == range(50, 150)
    assert lp.among(view, [0, 49, 50, 99, 149, 150]) == [50, 99, 149]
    assert lp.among(view, list(range(0, 10_000))) == list(range(50, 150))
    assert list(lp.runs(view, 100, 1000)) == [(100, 149)]
    assert list(lp.runs(view, 0, 49)) == []
    assert lp.entry(b, 149) == (149, "t", 1, 149) and lp.entry(b, 150) is None


def test_several_target_topics_and_unknown_partitions_and_offsets() -> None:
    entries = [
        (1, "orders", 0, 10),
        (2, "payments", None, None),
        (3, "orders", 2, None),
        (5, "refunds", None, 7),
    ]
    fields = lp.pack_entries(reversed(entries))  # any order in, ascending out
    assert fields["target_topics"] == ["orders", "payments", "refunds"]
    b = batch(**fields)
    assert lp.unpack(b) == entries
    assert [lp.entry(b, o) for o in (1, 2, 3, 5)] == entries


def test_more_topics_than_a_uint16_index_holds() -> None:
    entries = [(o, f"t{o}", 0, o) for o in range(70_000)]
    fields = lp.pack_entries(entries)
    assert len(fields["topic_index"]) == 4 * 70_000
    b = batch(**fields)
    assert lp.unpack(b) == entries
    assert lp.entry(b, 69_999) == (69_999, "t69999", 0, 69_999)


def test_a_repeated_offset_keeps_the_last_entry_and_pack_refuses_disorder() -> None:
    assert lp.unpack(packed([(1, "a", 0, 1), (2, "a", 0, 2), (1, "b", 5, 9)])) == [(1, "b", 5, 9), (2, "a", 0, 2)]
    with pytest.raises(lp.NotAscending):
        lp.pack([2, 1], ["a", "a"], [0, 0], [0, 0])
    with pytest.raises(lp.NotAscending):
        lp.pack([1, 1], ["a", "a"], [0, 0], [0, 0])
    with pytest.raises(ValueError):
        lp.pack([], [], [], [])
    with pytest.raises(ValueError):
        lp.pack([1, 2], ["a"], [0, 0], [0, 0])


def test_split_repacks_both_sides_and_a_sparse_remainder_stays_exact() -> None:
    entries = [(o, "a" if o % 2 else "b", o % 3, 100 + o) for o in range(10)]
    b = packed(entries)
    taken, kept = lp.split(b, [2, 3, 4, 7])
    assert (taken["first_offset"], taken["last_offset"], taken["count"]) == (2, 7, 4)
    assert (kept["first_offset"], kept["last_offset"], kept["count"]) == (0, 9, 6)
    assert kept["offsets"] != b""  # 0, 1, 5, 6, 8, 9: no longer contiguous
    assert lp.unpack(batch(**taken)) == [e for e in entries if e[0] in {2, 3, 4, 7}]
    assert lp.unpack(batch(**kept)) == [e for e in entries if e[0] not in {2, 3, 4, 7}]
    contiguous, _ = lp.split(b, [4, 5, 6])
    assert contiguous["offsets"] == b"" and lp.offsets(batch(**contiguous)) == range(4, 7)


def test_bytes_read_back_as_memoryview_like_postgresql_returns_them() -> None:
    fields = lp.pack_entries([(o, "t" if o < 5 else "u", None if o == 3 else 1, o) for o in (0, 1, 3, 5, 8)])
    views = {k: memoryview(v) if isinstance(v, bytes) else v for k, v in fields.items()}
    b = batch(**views)
    assert lp.unpack(b) == lp.unpack(batch(**fields))
    assert lp.entry(b, 3) == (3, "t", None, 3)
    assert lp.offset_view(b.first_offset, b.count, b.offsets) == lp.offsets(batch(**fields))


def test_corrupt_columns_are_refused_not_misread() -> None:
    fields = lp.pack(list(range(4)), ["t"] * 4, [0] * 4, [0] * 4)
    with pytest.raises(ValueError):
        lp.unpack(batch(**{**fields, "target_offsets": fields["target_offsets"][:-8]}))
    with pytest.raises(ValueError):
        lp.unpack(batch(**{**fields, "count": 5}))
    with pytest.raises(ValueError):
        lp.unpack(batch(**{**fields, "target_topics": ["t", "u"]}))  # two names but no index
