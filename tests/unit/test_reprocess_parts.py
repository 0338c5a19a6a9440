"""The reprocess engine's pure parts, whose speed-ups must not change what they give."""

from __future__ import annotations

import gc
import threading
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kafka_admin.config import ClusterConfig
from kafka_admin.dlq import headers as dh
from kafka_admin.dlq.conventions.registry import CONVENTIONS
from kafka_admin.dlq.routing import HeaderRouter, republish_headers, route_key
from kafka_admin.records.read import Record, make_record
from kafka_admin.reprocess import MemoryLedger
from kafka_admin.reprocess.classify import Classifier, size_and_original_topics
from kafka_admin.reprocess.gc_threshold import GC_YOUNG_THRESHOLD, fewer_collections
from kafka_admin.reprocess.republish import RepublishHeaders
from kafka_admin.reprocess.scan import Page
from kafka_admin.reprocess.sizing import headers_size, record_size
from kafka_admin.reprocess.topics import TopicInfo

AT = datetime(2025, 2, 3, 4, 5, 6, 789000, tzinfo=UTC)


def test_make_record_is_a_record_like_any_other() -> None:
    args = ("t", 1, 2, 3, "CreateTime", b"k", b"v", (("h", b"x"), ("n", None)), 1, 1)
    made = make_record(*args)
    assert made == Record(*args)
    assert type(made) is Record
    assert made.header_values("h") == (b"x",)
    with pytest.raises(AttributeError):
        made.offset = 5  # type: ignore[misc]


_NAMES = sorted(dh.FAILURE_HEADERS | dh.REPROCESS_HEADERS | {"kafka_dlt-key-exception-fqcn", "trace-id", "a", "é"})


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(_NAMES) | st.text(max_size=8), st.none() | st.binary(max_size=4)), max_size=12),
    st.integers(0, 2**40),
)
def test_headers_shortcut_equals_republish_headers(headers, offset) -> None:
    make = RepublishHeaders("orders-dlq", "alice")
    make.start(3, AT)
    expected = republish_headers(headers, dlq_topic="orders-dlq", partition=3, offset=offset, actor="alice", at=AT)
    assert make(headers, offset) == expected
    assert make(headers, offset) == expected  # names known now


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.text(max_size=8), st.none() | st.binary(max_size=6)), max_size=12),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
)
def test_record_size_counts_every_header_name_and_value(headers, key_size, value_size) -> None:
    """The C-level passes of record_size equal the plain sum: characters of names, bytes of values, None as 0."""
    record = make_record("t", 0, 0, None, None, b"", b"", tuple(headers), key_size, value_size)
    plain = key_size + value_size + sum(len(name) + (0 if value is None else len(value)) for name, value in headers)
    assert record_size(record) == plain


_ROUTE_NAMES = [dh.SPRING_ORIGINAL_TOPIC, dh.DLQ_ORIGINAL_TOPIC, "trace-id", "é"]
_TOPICS = [b"orders", b"payments", b"orders-dlq", b"not a topic!", b"", b"\xff"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.tuples(st.sampled_from(_ROUTE_NAMES), st.none() | st.sampled_from(_TOPICS)), max_size=6)))
def test_classifier_routes_and_sizes_as_the_router_and_size_do(header_lists) -> None:
    """The classifier's one pass (HeaderRouter.route_key from the values it meets while sizing the
    headers) decides as route_headers() and record_size() do, repeated and missing headers included."""
    router = HeaderRouter("orders-dlq")
    config = ClusterConfig(name="unit", bootstrap_servers="127.0.0.1:1")
    classify = Classifier(config, "orders-dlq", router, MemoryLedger(), False, None, set(), "alice")
    for name in ("orders", "payments"):  # described already: no broker is asked
        classify.topics.cache[name] = TopicInfo(exists=True)
    records = [
        make_record("orders-dlq", 0, i, None, None, b"k", b"v", tuple(headers), 1, 1)
        for i, headers in enumerate(header_lists)
    ]
    decisions = classify(Page(0, records, records, 0, [], len(records)))
    for record, d in zip(records, decisions, strict=True):
        target = router.route_headers(record.headers)
        if target.topic is None:
            assert (d.kind, d.reason) == ("unmapped", target.reason)
        else:
            assert (d.kind, d.target, d.size) == ("send", target.topic, record_size(record))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_ROUTE_NAMES), st.none() | st.sampled_from(_TOPICS)), max_size=8))
def test_size_and_original_topics_is_the_size_and_the_last_values(headers) -> None:
    """The classifier's header matching: the size headers_size() gives, and the last value of each
    original-topic header (None when absent), as HeaderRouter.route_headers() reads them."""
    last = {name: value for name, value in headers}
    size, key = size_and_original_topics(headers)
    assert (size, key) == (headers_size(headers), route_key(headers))
    by_name = dict(zip(CONVENTIONS.route_names, key, strict=True))
    for name in (dh.SPRING_ORIGINAL_TOPIC, dh.DLQ_ORIGINAL_TOPIC):  # a null value counts as b"": present
        assert by_name[name] == (None if name not in last else last[name] or b"")


def test_headers_shortcut_with_more_names_than_it_remembers() -> None:
    make = RepublishHeaders("orders-dlq", "alice")
    make.MAX_NAMES = 5
    make.start(0, AT)
    headers = [(f"name-{i}", b"v") for i in range(20)] + [(dh.DLQ_ORIGINAL_TOPIC, b"orders")]
    expected = republish_headers(headers, dlq_topic="orders-dlq", partition=0, offset=9, actor="alice", at=AT)
    assert make(headers, 9) == expected
    assert len(make.dropped) <= 5


def test_gc_threshold_raised_during_runs_and_restored_after_the_last() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        inside = threading.Event()
        release = threading.Event()

        def other_run() -> None:
            with fewer_collections():
                inside.set()
                release.wait(5)

        thread = threading.Thread(target=other_run)
        with fewer_collections():
            assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, 10, 10)
            thread.start()
            assert inside.wait(5)
        assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD  # the other run is still on
        release.set()
        thread.join(5)
        assert gc.get_threshold() == (700, 10, 10)
        gc.set_threshold(0, 10, 10)  # collection switched off by the host: left off
        with fewer_collections():
            assert gc.get_threshold() == (0, 10, 10)
    finally:
        gc.set_threshold(*before)
