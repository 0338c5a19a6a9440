"""describe_payload, header_text, short: untrusted bytes into plain text, bounded and never marked safe."""

from __future__ import annotations

import json
import time

from kafka_admin.records.payload import (
    HEADER_HEX_LIMIT,
    HEADER_TEXT_LIMIT,
    MAX_JSON_DEPTH,
    Payload,
    describe_payload,
    header_text,
    hex_dump,
    short,
)


class TestNullAndEmpty:
    def test_null_is_not_empty(self):
        assert describe_payload(None) == Payload("null", "", 0, False)
        assert describe_payload(b"") == Payload("empty", "", 0, False)


class TestJson:
    def test_object_pretty_printed_with_indent_2_in_original_key_order(self):
        data = json.dumps({"z": 1, "a": [1, 2], "m": {"x": None, "y": True}}).encode()
        p = describe_payload(data)
        assert p.kind == "json"
        assert p.text == json.dumps({"z": 1, "a": [1, 2], "m": {"x": None, "y": True}}, indent=2)
        assert p.size == len(data) and not p.truncated

    def test_array_and_surrounding_whitespace(self):
        p = describe_payload(b'  \n[1, "two", {}, []]\n')
        assert p.kind == "json"
        assert p.text == '[\n  1,\n  "two",\n  {},\n  []\n]'

    def test_unicode_kept_readable(self):
        p = describe_payload('{"name": "Zoë 東京 ✓"}'.encode())
        assert p.text == '{\n  "name": "Zoë 東京 ✓"\n}'

    def test_numbers_keep_their_spelling(self):
        p = describe_payload(b'{"price": 1.10, "big": 123456789012345678901234567890, "e": 1E400, "n": -0.0}')
        assert p.kind == "json"
        assert '"price": 1.10' in p.text
        assert '"big": 123456789012345678901234567890' in p.text
        assert '"e": 1E400' in p.text
        assert '"n": -0.0' in p.text

    def test_duplicate_keys_are_all_shown(self):
        p = describe_payload(b'{"a": 1, "a": 2}')
        assert p.kind == "json"
        assert p.text == '{\n  "a": 1,\n  "a": 2\n}'

    def test_escapes_stay_valid_json(self):
        p = describe_payload(b'{"s": "line\\nbreak \\"quoted\\" \\u0000 \\ud800"}')
        assert p.kind == "json"
        assert json.loads(p.text)["s"] == 'line\nbreak "quoted" \x00 \ud800'
        p.text.encode("utf-8")  # a lone surrogate stays escaped: the page can still be encoded

    def test_scalars_are_text_not_json(self):
        assert describe_payload(b"42").kind == "text"
        assert describe_payload(b'"hello"').kind == "text"
        assert describe_payload(b"true").kind == "text"

    def test_invalid_json_is_text(self):
        for raw in (b'{"a": 1', b'{"a": NaN}', b"[1, 2] trailing", b"{a: 1}", b'{"a": Infinity}'):
            p = describe_payload(raw)
            assert p.kind == "text", raw
            assert p.text == raw.decode()

    def test_too_deep_nesting_is_text(self):
        deep = b"[" * (MAX_JSON_DEPTH + 5) + b"]" * (MAX_JSON_DEPTH + 5)
        assert describe_payload(deep).kind == "text"
        very_deep = b"[" * 50_000 + b"]" * 50_000  # beyond the parser's recursion limit
        assert describe_payload(very_deep, limit=200_000).kind == "text"

    def test_not_parsed_when_truncated(self):
        data = json.dumps({"items": list(range(1000))}).encode()
        p = describe_payload(data, limit=100)
        assert p.kind == "text" and p.truncated
        assert p.text == data[:100].decode()
        assert p.size == len(data)


class TestText:
    def test_utf8_text_verbatim(self):
        raw = "Grüße\tfrom\r\nKafka — ünïcödé 🚀".encode()
        assert describe_payload(raw) == Payload("text", raw.decode(), len(raw), False)

    def test_html_and_script_returned_verbatim(self):
        raw = b"<script>alert(1)</script><img src=x onerror=alert(2)>&amp;"
        p = describe_payload(raw)
        assert p.kind == "text"
        assert p.text == raw.decode()  # escaping is the template's job
        assert type(p.text) is str  # a plain str, never a SafeString
        assert header_text(raw) == raw.decode()
        assert short(raw.decode(), 200) == raw.decode()

    def test_html_inside_json_verbatim(self):
        p = describe_payload(b'{"html": "<b onmouseover=alert(1)>x</b>"}')
        assert p.kind == "json" and "<b onmouseover=alert(1)>x</b>" in p.text

    def test_utf8_cut_in_the_middle_of_a_character_stays_text(self):
        raw = "ü".encode() * 100  # 2 bytes each
        p = describe_payload(raw, limit=51)
        assert p.kind == "text" and p.truncated
        assert p.text == "ü" * 25
        assert p.size == 200


