"""The headers a re-published record carries, built for a whole run at a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from kafka_admin.dlq import headers as dh
from kafka_admin.dlq.conventions.registry import CONVENTIONS
from kafka_admin.dlq.routing import Header, republish_headers


class RepublishHeaders:
    """republish_headers() for one run, with the per-record work cut down: whether it keeps a header
    is asked once per header name, and the headers it adds once per transaction (`start`); per
    record only the offset's header is new. A generic convention's name (the registry cannot tell
    by the name alone) sends that record through republish_headers() whole."""

    MAX_NAMES = 10_000

    def __init__(self, dlq_topic: str, actor: str) -> None:
        self.dlq_topic = dlq_topic
        self.actor = actor
        self.dropped: dict[str, bool | None] = {}
        self.generic: set[str] = set()  # names met whose dropping depends on the record
        self.added = len(self._republish((), 0, 0, datetime.now(UTC)))
        self.before: list[Header] = []
        self.after: list[Header] = []

    def _republish(self, headers: Sequence[Header], partition: int, offset: int, at: datetime) -> list[Header]:
        return republish_headers(
            headers, dlq_topic=self.dlq_topic, partition=partition, offset=offset, actor=self.actor, at=at
        )

    def start(self, partition: int, at: datetime) -> None:
        """The headers added to the records of one DLQ partition re-published at `at`."""
        added = self._republish((), partition, 0, at)
        i = next(i for i, (name, _) in enumerate(added) if name == dh.REPROCESSED_FROM_OFFSET)
        self.before, self.after = added[:i], added[i + 1 :]

    def __call__(self, headers: Sequence[Header], offset: int) -> list[Header]:
        """republish_headers(headers, offset=offset, ...) with the partition and time given to start()."""
        dropped = self.dropped
        try:
            out = [header for header in headers if not dropped[header[0]]]
        except KeyError:  # a name not seen yet
            out = [header for header in headers if not self._dropped(header[0])]
        if self.generic and not self.generic.isdisjoint([h[0] for h in headers]):
            out = [h for h in CONVENTIONS.kept(headers) if not h[0].startswith(dh.REPROCESS_HEADER_PREFIX)]
        out += self.before
        out.append((dh.REPROCESSED_FROM_OFFSET, b"%d" % offset))  # dh.encode_text(offset), quicker
        out += self.after
        return out

    def _dropped(self, name: str) -> bool | None:
        if name in self.dropped:
            return self.dropped[name]
        return self._learn(name)

    def _learn(self, name: str) -> bool | None:
        if len(self.dropped) >= self.MAX_NAMES:
            self.dropped.clear()
        # None (depends on the record): kept by the first pass, settled per record in __call__.
        if CONVENTIONS.strips(name) is None:
            self.generic.add(name)
            gone = None
        else:
            gone = len(self._republish(((name, None),), 0, 0, datetime.now(UTC))) == self.added
        self.dropped[name] = gone
        return gone
