"""Turn untrusted record bytes (keys, values, header values) into text that is safe to display.

Pure functions, no I/O. Every function returns a plain ``str``: HTML escaping is the template
engine's job (Django autoescape), so nothing here is ever marked safe, and a payload such as
``<script>alert(1)</script>`` comes back verbatim.

How a payload is shown (``describe_payload``):

- ``null``: the record has no value (a tombstone); ``empty``: a zero-length value.
- ``json``: a JSON object or array in valid UTF-8, pretty-printed with an indent of 2, keys in
  their original order. Numbers keep their original spelling (``1.10`` stays ``1.10``, a 30-digit
  integer is not rounded) and duplicate keys are all shown, so the display never differs from
  the bytes in ways that matter. NaN/Infinity, nesting deeper than ``MAX_JSON_DEPTH`` and
  anything that does not parse fall back to ``text``.
- ``text``: valid UTF-8 that reads as text: no NUL byte and at most one control character
  (other than tab, newline, carriage return) in ``CONTROL_RATIO`` characters. The few control
  characters left are replaced by their visible Unicode "control picture" (ESC becomes ␛), so an
  ANSI colour code in a log line shows up instead of vanishing; everything else is verbatim.
- ``binary``: anything else, as a hex dump, 16 bytes a line: offset, hex bytes, ASCII column.

Large values are cut to ``limit`` bytes BEFORE any decoding or formatting (``truncated`` is
then True and ``size`` keeps the full length), so a 10 MB value costs no more than a 64 KiB one.
A truncated value is never parsed as JSON (it would not parse anyway); a multi-byte UTF-8
character cut in half at the limit is dropped rather than turning the whole value into hex.

With a ``decoder`` (kafka_admin.schemas.decoder.SchemaDecoder, for a cluster with a schema
registry), a Confluent-framed key or value is shown as the JSON its schema decodes it to, with
``schema`` saying which schema id, subject and version; when it cannot be decoded, it is shown as
above and ``schema.reason`` says why.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

from kafka_admin.schemas.wire import Decoded, framing

PayloadKind = Literal["null", "empty", "json", "text", "binary"]

DEFAULT_LIMIT = 64 * 1024
MAX_JSON_DEPTH = 100
CONTROL_RATIO = 32  # text may hold at most one stray control character per this many characters
HEADER_TEXT_LIMIT = 1024  # bytes of a text header value shown
HEADER_HEX_LIMIT = 256  # bytes of a binary header value shown
ELLIPSIS = "…"

# C0 controls and DEL except \t \n \r, and the C1 controls (U+0080-U+009F).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_WORD = re.compile(r"\S+")
# bytes -> ASCII column of the hex dump: printable ASCII as is, everything else '.'.
_ASCII_COLUMN = bytes(b if 0x20 <= b < 0x7F else 0x2E for b in range(256))


@dataclass(frozen=True)
class Payload:
    """A payload ready to display: what it is, the text to show, its full size in bytes."""

    kind: PayloadKind
    text: str
    size: int
    truncated: bool
    schema: Decoded | None = None  # the registry schema the payload names, decoded or not


class PayloadDecoder(Protocol):
    """Decodes schema-framed payloads (kafka_admin.schemas.decoder.SchemaDecoder)."""

    def decode(self, topic: str, data: bytes, is_key: bool = False) -> Decoded | None: ...


def describe_payload(data: bytes | None, limit: int = DEFAULT_LIMIT) -> Payload:
    """Classify and format `data`, looking at no more than its first `limit` bytes."""
    if data is None:
        return Payload("null", "", 0, False)
    size = len(data)
    if size == 0:
        return Payload("empty", "", 0, False)
    limit = max(0, limit)
    truncated = size > limit
    chunk = bytes(data[:limit]) if truncated else bytes(data)
    text = _decode_utf8(chunk, complete=not truncated)
    if text is not None and _reads_as_text(text):
        if not truncated:
            pretty = _pretty_json(text)
            if pretty is not None:
                return Payload("json", pretty, size, False)
        return Payload("text", _show_controls(text), size, truncated)
    return Payload("binary", hex_dump(chunk), size, truncated)


def describe_part(
    data: bytes | None,
    full_size: int,
    limit: int = DEFAULT_LIMIT,
    decoder: PayloadDecoder | None = None,
    topic: str = "",
    is_key: bool = False,
) -> Payload:
    """Like describe_payload, for a key or value that may already have been cut while reading.

    `full_size` is the record's real size: when `data` is shorter, the payload is marked
    truncated and reports the full size, so the page offers the download of the whole value.
    With a `decoder`, a schema-framed payload of `topic` is decoded (see the module docstring).
    """
    if decoder is not None and data and framing(data) is not None:
        return _schema_part(data, full_size, limit, decoder, topic, is_key)
    return _plain_part(data, full_size, limit)


def _schema_part(data: bytes, full_size: int, limit: int, decoder: PayloadDecoder, topic: str, is_key: bool) -> Payload:
    plain = _plain_part(data, full_size, limit)
    frame = framing(data)
    assert frame is not None
    if len(data) < full_size:
        cut = Decoded(frame.schema_id, reason=f"only the first {len(data)} of {full_size} bytes were read; not decoded")
        return replace(plain, schema=cut)
    decoded = decoder.decode(topic, data, is_key)
    if decoded is None:
        return plain
    if decoded.text is None:
        return replace(plain, schema=decoded)
    text = decoded.text
    if len(text) > limit:  # the JSON of a large record is bounded like its bytes
        return Payload("json", text[:limit] + ELLIPSIS, full_size, True, decoded)
    return Payload("json", text, full_size, False, decoded)


def _plain_part(data: bytes | None, full_size: int, limit: int) -> Payload:
    payload = describe_payload(data, limit)
    if data is None or len(data) >= full_size:
        return payload
    if payload.kind == "json":  # a cut JSON document is not valid JSON: show it as the text it is
        payload = describe_payload(data, max(0, len(data) - 1))
    return replace(payload, size=full_size, truncated=True)


def hex_dump(data: bytes, width: int = 16) -> str:
    """``hexdump -C`` style lines: 8-digit hex offset, the bytes in hex, then an ASCII column."""
    half = width // 2
    hex_width = 3 * width  # "xx" + a space per byte, one extra space between the halves, none at the end
    lines = []
    for off in range(0, len(data), width):
        row = data[off : off + width]
        hex_part = row[:half].hex(" ")
        if len(row) > half:
            hex_part += "  " + row[half:].hex(" ")
        ascii_part = row.translate(_ASCII_COLUMN).decode("ascii")
        lines.append(f"{off:08x}  {hex_part:<{hex_width}}  |{ascii_part}|")
    return "\n".join(lines)


def header_text(value: bytes | None) -> str:
    """One header value as text: UTF-8 when it reads as text, else ``0x`` + hex; bounded length.

    A missing (null) value and an empty one both give "". Text is cut after
    ``HEADER_TEXT_LIMIT`` bytes and hex after ``HEADER_HEX_LIMIT`` bytes, with "…" appended.
    Tabs and newlines are allowed (stack traces); use describe_payload() to show a long
    header value in full.
    """
    if not value:
        return ""
    cut = len(value) > HEADER_TEXT_LIMIT
    text = _decode_utf8(bytes(value[:HEADER_TEXT_LIMIT]), complete=not cut)
    if text is not None and "\x00" not in text and not _CONTROL.search(text) and not _SURROGATE.search(text):
        return text + ELLIPSIS if cut else text
    shown = bytes(value[:HEADER_HEX_LIMIT])
    return "0x" + shown.hex() + (ELLIPSIS if len(value) > HEADER_HEX_LIMIT else "")


def short(text: str | None, n: int = 80) -> str:
    """A one-line preview: runs of whitespace become one space, cut to `n` characters with "…"."""
    if not text or n <= 0:
        return ""
    words: list[str] = []
    length = -1
    for match in _WORD.finditer(text):  # stops early: a preview of a long text reads only its head
        words.append(match.group())
        length += 1 + len(words[-1])
        if length > n:
            break
    line = " ".join(words)
    if len(line) <= n:
        return line
    return line[: n - 1].rstrip() + ELLIPSIS


# ------------------------------------------------------------------------------------ helpers


def _decode_utf8(data: bytes, *, complete: bool) -> str | None:
    """Strict UTF-8, or None. When not `complete`, a character cut off at the end is dropped."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        return decoder.decode(data, final=complete)
    except UnicodeDecodeError:
        return None


