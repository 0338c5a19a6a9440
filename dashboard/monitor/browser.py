"""The message browser on the topic page: the question parsed, one bounded read in a reader child,
the rows to draw. The live tail (dashboard.monitor.tail) draws its rows with the same row_context."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from django.http import HttpRequest

from dashboard.clusters import get_cluster, schema_decoder
from dashboard.monitor.queries import BrowseQuery
from dashboard.params import InvalidPage
from kafka_admin.isolation import reads
from kafka_admin.records import read as messages
from kafka_admin.records.browse import BrowseResult
from kafka_admin.records.merge import format_cursor
from kafka_admin.records.payload import Payload, PayloadDecoder, describe_part, header_text, short
from kafka_admin.records.read import Record

MAX_HEADERS_SHOWN = 200
PREVIEW_CHARS = 160
HEX_PREVIEW_BYTES = 12
ASKING = ("partition", "seek", "q", "cursor", "offset", "timestamp", "limit")  # a person pressed Read
UNREACHABLE_NOTE = "The cluster did not answer the last poll, so no records were read. Press Read to try anyway."


def browse_context(cluster: str, topic: str, request: HttpRequest, reachable: bool = True) -> dict[str, Any]:
    """Read the page the person asked for; on a first visit, the newest records of every partition,
    unless the poller found the cluster unreachable (a read would only wait for its timeout)."""
    try:
        browse = BrowseQuery.parse(request.GET)
    except InvalidPage as exc:
        return {"browse": BrowseQuery(), "browse_error": str(exc), "browse_timestamp": request.GET.get("timestamp", "")}
    if not reachable and not any(name in request.GET for name in ASKING):
        return {"browse": browse, "browse_timestamp": "", "browse_note": UNREACHABLE_NOTE}
    result = read(cluster, topic, browse)
    decoder = schema_decoder(cluster)
    return {
        "browse": browse,
        "browse_timestamp": request.GET.get("timestamp", ""),
        "result": result,
        "browse_error": result.error or _nothing_at_time(browse, result),
        "records": [row_context(cluster, topic, r, decoder) for r in result.records],
        "match_text": browse.match.describe() if browse.match else "",
        "next_link": _next_link(browse, result),
        "partition_count": len(result.bounds),
        "start_href": "?" + urlencode(browse.params()),
    }


def read(cluster: str, topic: str, browse: BrowseQuery) -> BrowseResult:
    seek = {
        "newest": messages.Newest(),
        "oldest": messages.Oldest(),
        "offset": messages.FromOffset(browse.offset or 0),
        "timestamp": messages.FromTimestamp(browse.timestamp_ms or 0),
    }[browse.seek]
    return reads.browse(
        get_cluster(cluster),
        topic,
        browse.partition,
        seek,
        limit=browse.limit,
        match=browse.match,
        scan_cap=browse.scan,
        cursor=dict(browse.cursor) or None,
    )


def row_context(cluster: str, topic: str, r: Record, decoder: PayloadDecoder | None) -> dict[str, Any]:
    """One record as a row: the one-line previews and, for when it is opened, the whole of it."""
    key = describe_part(r.key, r.key_size, decoder=decoder, topic=topic, is_key=True)
    value = describe_part(r.value, r.value_size, decoder=decoder, topic=topic)
    when = r.timestamp
    return {
        "record": r,
        "key": key,
        "value": value,
        "key_preview": preview(key, r.key),
        "value_preview": preview(value, r.value),
        "iso": when.isoformat(timespec="milliseconds").replace("+00:00", "Z") if when else "",
        "when": when.strftime("%Y-%m-%d %H:%M:%S.%f")[:23] if when else "no timestamp",
        "headers": [(name, header_text(v)) for name, v in r.headers[:MAX_HEADERS_SHOWN]],
        "download_base": f"/c/{quote(cluster)}/topics/{quote(topic)}/messages/{r.partition}/{r.offset}/",
    }


def preview(payload: Payload, data: bytes | None) -> str:
    """A one-line preview: the text or JSON squeezed onto a line, binary as its first bytes in hex."""
    if payload.kind in ("null", "empty"):
        return payload.kind
    if payload.kind == "binary":
        head = bytes((data or b"")[:HEX_PREVIEW_BYTES]).hex(" ")
        return f"{head}{' …' if payload.size > HEX_PREVIEW_BYTES else ''} ({payload.size:,} B)"
    return short(payload.text, PREVIEW_CHARS)


def _next_link(browse: BrowseQuery, result: BrowseResult) -> dict[str, str] | None:
    """The link that goes on: "scan further" while a filter has not filled the page, else older/newer."""
    if result.cursor is None or result.exhausted:
        return None
    query = "?" + urlencode(browse.params(cursor=format_cursor(result.cursor)))
    if browse.match and len(result.records) < browse.limit:
        label = f"Scan the next {browse.scan:,} records"
    else:
        label = "Older records" if result.direction == "newest" else "Newer records"
    return {"href": query, "label": label}


def _nothing_at_time(browse: BrowseQuery, result: BrowseResult) -> str | None:
    if browse.seek != "timestamp" or result.records or browse.cursor or result.error or browse.timestamp_ms is None:
        return None
    when = datetime.fromtimestamp(browse.timestamp_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")
    where = "any partition" if browse.partition is None else f"partition {browse.partition}"
    return f"no record in {where} has a timestamp at or after {when.replace('+00:00', 'Z')}"
