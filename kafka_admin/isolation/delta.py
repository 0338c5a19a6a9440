"""The collector child's snapshots as deltas: only the groups and topics that differ from the last one sent.

At 50,000 groups of 10 partitions a whole snapshot is ~15 MB of pickle a cycle, and unpickling it
cost the parent seconds of CPU while about 1 % of the groups change. So the child (SnapshotSender)
sends the groups and topics that differ from what it sent last, the keys of those gone, and every
other field of the snapshot as a "shell" (a ClusterSnapshot without topics and groups); the parent
(SnapshotReceiver) rebuilds the full, immutable snapshot from the one it holds, keeping its own
objects for everything unchanged (a downstream `is` check then finds them unchanged at once).

Guards, so that a delta is never applied to the wrong base:
- each child's sender has a generation id of its own, and numbers its messages;
- the parent says which (generation, sequence) it holds when it asks; the child sends a delta only
  against exactly that, else (a new child, a lost or refused message, any doubt) a full snapshot;
- a delta names its base, and the rebuilt tuples must have the counts the child had: a receiver
  refuses anything else (BaseMismatch) and forgets its base, so the next message is full.
Equality: an item counts as unchanged when it is the same object or equal (`==`) to the one sent.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kafka_admin.snapshot.model import ClusterSnapshot, Group, Topic

Held = tuple[str, int]  # (generation, sequence) of the snapshot a receiver holds
_MISSING = object()


class BaseMismatch(Exception):
    """A delta that does not apply to the snapshot held: ask for a full one."""


@dataclass(frozen=True, slots=True)
class Part:
    """How one tuple of a snapshot (its groups, or its topics) differs from the base's.

    `changed`: new values of items the base has (same key), in their new order. `added` and
    `added_at`: items the base lacks, and their indices in the new tuple (ascending). `removed`:
    keys of the base's items that are gone. `order`: every key in the new order, only when the
    kept items are not in the base's relative order (else None). `count`: the new tuple's length.
    """

    changed: tuple = ()
    added: tuple = ()
    added_at: tuple[int, ...] = ()
    removed: tuple[str, ...] = ()
    order: tuple[str, ...] | None = None
    count: int = 0

    @property
    def items(self) -> int:
        """How many items this part carries: what the delta costs to send."""
        return len(self.changed) + len(self.added)


@dataclass(frozen=True, slots=True)
class SnapshotMessage:
    """One cycle's snapshot as the child sends it: whole (`base` None), or a delta against `base`.

    A delta's `snapshot` is the shell: every field as collected, topics and groups empty (they are
    in `topics` and `groups`)."""

    generation: str
    sequence: int
    base: int | None
    snapshot: ClusterSnapshot
    groups: Part | None = None
    topics: Part | None = None

    @property
    def full(self) -> bool:
        return self.base is None


def _group_key(group: Group) -> str:
    return group.group_id


def _topic_key(topic: Topic) -> str:
    return topic.name


def diff(old: Sequence[Any], new: Sequence[Any], key: Callable[[Any], str]) -> Part | None:
    """How `new` differs from `old`; None when either has a key twice (then only a full copy is exact)."""
    old_by = {key(x): x for x in old}
    new_keys = [key(x) for x in new]
    if len(old_by) != len(old) or len(set(new_keys)) != len(new_keys):
        return None
    changed, added, added_at, kept = [], [], [], []
    for i, (k, x) in enumerate(zip(new_keys, new, strict=True)):
        was = old_by.get(k, _MISSING)
        if was is _MISSING:
            added.append(x)
            added_at.append(i)
            continue
        kept.append(k)
        if was is not x and was != x:
            changed.append(x)
    gone = old_by.keys() - set(new_keys)
    removed = tuple(k for k in old_by if k in gone) if gone else ()
    expected = [k for k in old_by if k not in gone] if gone else list(old_by)
    order = tuple(new_keys) if expected != kept else None
    return Part(tuple(changed), tuple(added), tuple(added_at), removed, order, len(new_keys))


def apply(old: Sequence[Any], part: Part, key: Callable[[Any], str]) -> tuple:
    """`old` changed as `part` says: the old objects where unchanged, the part's where not."""
    if part.order is not None:
        by_key = {key(x): x for x in old}
        by_key.update((key(x), x) for x in part.changed)
        by_key.update((key(x), x) for x in part.added)
        try:
            out = tuple([by_key[k] for k in part.order])
        except KeyError as exc:
            raise BaseMismatch(f"the delta names {exc} the base lacks") from None
    else:
        kept = _kept(old, part, key)
        merged: list[Any] = []
        taken = 0
        for at, item in zip(part.added_at, part.added, strict=True):
            take = at - len(merged)
            merged.extend(kept[taken : taken + take])
            taken += take
            merged.append(item)
        merged.extend(kept[taken:])
        out = tuple(merged)
    if len(out) != part.count:
        raise BaseMismatch(f"rebuilt {len(out)} items where the child had {part.count}")
    return out


