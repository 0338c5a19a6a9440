import pytest

from dashboard.live.registry import page_fragments
from dashboard.monitor.queries import BrowseQuery, GroupListQuery, TopicListQuery
from dashboard.params import InvalidPage, parse_timestamp


class TestGroupListQuery:
    def test_defaults_sort_by_lag_descending(self):
        q = GroupListQuery.parse({})
        assert (q.sort, q.desc, q.page) == ("lag", True, 1)

    def test_name_sorts_ascending_by_default(self):
        assert GroupListQuery.parse({"sort": "name"}).desc is False

    @pytest.mark.parametrize(
        "query, message",
        [
            ({"sort": "evil"}, "sort must be one of"),
            ({"order": "sideways"}, "order must be one of"),
            ({"page": "-1"}, "page must be a whole number"),
            ({"page": "0"}, "page must be a whole number"),
            ({"page": "1e9"}, "page must be a whole number"),
            ({"page": "9" * 40}, "page must be a whole number"),
            ({"q": "x" * 201}, "q is too long"),
            ({"q": "a\x00b"}, "control characters"),
            ({"state": "<script>"}, "state must be one of"),
        ],
    )
    def test_bad_values_are_clear_errors(self, query, message):
        with pytest.raises(InvalidPage, match=message):
            GroupListQuery.parse(query)

    def test_params_round_trip(self):
        q = GroupListQuery.parse({"q": "pay", "state": "Empty", "sort": "time_lag", "order": "asc", "page": "3"})
        assert GroupListQuery.parse(dict(q.params())) == q


class TestTopicListQuery:
    def test_internal_flag(self):
        assert TopicListQuery.parse({"internal": "1"}).internal is True
        with pytest.raises(InvalidPage):
            TopicListQuery.parse({"internal": "yes"})


class TestBrowseQuery:
    def test_offset_seek_needs_an_offset(self):
        with pytest.raises(InvalidPage, match="offset is required"):
            BrowseQuery.parse({"seek": "offset"})

    def test_timestamp_forms(self):
        assert parse_timestamp("1700000000000") == 1700000000000
        assert parse_timestamp("2026-01-31T14:05") == 1769868300000
        with pytest.raises(InvalidPage, match="ISO-8601"):
            parse_timestamp("yesterday")

    def test_limits(self):
        with pytest.raises(InvalidPage, match="limit"):
            BrowseQuery.parse({"limit": "100000"})
        with pytest.raises(InvalidPage, match="partition"):
            BrowseQuery.parse({"partition": "-3"})


class TestPageFragments:
    def test_group_page_fragments(self):
        names = [s.name for s in page_fragments("group", {"group": "g<1>", "range": "24h"})]
        assert names == ["status", "group-summary", "group-partitions", "group-members", "group-chart"]

    def test_same_query_same_key_so_rendered_once(self):
        a = page_fragments("groups", {"sort": "lag"})
        b = page_fragments("groups", {"sort": "lag", "order": "desc", "page": "1"})
        assert [s.key for s in a] == [s.key for s in b]

    @pytest.mark.parametrize(
        "page, query",
        [("nope", {}), ("group", {}), ("group", {"group": "g", "range": "5y"}), ("groups", {"cluster": "other"})],
    )
    def test_invalid(self, page, query):
        with pytest.raises(InvalidPage):
            page_fragments(page, query)
