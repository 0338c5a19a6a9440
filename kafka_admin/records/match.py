"""Which records a person's search asks for: a plain substring in the key, the value or the headers.

Pure, no I/O. The text is matched as UTF-8 bytes against the record's raw bytes, ignoring the case
of ASCII letters, so it finds words in JSON and text payloads and ASCII runs inside binary ones.
There is no pattern language: a substring cannot be made to run slowly, and what it finds is what
a person typed (a regex would need RE2, and most people searching a key do not want one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kafka_admin.records.read import Record

Scope = Literal["any", "key", "value", "headers"]
SCOPES: tuple[Scope, ...] = ("any", "key", "value", "headers")
MAX_NEEDLE_CHARS = 200


@dataclass(frozen=True)
class Match:
    """Records holding `text` in `scope`: the key, the value, a header's name or value, or any of them."""

    text: str
    scope: Scope = "any"

    def __post_init__(self) -> None:
        if not self.text:
            raise ValueError("the search text is empty")
        if len(self.text) > MAX_NEEDLE_CHARS:
            raise ValueError(f"the search text is too long (at most {MAX_NEEDLE_CHARS} characters)")
        if self.scope not in SCOPES:
            raise ValueError(f"search in one of {', '.join(SCOPES)}, not {self.scope!r}")

    @property
    def needle(self) -> bytes:
        return self.text.encode("utf-8").lower()

    def __call__(self, record: Record) -> bool:
        needle, scope = self.needle, self.scope
        if scope in ("any", "key") and _has(record.key, needle):
            return True
        if scope in ("any", "value") and _has(record.value, needle):
            return True
        if scope in ("any", "headers"):
            for name, value in record.headers:
                if needle in name.encode("utf-8", "surrogateescape").lower() or _has(value, needle):
                    return True
        return False

    def describe(self) -> str:
        where = {"any": "key, value or headers", "key": "key", "value": "value", "headers": "headers"}[self.scope]
        return f"{self.text!r} in the {where}"


def _has(data: bytes | None, needle: bytes) -> bool:
    return data is not None and needle in data.lower()