def _kept(old: Sequence[Any], part: Part, key: Callable[[Any], str]) -> list[Any]:
    """The base's items that stay, in order, each replaced by its new value when it changed."""
    if not part.changed and not part.removed:
        return list(old)
    replace = {key(x): x for x in part.changed}
    gone = set(part.removed)
    kept = [replace.pop(k, x) for x in old if (k := key(x)) not in gone]
    if replace or len(kept) != len(old) - len(gone):
        raise BaseMismatch("the delta changes or removes items the base lacks")
    return kept


class SnapshotSender:
    """The child's side: remembers the last snapshot sent, makes each next message against it."""

    def __init__(self) -> None:
        self.generation = uuid.uuid4().hex  # a new child is a new generation: nothing it sends fits an old base
        self.sequence = 0
        self._last: ClusterSnapshot | None = None

    def message(self, snapshot: ClusterSnapshot, held: Held | None) -> SnapshotMessage:
        """`snapshot` as a delta against what the parent says it holds when that is our last one, else whole."""
        base = self._last if held == (self.generation, self.sequence) else None
        message = self._delta(snapshot, base) if base is not None else None
        if message is None:
            message = SnapshotMessage(self.generation, self.sequence + 1, None, snapshot)
        self.sequence += 1
        self._last = snapshot
        return message

    def last(self) -> SnapshotMessage:
        """The last snapshot sent, whole, under its own sequence: for a parent in doubt about a delta."""
        if self._last is None:
            raise LookupError("no snapshot was sent yet")
        return SnapshotMessage(self.generation, self.sequence, None, self._last)

    def _delta(self, snapshot: ClusterSnapshot, base: ClusterSnapshot) -> SnapshotMessage | None:
        if not (snapshot.reachable and base.reachable):
            return None  # nothing to share with an unreachable cycle's empty snapshot
        groups = diff(base.groups, snapshot.groups, _group_key)
        topics = diff(base.topics, snapshot.topics, _topic_key)
        if groups is None or topics is None:
            return None
        shell = dataclasses.replace(snapshot, topics=(), groups=())
        return SnapshotMessage(self.generation, self.sequence + 1, self.sequence, shell, groups, topics)


class SnapshotReceiver:
    """The parent's side: holds the last snapshot rebuilt, turns each message into a full snapshot."""

    def __init__(self) -> None:
        self._held: tuple[str, int, ClusterSnapshot] | None = None
        self.fulls = 0  # messages taken whole, and as deltas: for tests and the log
        self.deltas = 0

    def held(self) -> Held | None:
        """What the child may send a delta against: (generation, sequence), or None (send it whole)."""
        return None if self._held is None else self._held[:2]

    def forget(self) -> None:
        """Any doubt (the child died, a message went missing): the next snapshot must come whole."""
        self._held = None

    def take(self, message: SnapshotMessage) -> ClusterSnapshot:
        """The full snapshot `message` stands for; BaseMismatch (and the base forgotten) when it does not apply."""
        if message.full:
            snapshot = message.snapshot
            self.fulls += 1
        else:
            snapshot = self._rebuild(message)
            self.deltas += 1
        self._held = (message.generation, message.sequence, snapshot)
        return snapshot

    def _rebuild(self, message: SnapshotMessage) -> ClusterSnapshot:
        held, self._held = self._held, None  # whatever happens next, this base is not used again
        if held is None or held[:2] != (message.generation, message.base):
            raise BaseMismatch(f"a delta against {message.generation}/{message.base}, holding {held and held[:2]}")
        if message.groups is None or message.topics is None:
            raise BaseMismatch("a delta without its parts")
        base = held[2]
        groups = apply(base.groups, message.groups, _group_key)
        topics = apply(base.topics, message.topics, _topic_key)
        return dataclasses.replace(message.snapshot, topics=topics, groups=groups)
