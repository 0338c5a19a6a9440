"""Hostile values and the checks every answer to them must pass (shared by the tests in this folder)."""

from __future__ import annotations

import json
from urllib.parse import quote

from hypothesis import strategies as st

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
MARKUP = (SCRIPT, IMG, '"><svg onload=alert(1)>', "<b>bold</b>", "'\"&<>")

# Every kind of malformed value named in the issue, as it would arrive in a URL, a query or a form.
HOSTILE = (
    "",
    " ",
    "-1",
    "0",
    "-0",
    "+1",
    "1.5",
    "1e3",
    "0x10",
    "1_000",
    str(2**31),
    str(2**63),
    str(-(2**63) - 1),
    "9" * 40,
    "9" * 5000,
    "NaN",
    "inf",
    "²",  # str.isdigit() says yes, int() says no
    "\u0661\u0662",  # Arabic-Indic digits: int() accepts them
    "\uff10",  # fullwidth zero
    "null",
    "true",
    "[]",
    "{}",
    "../../etc/passwd",
    "..",
    "..%2F..%2Fetc%2Fpasswd",
    "' OR 1=1 --",
    '"; DROP TABLE dashboard_dlqrecord; --',
    "%",
    "_",
    *MARKUP,
    "\x00",
    "a\x00b",
    "\r\n",
    "line\nbreak",
    "\t",
    "\x1b[31mred",
    "\u202eevil",  # right-to-left override
    "💥" * 10,
    "é" * 300,
    "x" * 100_000,
    "9999-12-31T23:59:59-23:59",  # in UTC: the year 10000
    "0001-01-01T00:00:00+14:00",
    "999999999999999",
)

NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2**31, 2**63, -(2**63), 10**30]),
)
# No lone surrogates: they cannot be sent in a URL or a form at all (the client would fail, not the server).
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
CONTROL_TEXT = st.text(st.characters(max_codepoint=0x9F, exclude_categories=("Cs",)), max_size=30)
LONG_TEXT = st.integers(min_value=200, max_value=20_000).map(lambda n: ("<b>x</b>" * n)[:n])
HOSTILE_TEXT = st.one_of(
    st.sampled_from(HOSTILE),
    TEXT,
    CONTROL_TEXT,
    LONG_TEXT,
    NUMBERS.map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
# Anything JSON can carry, for API bodies.
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBERS, st.floats(), HOSTILE_TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12,
)


def segment(value: str) -> str:
    """A value as one URL path segment."""
    return quote(value, safe="")


def text_of(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", "replace")


def check_api(response, *, allow_unavailable: bool = False) -> dict:
    """An API answer: JSON (never an HTML page), never a 500, an "error" message on every 4xx."""
    status = response.status_code
    text = text_of(response)
    assert status < 500 or (allow_unavailable and status in (502, 503, 504)), (status, text[:500])
    assert response["Content-Type"] == "application/json", (status, response["Content-Type"], text[:300])
    assert response.get("X-Content-Type-Options") == "nosniff"
    assert "Traceback" not in text
    assert not text.lstrip().startswith("<"), text[:300]
    body = json.loads(text)
    assert isinstance(body, dict)
    if status >= 400:
        assert isinstance(body.get("error"), str) and body["error"].strip(), body
    return body


def check_page(response, *reflected: str) -> str:
    """An HTML answer: never a 500, no stack trace, a message on a 4xx, hostile values escaped."""
    status = response.status_code
    text = text_of(response)
    assert status < 500, (status, text[:1000])
    assert "Traceback" not in text
    if 400 <= status < 500 and response.get("Content-Type", "").startswith("text/html"):
        assert_clear_message(status, text)
    if response.get("Content-Type", "").startswith("text/html"):  # /metrics is text/plain: labels are not markup
        for value in reflected:
            assert_not_raw(text, value)
    return text


def assert_clear_message(status: int, text: str) -> None:
    """A 4xx page says what went wrong: a heading and, for our own 400s, the message of the refusal."""
    if status == 405 and not text:
        return  # require_POST's bare 405 (with an Allow header); see the report
    assert "<h1>" in text, text[:500]
    if status == 400:
        assert 'class="error"' in text or "errorlist" in text or "Bad Request" in text, text[:1000]
    elif status == 403:
        assert "operator" in text or "log in" in text or "read-only" in text or "CSRF" in text, text[:1000]
    elif status == 404:
        assert "Not found" in text, text[:1000]


# Markup that never appears in a page of ours unless a hostile value was reflected without escaping.
LIVE_MARKUP = (SCRIPT, IMG, "<svg onload=alert(1)>", "<b>bold</b>", "<b>x</b>")


def assert_not_raw(text: str, value: str) -> None:
    """A reflected value never appears with its markup live (escaped is fine, and so is absent)."""
    for markup in LIVE_MARKUP:
        if markup in value:
            assert markup not in text, f"unescaped {markup!r} in the page"


def warm_up_group_coordinator(kafka, timeout: float = 60) -> None:
    """Commit once, so the broker's group coordinator (__consumer_offsets) is up before the tests use it."""
    topic = kafka.create_topic(kafka.unique("warm-up"), partitions=1)
    kafka.commit(kafka.unique("warm-up"), [(topic, 0, 0)], timeout=timeout)  # waits out a loading coordinator
