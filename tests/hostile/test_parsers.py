"""Every parser of untrusted input either answers or refuses with its own error type, whatever it is fed.

The views turn InvalidPage, InvalidSelection and InvalidReset into a 400 with the message; any other
exception from a parser is a 500. Pure functions: no broker, no database (except the DLQ filter).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.dlq import service as dlq_service
from dashboard.dlq.queries import DlqQuery
from dashboard.live.registry import page_fragments
from dashboard.monitor.queries import BrowseQuery, GroupListQuery, TopicListQuery
from dashboard.params import InvalidPage, int_param, parse_timestamp
from kafka_admin import offset_reset as offsets
from kafka_admin.offset_reset import InvalidReset
from kafka_admin.records import read as messages
from tests.hostile.hostile import HOSTILE_TEXT

BOUNDED = settings(max_examples=200, deadline=None)
QUERY_KEYS = st.sampled_from(
    [
        "page",
        "page_size",
        "q",
        "state",
        "status",
        "sort",
        "order",
        "internal",
        "range",
        "exception",
        "since",
        "until",
        "partition",
        "seek",
        "offset",
        "timestamp",
        "limit",
        "topic",
        "group",
        "cluster",
    ]
)
QUERIES = st.dictionaries(QUERY_KEYS, HOSTILE_TEXT, max_size=6)


@BOUNDED
@given(query=QUERIES)
def test_page_queries(query):
    for parse in (GroupListQuery.parse, TopicListQuery.parse, BrowseQuery.parse, DlqQuery.parse):
        try:
            parsed = parse(query)
        except InvalidPage as exc:
            assert str(exc)
        else:
            parsed.params()


@BOUNDED
@given(
    query=QUERIES,
    page=st.sampled_from(["overview", "brokers", "dlq", "dlq-topic", "topics", "topic", "groups", "group", "nope"]),
)
def test_websocket_page_parameters(query, page):
    """The websocket consumer closes with 4400 on InvalidPage; anything else would kill the connection."""
    with contextlib.suppress(InvalidPage):
        page_fragments(page, query)


@BOUNDED
@given(raw=HOSTILE_TEXT)
def test_numbers_and_times(raw):
    try:
        value = int_param({"n": raw}, "n", 1, 0, 2**63 - 1)
        assert 0 <= value <= 2**63 - 1
    except InvalidPage:
        pass
    try:
        ms = parse_timestamp(raw)
        datetime.fromtimestamp(ms / 1000, UTC)  # every accepted time can be shown and filtered on
    except InvalidPage:
        pass


@BOUNDED
@given(to=st.one_of(st.sampled_from(offsets.MODES), HOSTILE_TEXT), raw=HOSTILE_TEXT)
def test_reset_specs(to, raw):
    try:
        spec = offsets.parse_spec(to, raw)
    except InvalidReset as exc:
        assert str(exc)
    else:
        spec.describe()  # the preview page shows it
        spec.as_dict()


@BOUNDED
@given(text=st.one_of(HOSTILE_TEXT, HOSTILE_TEXT.map(lambda t: "orders:" + t)))
def test_reset_selectors(text):
    try:
        offsets.parse_selector(text)
    except InvalidReset as exc:
        assert str(exc)


@BOUNDED
@given(values=st.lists(st.one_of(HOSTILE_TEXT, st.sampled_from(["0:1", "3:99", "²:1", "1:\u0661"])), max_size=5))
def test_record_keys(values):
    try:
        keys = dlq_service.parse_keys(values)
    except dlq_service.InvalidSelection as exc:
        assert str(exc)
    else:
        assert all(isinstance(p, int) and isinstance(o, int) for p, o in keys)


@pytest.mark.django_db
@settings(max_examples=100, deadline=None)
@given(
    mode=st.one_of(st.sampled_from(["selected", "filter", "range"]), HOSTILE_TEXT),
    fields=st.dictionaries(st.sampled_from(["keys", "partition", "start", "end"]), HOSTILE_TEXT),
    query=QUERIES,
)
def test_selections(mode, fields, query):
    data = {"mode": mode, **fields, "filter": query}
    if "keys" in data:
        data["keys"] = [data["keys"]]
    try:
        dlq_service.selection_from("local", "orders-dlq", data)
    except (dlq_service.InvalidSelection, InvalidPage) as exc:
        assert str(exc)


@pytest.mark.parametrize(
    "topic", ["a" * 250, "x" * 100_000, "a b", "<script>", "../etc", ".", "..", "é", "a\x00b", "9" * 5000]
)
def test_reading_a_topic_that_cannot_exist_is_refused_before_any_broker_call(topic):
    """librdkafka raised RuntimeError ("Unable to create topic object") for some names: a 500."""
    from kafka_admin.config import ClusterConfig

    config = ClusterConfig(name="nowhere", bootstrap_servers="127.0.0.1:1", request_timeout_s=1)
    result = messages.read_records(config, topic, 0, messages.Oldest())
    assert result.error and "not a valid topic name" in result.error
    assert messages.read_one(config, topic, 0, 0) is None


@pytest.mark.parametrize("raw", ["²", "¹²", "\u0663", "\uff10"])
def test_unicode_digits_are_refused_by_every_number_parser(raw):
    """str.isdigit() accepts them, int() does not (or reads them as ASCII digits): refuse them all."""
    with pytest.raises(InvalidPage):
        int_param({"n": raw}, "n", 1, 0, 10)
    with pytest.raises(InvalidPage):
        parse_timestamp(raw)
    with pytest.raises(InvalidReset):
        offsets.parse_spec("offset", raw)
    with pytest.raises(InvalidReset):
        offsets.parse_spec("timestamp", raw)
    with pytest.raises(InvalidReset):
        offsets.parse_selector(f"orders:{raw}")
    with pytest.raises(dlq_service.InvalidSelection):
        dlq_service.parse_keys([f"{raw}:1"])


@pytest.mark.parametrize("raw", ["999999999999999", "253402300800000", "9999-12-31T23:59:59-23:59"])
def test_times_past_the_year_9999_are_refused(raw):
    with pytest.raises(InvalidPage):
        parse_timestamp(raw)
    with pytest.raises(InvalidReset):
        offsets.parse_spec("timestamp", raw)


def test_offsets_up_to_2_63_are_accepted():
    """int_param used to refuse anything over 12 digits, so offsets >= 10**12 could not be browsed."""
    assert BrowseQuery.parse({"seek": "offset", "offset": str(10**12)}).offset == 10**12
    assert BrowseQuery.parse({"seek": "offset", "offset": str(2**63 - 1)}).offset == 2**63 - 1
    with pytest.raises(InvalidPage):
        BrowseQuery.parse({"seek": "offset", "offset": str(2**63)})