def _reads_as_text(text: str) -> bool:
    if "\x00" in text:
        return False
    controls = len(_CONTROL.findall(text))
    return controls * CONTROL_RATIO <= len(text)


def _show_controls(text: str) -> str:
    """Replace stray control characters by a visible symbol: U+2400 block for C0, U+2421 for DEL."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(_control_picture, text)


def _control_picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return "\ufffd"  # C1 controls have no picture


class _Number(str):
    """A JSON number kept as its source text, so pretty-printing never rounds or respells it."""


class _Object(list):
    """A JSON object as its list of (key, value) pairs: order and duplicate keys are kept."""


class _TooDeep(Exception):
    pass


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _pretty_json(text: str) -> str | None:
    head = text.lstrip()[:1]
    if head not in ("{", "["):
        return None
    try:
        value = json.loads(
            text,
            object_pairs_hook=_Object,
            parse_float=_Number,
            parse_int=_Number,
            parse_constant=_reject_constant,
        )
    except (ValueError, RecursionError):
        return None
    out: list[str] = []
    try:
        _write_json(value, 0, out)
    except _TooDeep:
        return None
    return "".join(out)


def _json_string(s: str) -> str:
    # Lone surrogates ("\ud800" in the source) cannot be encoded as UTF-8 in a response: keep them escaped.
    return json.dumps(s, ensure_ascii=bool(_SURROGATE.search(s)))


def _write_json(value: Any, depth: int, out: list[str]) -> None:
    if depth > MAX_JSON_DEPTH:
        raise _TooDeep
    pad = "  " * (depth + 1)
    if isinstance(value, _Object):
        if not value:
            out.append("{}")
            return
        out.append("{")
        for i, (key, item) in enumerate(value):
            out.append(("\n" if i == 0 else ",\n") + pad + _json_string(key) + ": ")
            _write_json(item, depth + 1, out)
        out.append("\n" + "  " * depth + "}")
    elif isinstance(value, list):
        if not value:
            out.append("[]")
            return
        out.append("[")
        for i, item in enumerate(value):
            out.append(("\n" if i == 0 else ",\n") + pad)
            _write_json(item, depth + 1, out)
        out.append("\n" + "  " * depth + "]")
    elif isinstance(value, _Number):
        out.append(str.__str__(value))
    elif isinstance(value, str):
        out.append(_json_string(value))
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    else:
        out.append("null")
