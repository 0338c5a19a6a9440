"""Page parameters: parsed and validated once, shared by views, websockets and the API.

Every page's state (cluster, filters, sort, page number) lives in its query string, so a URL can
be shared during an incident. A bad value raises InvalidPage with a message meant for a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dashboard.clusters import UnknownCluster, get_cluster
from dashboard.live.publisher import FragmentSpec

MAX_TEXT = 200
MAX_PAGE = 100_000
PAGE_SIZE = 50
GROUP_STATES = (
    "Stable",
    "Empty",
    "PreparingRebalance",
    "CompletingRebalance",
    "Dead",
    "Assigning",
    "Reconciling",
    "Unknown",
)
GROUP_SORTS = ("lag", "time_lag", "name", "members", "state", "status")
LAG_STATUSES = ("STOP", "STALL", "REWIND", "WARN", "OK", "NODATA")
TOPIC_SORTS = ("name", "partitions", "records", "rate", "groups")
RANGES = ("1h", "24h", "7d")


class InvalidPage(ValueError):
    """A query parameter that cannot be honoured; the message says which and why."""


def text_param(query: Mapping[str, str], name: str, max_len: int = MAX_TEXT) -> str:
    value = query.get(name, "")
    if len(value) > max_len:
        raise InvalidPage(f"{name} is too long (at most {max_len} characters)")
    if any(ord(c) < 32 for c in value):
        raise InvalidPage(f"{name} must not contain control characters")
    return value.strip()


def choice_param(query: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = query.get(name) or default
    if value not in choices:
        raise InvalidPage(f"{name} must be one of {', '.join(choices)}")
    return value


def int_param(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    # "²".isdigit() is True and int("²") fails; 20 digits hold any offset (2**63 - 1 has 19).
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 20:
        raise InvalidPage(f"{name} must be a whole number from {low} to {high}")
    value = int(raw)
    if not low <= value <= high:
        raise InvalidPage(f"{name} must be a whole number from {low} to {high}")
    return value


def cluster_param(query: Mapping[str, str]) -> str:
    name = query.get("cluster") or None
    try:
        return get_cluster(name).name
    except UnknownCluster:
        raise InvalidPage("unknown cluster") from None


@dataclass(frozen=True)
class GroupListQuery:
    q: str = ""
    state: str = ""
    sort: str = "lag"
    desc: bool = True
    page: int = 1
    status: str = ""

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> GroupListQuery:
        state = query.get("state", "")
        if state and state not in GROUP_STATES:
            raise InvalidPage(f"state must be one of {', '.join(GROUP_STATES)}")
        status = query.get("status", "")
        if status and status not in (*LAG_STATUSES, "problems"):
            raise InvalidPage(f"status must be one of {', '.join(LAG_STATUSES)} or problems")
        sort = choice_param(query, "sort", GROUP_SORTS, "lag")
        order = choice_param(query, "order", ("asc", "desc"), "asc" if sort == "name" else "desc")
        page = int_param(query, "page", 1, 1, MAX_PAGE)
        return cls(text_param(query, "q"), state, sort, order == "desc", page, status)

    def params(self) -> tuple[tuple[str, str], ...]:
        return (
            ("q", self.q),
            ("state", self.state),
            ("status", self.status),
            ("sort", self.sort),
            ("order", "desc" if self.desc else "asc"),
            ("page", str(self.page)),
        )


@dataclass(frozen=True)
class TopicListQuery:
    q: str = ""
    sort: str = "name"
    desc: bool = False
    page: int = 1
    internal: bool = False

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> TopicListQuery:
        sort = choice_param(query, "sort", TOPIC_SORTS, "name")
        order = choice_param(query, "order", ("asc", "desc"), "asc" if sort == "name" else "desc")
        internal = choice_param(query, "internal", ("0", "1"), "0") == "1"
        return cls(text_param(query, "q"), sort, order == "desc", int_param(query, "page", 1, 1, MAX_PAGE), internal)

    def params(self) -> tuple[tuple[str, str], ...]:
        return (
            ("q", self.q),
            ("sort", self.sort),
            ("order", "desc" if self.desc else "asc"),
            ("page", str(self.page)),
            ("internal", "1" if self.internal else "0"),
        )


def name_param(query: Mapping[str, str], name: str) -> str:
    value = query.get(name, "")
    if not value:
        raise InvalidPage(f"{name} is required")
    if len(value) > 255:
        raise InvalidPage(f"{name} is too long (at most 255 characters)")
    return value


def page_fragments(page: str, query: Mapping[str, str]) -> list[FragmentSpec]:
    """The live fragments a page shows, for the websocket consumer; raises InvalidPage."""
    cluster = cluster_param(query)

    def spec(name: str, params: tuple[tuple[str, str], ...] = ()) -> FragmentSpec:
        return FragmentSpec(name, cluster, params)

    status = spec("status")
    if page == "overview":
        return [status, spec("overview-health"), spec("overview-groups"), spec("overview-topics"), spec("dlq-table")]
    if page == "brokers":
        return [status, spec("brokers-table")]
    if page == "dlq":
        return [status, spec("dlq-table")]
    if page == "dlq-topic":
        topic = name_param(query, "topic")
        return [status, spec("dlq-triage", (("topic", topic), *DlqQuery.parse(query).params()))]
    if page == "topics":
        return [status, spec("topics-table", TopicListQuery.parse(query).params())]
    if page == "topic":
        topic = name_param(query, "topic")
        return [status, spec("topic-partitions", (("topic", topic),)), spec("topic-groups", (("topic", topic),))]
    if page == "groups":
        return [status, spec("groups-table", GroupListQuery.parse(query).params())]
    if page == "group":
        group = name_param(query, "group")
        time_range = choice_param(query, "range", RANGES, "1h")
        return [
            status,
            spec("group-summary", (("group", group),)),
            spec("group-partitions", (("group", group),)),
            spec("group-members", (("group", group),)),
            spec("group-chart", (("group", group), ("range", time_range))),
        ]
    raise InvalidPage("unknown page")


SEEKS = ("newest", "oldest", "offset", "timestamp")
MAX_OFFSET = 2**63 - 1
MAX_TIMESTAMP_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z: the last moment a datetime can hold


@dataclass(frozen=True)
class BrowseQuery:
    """The message browser's position: partition, where to start, how many records."""

    partition: int = 0
    seek: str = "newest"
    offset: int | None = None
    timestamp_ms: int | None = None
    limit: int = 20

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> BrowseQuery:
        seek = choice_param(query, "seek", SEEKS, "newest")
        offset = timestamp_ms = None
        if seek == "offset":
            offset = int_param(query, "offset", -1, 0, MAX_OFFSET)
            if offset < 0:
                raise InvalidPage("offset is required to seek by offset")
        if seek == "timestamp":
            timestamp_ms = parse_timestamp(query.get("timestamp", ""))
        return cls(
            int_param(query, "partition", 0, 0, 1_000_000),
            seek,
            offset,
            timestamp_ms,
            int_param(query, "limit", 20, 1, 200),
        )

    def params(self) -> tuple[tuple[str, str], ...]:
        out = [("partition", str(self.partition)), ("seek", self.seek), ("limit", str(self.limit))]
        if self.offset is not None:
            out.append(("offset", str(self.offset)))
        if self.timestamp_ms is not None:
            out.append(("timestamp", str(self.timestamp_ms)))
        return tuple(out)