class TestControlCharacters:
    def test_nul_byte_makes_it_binary(self):
        assert describe_payload(b"hello world, a long enough text\x00").kind == "binary"

    def test_many_controls_make_it_binary(self):
        assert describe_payload(b"\x01\x02\x03abc").kind == "binary"
        assert describe_payload(b"a\x1bb").kind == "binary"

    def test_a_rare_control_stays_text_and_is_made_visible(self):
        raw = b"2024-01-01 INFO \x1b[32mstarted\x1b[0m the service after a long and careful warm up phase"
        p = describe_payload(raw)
        assert p.kind == "text"
        assert p.text.startswith("2024-01-01 INFO \u241b[32mstarted\u241b[0m")
        assert "\x1b" not in p.text

    def test_tab_newline_carriage_return_are_fine(self):
        raw = b"a\tb\nc\r\n" * 10
        assert describe_payload(raw) == Payload("text", raw.decode(), len(raw), False)

    def test_c1_controls_count_as_controls(self):
        assert describe_payload("x\u0085\u0090y".encode()).kind == "binary"


class TestBinary:
    def test_invalid_utf8_is_hex(self):
        raw = b"\xff\xfe\x00\x01hello"
        p = describe_payload(raw)
        assert p.kind == "binary"
        assert p.text == "00000000  ff fe 00 01 68 65 6c 6c  6f                       |....hello|"

    def test_hex_dump_layout(self):
        lines = hex_dump(bytes(range(0x20, 0x20 + 40))).splitlines()
        assert lines == [
            "00000000  20 21 22 23 24 25 26 27  28 29 2a 2b 2c 2d 2e 2f  | !\"#$%&'()*+,-./|",
            "00000010  30 31 32 33 34 35 36 37  38 39 3a 3b 3c 3d 3e 3f  |0123456789:;<=>?|",
            "00000020  40 41 42 43 44 45 46 47                           |@ABCDEFG|",
        ]
        assert all(len(line) == len(lines[0]) for line in lines[:2])

    def test_non_ascii_bytes_are_dots(self):
        line = hex_dump(bytes([0x00, 0x7F, 0x80, 0xFF, 0x41]))
        assert line.endswith("|....A|")

    def test_overlong_and_surrogate_encodings_are_not_utf8(self):
        assert describe_payload(b"\xc0\xafabc").kind == "binary"
        assert describe_payload(b"\xed\xa0\x80abc").kind == "binary"  # CESU-8 surrogate


class TestTruncation:
    def test_ten_megabytes_render_fast_and_bounded(self):
        limit = 64 * 1024
        for raw in (b"x" * 10_000_000, bytes(range(256)) * 40_000, b'{"a": "' + b"y" * 10_000_000 + b'"}'):
            started = time.perf_counter()
            p = describe_payload(raw)
            elapsed = time.perf_counter() - started
            assert elapsed < 0.5
            assert p.truncated and p.size == len(raw)
            assert p.kind in ("text", "binary")
            # hex: ~80 characters per 16 bytes; text: at most one character per byte
            assert len(p.text) <= limit * 5

    def test_truncated_hex_covers_only_the_limit(self):
        p = describe_payload(b"\xff" * 1000, limit=32)
        assert p.kind == "binary" and p.truncated and p.size == 1000
        assert len(p.text.splitlines()) == 2

    def test_exactly_at_limit_is_not_truncated(self):
        p = describe_payload(b'{"a": 1}', limit=8)
        assert p.kind == "json" and not p.truncated

    def test_bytearray_and_memoryview_accepted(self):
        assert describe_payload(bytearray(b"abc")).text == "abc"
        assert describe_payload(memoryview(b"abcdef"), limit=3).text == "abc"


class TestHeaderText:
    def test_text_value(self):
        assert header_text(b"com.example.BoomException") == "com.example.BoomException"

    def test_stack_trace_with_newlines_and_tabs_is_text(self):
        trace = "java.lang.IllegalStateException: boom\n\tat com.example.Foo.bar(Foo.java:42)"
        assert header_text(trace.encode()) == trace

    def test_binary_value_is_hex(self):
        assert header_text(b"\x00\x00\x00\x07") == "0x00000007"
        assert header_text(b"\xff\xfe") == "0xfffe"
        assert header_text(b"abc\x01") == "0x61626301"

    def test_null_and_empty(self):
        assert header_text(None) == ""
        assert header_text(b"") == ""

    def test_long_values_are_bounded(self):
        hexed = header_text(b"\x00" * 10_000)
        assert hexed == "0x" + "00" * HEADER_HEX_LIMIT + "…"
        text = header_text(b"a" * 10_000)
        assert text == "a" * HEADER_TEXT_LIMIT + "…"

    def test_long_text_cut_inside_a_character_stays_text(self):
        value = "é".encode() * HEADER_TEXT_LIMIT
        assert header_text(value) == "é" * (HEADER_TEXT_LIMIT // 2) + "…"


class TestShort:
    def test_collapses_whitespace(self):
        assert short("  a\n\n b\t\tc  ", 80) == "a b c"

    def test_cuts_with_ellipsis_to_n_characters(self):
        out = short("abcdefghij klmnop", 8)
        assert out == "abcdefg…" and len(out) == 8

    def test_fits_exactly(self):
        assert short("abc def", 7) == "abc def"

    def test_empty_and_degenerate(self):
        assert short("", 10) == ""
        assert short(None, 10) == ""
        assert short("   \n ", 10) == ""
        assert short("abc", 0) == ""

    def test_long_text_is_fast(self):
        text = "word " * 2_000_000
        started = time.perf_counter()
        assert short(text, 20) == "word word word word…"
        assert time.perf_counter() - started < 0.1
