"""Query parameters: parsed and validated once, shared by views, websockets and the API.

Every page's state (cluster, filters, sort, page number) lives in its query string, so a URL can
be shared during an incident. A bad value raises InvalidPage with a message meant for a person.
Each feature's own queries (monitor/queries.py, dlq/queries.py) are built from these.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from dashboard.clusters import UnknownCluster, get_cluster
from kafka_admin.timestamps import parse_timestamp_ms

MAX_TEXT = 200
MAX_PAGE = 100_000
PAGE_SIZE = 50
MAX_OFFSET = 2**63 - 1


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


def name_param(query: Mapping[str, str], name: str) -> str:
    value = query.get(name, "")
    if not value:
        raise InvalidPage(f"{name} is required")
    if len(value) > 255:
        raise InvalidPage(f"{name} is too long (at most 255 characters)")
    return value


def parse_timestamp(raw: str) -> int:
    """Milliseconds since the epoch, or an ISO-8601 date-time (UTC unless it says otherwise)."""
    if not raw.strip():
        raise InvalidPage("timestamp is required to seek by time")
    try:
        return parse_timestamp_ms(raw)
    except ValueError as exc:
        raise InvalidPage(str(exc)) from None


@dataclass(frozen=True)
class Paged:
    items: list
    number: int
    pages: int
    total: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def paginate(items: list, number: int, size: int = PAGE_SIZE) -> Paged:
    pages = max(1, math.ceil(len(items) / size))
    number = min(number, pages)
    return Paged(items[(number - 1) * size : number * size], number, pages, len(items))
