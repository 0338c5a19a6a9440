"""The DLQ topic page's filters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dashboard.params import MAX_PAGE, choice_param, int_param, parse_timestamp, text_param

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
