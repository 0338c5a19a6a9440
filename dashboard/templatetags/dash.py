"""Formatting filters for the dashboard's templates: numbers, durations, rates, states, URLs."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template

from kafka_admin.dlq.conventions.registry import CONVENTIONS
from kafka_admin.figures.status import duration_text
from kafka_admin.snapshot import config_text
from kafka_admin.snapshot.groups.registry import STATE_KINDS

register = template.Library()

STATE_CLASS = STATE_KINDS  # a group state's badge class is its kind (ok, idle, warn, err)


def _number(value: object) -> float | None:
    """Templates pass "" for a missing attribute; anything that is not a number shows as unknown."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@register.filter
def num(value: object) -> str:
    """1234567 -> "1,234,567"; None -> "—"."""
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}"
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def duration(seconds: object) -> str:
    """Seconds as a short human duration: 0.4 s, 12 s, 3m 05s, 2h 10m, 3d 4h."""
    s = _number(seconds)
    if s is None:
        return "—"
    if s < 10:
        return f"{s:.1f} s"
    if s < 60:
        return f"{s:.0f} s"
    return duration_text(int(s), whole_seconds_below=60)


@register.filter
def millis(ms: object) -> str:
    """A short time in milliseconds as people read it: 46 ms, 1.3 s."""
    value = _number(ms)
    if value is None:
        return "—"
    return f"{value:.0f} ms" if value < 1000 else duration(value / 1000)


@register.filter
def config_label(name: str) -> str:
    """A topic setting's name in words (retention.ms -> "Keep records for")."""
    return config_text.label(name)


@register.filter
def config_value(value: str | None, name: str) -> str:
    """A topic setting's value in human units (retention.ms 86400000 -> "1 day")."""
    return config_text.value_text(name, value)


@register.filter
def conventions_text(style: str) -> str:
    """The header conventions that read a record ("spring+project") as words: "Spring's, the project's"."""
    names = [] if style in ("", "none") else style.split("+")
    words = [c.possessive if (c := CONVENTIONS.by_name(n)) else n for n in names]
    return ", ".join(words) or "none recognised"


@register.filter
def timelag(tl: object) -> str:
    """A TimeLag as text, with "≥" when it is a lower bound."""
    seconds = getattr(tl, "seconds", None)
    if seconds is None:
        return "—"
    return ("≥ " if getattr(tl, "lower_bound", False) else "") + duration(seconds)


@register.filter
def rate(value: object) -> str:
    """Records per second."""
    value = _number(value)
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:,.0f}/s"
    return f"{value:.1f}/s"


@register.filter
def state_class(state: str) -> str:
    return STATE_CLASS.get(state, "unknown")


@register.simple_tag
def query(current: object, **changes: object) -> str:
    """The query string of a page with some parameters changed (for sort links and paging)."""
    params = dict(current.params()) if hasattr(current, "params") else {}
    for key, value in changes.items():
        params[key] = str(value)
    return "?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})


@register.simple_tag
def sort_query(current: object, column: str) -> str:
    """Link for a sortable column header: first click sorts descending (asc for names), again flips."""
    params = dict(current.params())
    if params.get("sort") == column:
        order = "asc" if params.get("order") == "desc" else "desc"
    else:
        order = "asc" if column == "name" else "desc"
    params.update(sort=column, order=order, page="1")
    return "?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})


@register.filter
def sort_mark(current: object, column: str) -> str:
    params = dict(current.params())
    if params.get("sort") != column:
        return ""
    return "▼" if params.get("order") == "desc" else "▲"


@register.filter
def split_words(value: str) -> list[str]:
    return value.split()


@register.filter
def pretty_json(value: object) -> str:
    import json

    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


STATUS_CLASS = {"OK": "ok", "WARN": "warn", "STALL": "err", "STOP": "err", "REWIND": "err", "NODATA": "idle"}


@register.filter
def status_class(status: object) -> str:
    """Badge colour for a lag status (a LagStatus, a GroupStatus/PartitionStatus, or its name)."""
    name = str(getattr(status, "status", status) or "NODATA")
    return STATUS_CLASS.get(name, "idle")


@register.filter
def status_name(status: object) -> str:
    name = str(getattr(status, "status", status) or "NODATA")
    return "no data yet" if name == "NODATA" else name
