"""Plain-text tables for the CLI commands: aligned columns, '-' for unknown values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def cell(value: object) -> str:
    return "-" if value is None or value == "" else str(value)


def render(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    text_rows = [[cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in text_rows:
        widths = [max(w, len(v)) for w, v in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in text_rows]
    return "\n".join(lines)