def parse_timestamp(raw: str) -> int:
    """Milliseconds since the epoch, or an ISO-8601 date-time (UTC unless it says otherwise)."""
    from datetime import UTC, datetime

    raw = raw.strip()
    if not raw:
        raise InvalidPage("timestamp is required to seek by time")
    if raw.isascii() and raw.isdigit() and len(raw) <= 15:
        if int(raw) > MAX_TIMESTAMP_MS:
            raise InvalidPage("timestamp must be before the year 10000")
        return int(raw)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidPage(
            "timestamp must be an ISO-8601 date-time (e.g. 2026-01-31T14:05) or epoch milliseconds"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if parsed.year < 1970:
        raise InvalidPage("timestamp must be after 1970")
    value = int(parsed.timestamp() * 1000)
    if not 0 <= value <= MAX_TIMESTAMP_MS:  # 9999-12-31T23:59-01:00 is in the year 10000 in UTC
        raise InvalidPage("timestamp must be between 1970 and the year 9999 (UTC)")
    return value


DLQ_STATUS_FILTERS = ("waiting", "reprocessed", "resolved", "all")


@dataclass(frozen=True)
class DlqQuery:
    """Filters of a DLQ topic page: status, exception class, time range, text, page."""

    status: str = "waiting"
    exception: str = ""
    since_ms: int | None = None
    until_ms: int | None = None
    q: str = ""
    page: int = 1

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> DlqQuery:
        since = query.get("since", "")
        until = query.get("until", "")
        return cls(
            choice_param(query, "status", DLQ_STATUS_FILTERS, "waiting"),
            text_param(query, "exception", 300),
            parse_timestamp(since) if since else None,
            parse_timestamp(until) if until else None,
            text_param(query, "q"),
            int_param(query, "page", 1, 1, MAX_PAGE),
        )

    def params(self) -> tuple[tuple[str, str], ...]:
        out = [("status", self.status), ("exception", self.exception), ("q", self.q), ("page", str(self.page))]
        if self.since_ms is not None:
            out.append(("since", str(self.since_ms)))
        if self.until_ms is not None:
            out.append(("until", str(self.until_ms)))
        return tuple(out)
