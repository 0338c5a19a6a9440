"""The monitoring pages' queries: the groups and topics lists, the message browser's position."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dashboard.params import MAX_OFFSET, MAX_PAGE, InvalidPage, choice_param, int_param, parse_timestamp, text_param
from kafka_admin.records.browse import DEFAULT_SCAN_CAP, MAX_LIMIT, MAX_SCAN_CAP
from kafka_admin.records.match import MAX_NEEDLE_CHARS, SCOPES, Match
from kafka_admin.records.merge import parse_cursor
from kafka_admin.snapshot.groups.registry import GROUP_STATES, GROUP_TYPE_NAMES

# A state filter accepts every state a group can show, a type filter every registered type.
GROUP_SORTS = ("lag", "time_lag", "name", "members", "state", "status", "type")
# The type filter's choices: the registered types, and "other" for a type no module knows (or none named).
OTHER_TYPE = "other"
GROUP_TYPE_FILTERS = (*GROUP_TYPE_NAMES, OTHER_TYPE)
LAG_STATUSES = ("STOP", "STALL", "REWIND", "WARN", "OK", "NODATA")
TOPIC_SORTS = ("name", "partitions", "records", "rate", "groups")
RANGES = ("1h", "24h", "7d")
SEEKS = ("newest", "oldest", "offset", "timestamp")


@dataclass(frozen=True)
class GroupListQuery:
    q: str = ""
    state: str = ""
    sort: str = "lag"
    desc: bool = True
    page: int = 1
    status: str = ""
    type: str = ""

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
        gtype = query.get("type", "")
        if gtype and gtype not in GROUP_TYPE_FILTERS:
            raise InvalidPage(f"type must be one of {', '.join(GROUP_TYPE_FILTERS)}")
        return cls(text_param(query, "q"), state, sort, order == "desc", page, status, gtype)

    def params(self) -> tuple[tuple[str, str], ...]:
        return (
            ("q", self.q),
            ("state", self.state),
            ("status", self.status),
            ("type", self.type),
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


@dataclass(frozen=True)
class BrowseQuery:
    """The message browser's question: which partition (None: all, merged by time), where to start,
    what to look for, how many to show and to scan, and the cursor of the page before."""

    partition: int | None = None
    seek: str = "newest"
    offset: int | None = None
    timestamp_ms: int | None = None
    limit: int = 20
    q: str = ""
    scope: str = "any"
    scan: int = DEFAULT_SCAN_CAP
    cursor: tuple[tuple[int, int], ...] = ()

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
        raw_partition = query.get("partition", "")
        partition = None if raw_partition in ("", "all") else int_param(query, "partition", 0, 0, 1_000_000)
        try:
            cursor = tuple(sorted(parse_cursor(query.get("cursor", "")[:200_000]).items()))
        except ValueError as exc:
            raise InvalidPage(str(exc)) from None
        return cls(
            partition,
            seek,
            offset,
            timestamp_ms,
            int_param(query, "limit", 20, 1, MAX_LIMIT),
            text_param(query, "q", MAX_NEEDLE_CHARS),
            choice_param(query, "in", SCOPES, "any"),
            int_param(query, "scan", DEFAULT_SCAN_CAP, 1, MAX_SCAN_CAP),
            cursor,
        )

    @property
    def match(self) -> Match | None:
        return Match(self.q, self.scope) if self.q else None  # type: ignore[arg-type]

    def params(self, **changes: str) -> tuple[tuple[str, str], ...]:
        """The query string of this question (for links: next page, scan further), with `changes`."""
        out = {
            "partition": "all" if self.partition is None else str(self.partition),
            "seek": self.seek,
            "limit": str(self.limit),
        }
        if self.offset is not None:
            out["offset"] = str(self.offset)
        if self.timestamp_ms is not None:
            out["timestamp"] = str(self.timestamp_ms)
        if self.q:
            out["q"], out["in"] = self.q, self.scope
        if self.scan != DEFAULT_SCAN_CAP:
            out["scan"] = str(self.scan)
        out.update(changes)
        return tuple(out.items())
