"""Sections of bench/RESULTS.md that targets outside `make bench` write between two markers
(`make bench-scale`, `bench-scale-downstream`, `bench-scale-rss`); run_all.py carries them over."""

from __future__ import annotations

from pathlib import Path


def kept(path: Path, begin: str, end: str) -> str:
    """The section as the file holds it now, markers included, or "" when it has none."""
    if not path.exists():
        return ""
    text = path.read_text()
    if begin not in text or end not in text:
        return ""
    return text[text.index(begin) : text.index(end) + len(end)] + "\n"


def replace(report: str, section: str, begin: str, end: str) -> str:
    """`report` with `section` in place of its old one, or appended; an empty section changes nothing."""
    if not section:
        return report
    if begin in report and end in report:
        tail = report[report.index(end) + len(end) :].removeprefix("\n")
        return report[: report.index(begin)] + section.rstrip("\n") + "\n" + tail
    return report.rstrip("\n") + "\n\n" + section
