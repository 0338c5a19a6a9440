"""The cycle's /metrics sample lines, kept per group and per topic from one cycle to the next.

Why: at tens of thousands of groups, writing every group's lines afresh each cycle (a labels dict
per sample, then its text) was the costliest step after a poll, yet most groups are the same
object as the cycle before (the collector and the delta hand-off pass an unchanged group on as
the same object). So each group's and topic's lines are kept as bytes with what they were made
from, and made again only when that changed:

* the lines taken from the Group or Topic alone (info, members, offsets, lags and their sums,
  partition placement) while it is the same object, or an equal one (a state read afresh from a
  shared cache);
* the lines taken from the figures (time lag, commit rate, status, produce rate) while their value
  is the same: the figures are new objects every cycle, and a time lag grows with the cycle's time
  for a group that is behind even when nothing else about it changed, so values are compared,
  never objects (a status object is the exception: it is immutable, so the same object has the
  same name).

What a family gets is a tuple of byte chunks (one per group or topic that has lines in it), in the
order dashboard.metrics._cycle_samples writes them: the output is byte for byte that path's, which
tests/unit/test_metrics_lines.py holds over cycles with churn.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from prometheus_client.utils import floatToGoString

from kafka_admin.figures.results import ClusterFigures, GroupFigures, TopicFigures
from kafka_admin.figures.status import GroupStatus
from kafka_admin.snapshot.model import ClusterSnapshot, Group, Topic

LEGACY_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")

Chunks = tuple[bytes, ...]

# The families of a group's lines made from the Group alone.
GROUP_STATIC = (
    "kafka_dashboard_group_info",
    "kafka_consumergroup_members",
    "kafka_consumergroup_current_offset",
    "kafka_consumergroup_current_offset_sum",
    "kafka_consumergroup_lag",
    "kafka_consumergroup_lag_sum",
)
LAG_SECONDS = "kafka_dashboard_consumergroup_lag_seconds"
LAG_SECONDS_MAX = "kafka_dashboard_consumergroup_lag_seconds_max"
COMMIT_RATE = "kafka_dashboard_consumergroup_commit_rate"
STATUS = "kafka_dashboard_consumergroup_status"
# The families of a topic's lines made from the Topic alone, in the order of TopicLines.static.
TOPIC_STATIC = (
    "kafka_topic_partitions",
    "kafka_topic_partition_current_offset",
    "kafka_topic_partition_oldest_offset",
    "kafka_topic_partition_leader",
    "kafka_topic_partition_leader_is_preferred",
    "kafka_topic_partition_replicas",
    "kafka_topic_partition_in_sync_replica",
    "kafka_topic_partition_under_replicated_partition",
)
PRODUCE_RATE = "kafka_dashboard_topic_produce_rate"


def labels_text(labels: dict[str, str]) -> str | None:
    """The `{name="value",...}` text of a labels dict, as generate_latest writes it (None: not ours to write)."""
    if not labels:
        return ""
    if not all(LEGACY_LABEL_NAME.fullmatch(k) for k in labels):
        return None
    pairs = (f'{k}="{escape_value(v)}"' for k, v in sorted(labels.items()))
    return "{" + ",".join(pairs) + "}"


def escape_value(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def value_text(value: float) -> str:
    """A sample's value as generate_latest writes it; a small int as repr(float(value)) would be, without the float."""
    return str(value) + ".0" if type(value) is int and -1_000_000 < value < 1_000_000 else floatToGoString(value)


def status_name(status: object) -> str | None:
    """A group status as a label value: a string (LagStatus is a StrEnum), an Enum, or an object
    carrying one in `.status` (kafka_admin.figures.status.GroupStatus)."""
    if status is None:
        return None
    if isinstance(status, str):
        return str(status) or None
    if isinstance(status, Enum):
        return str(status.value) or None
    inner = getattr(status, "status", None)
    if inner is not None:
        return status_name(inner)
    return str(status) or None


def same(a: object, b: object) -> bool:
    """True when a and b write the same value text: equal, and not a zero of another sign or type
    (0.0 and -0.0 are equal but write differently; such a pair is just made again)."""
    return a is b or (a == b and (bool(a) or str(a) == str(b)))


def _line(name: str, labels: str, value: float) -> str:
    return f"{name}{labels} {value_text(value)}\n"


_UNSET = object()  # nothing seen yet (None is a value: no line)


@dataclass(slots=True)
class GroupLines:
    """A group's lines, each with what it was made from: while that holds, the line is kept.

    labels: `{cluster="...",consumergroup="..."}`, the others' labels begin with all of it but the `}`.
    """

    group: Group
    labels: str
    info: object = _UNSET
    info_text: bytes = b""
    members: int = -1
    members_text: bytes = b""
    offsets: object = _UNSET  # the offsets the sums' and the partitions' lines were made from
    offset_sums: tuple[tuple[str, int], ...] | None = None
    offset_sums_text: bytes = b""
    lag_sums: tuple[tuple[str, int], ...] | None = None
    lag_sums_text: bytes = b""
    current_text: bytes = b""
    lag_text: bytes = b""
    seconds: tuple[float | None, ...] | None = None
    seconds_text: bytes = b""
    lag_max: float | None = None
    lag_max_text: bytes = b""
    rate: float | None = None
    rate_text: bytes = b""
    status: object = _UNSET
    status_key: object = _UNSET
    status_name: str | None = None
    status_text: bytes = b""


@dataclass(slots=True)
class TopicLines:
    """A topic's lines: `static` per TOPIC_STATIC from `topic`; its produce rate's with that value."""

    topic: Topic
    labels: str  # {cluster="...",topic="..."}
    static: Chunks
    rate: float | None = None
    rate_text: bytes = b""


def new_group_lines(c: str, g: Group) -> GroupLines:
    return GroupLines(g, f'{{cluster="{escape_value(c)}",consumergroup="{escape_value(g.group_id)}"}}')


def refresh(e: GroupLines, g: Group, partitions: bool) -> bool:
    """Make again those of the group's lines from the Group whose inputs changed (as
    dashboard.metrics._group_samples writes them); True when any did."""
    head = e.labels[:-1]
    made = False
    info = (g.type or "unknown", g.protocol or "", g.state)  # "unknown": a broker before 3.7
    if info != e.info:
        e.info, made = info, True
        kind, protocol, state = map(escape_value, info)
        labels = f'{head},protocol="{protocol}",state="{state}",type="{kind}"}}'
        e.info_text = f"kafka_dashboard_group_info{labels} 1.0\n".encode()
    members = len(g.members)
    if members != e.members:
        e.members, made = members, True
        e.members_text = _line("kafka_consumergroup_members", e.labels, members).encode()
    offsets = g.offsets
    if offsets is e.offsets:
        return made
    offset_sums: dict[str, int] = {}
    lag_sums: dict[str, int] = {}
    for o in offsets:
        offset_sums[o.topic] = offset_sums.get(o.topic, 0) + o.committed
        if o.lag is not None:
            # A negative lag (end offset read just before a newer commit) is a race, not a lead.
            lag_sums[o.topic] = lag_sums.get(o.topic, 0) + max(0, o.lag)
    sums = tuple(offset_sums.items())
    if sums != e.offset_sums:
        e.offset_sums, made = sums, True
        e.offset_sums_text = _sums_text("kafka_consumergroup_current_offset_sum", head, sums)
    sums = tuple(lag_sums.items())
    if sums != e.lag_sums:
        e.lag_sums, made = sums, True
        e.lag_sums_text = _sums_text("kafka_consumergroup_lag_sum", head, sums)
    if partitions and offsets != e.offsets:
        made = True
        current: list[str] = []
        lag: list[str] = []
        for o in offsets:
            pl = f'{head},partition="{o.partition}",topic="{escape_value(o.topic)}"}}'
            current.append(_line("kafka_consumergroup_current_offset", pl, o.committed))
            if o.lag is not None:
                lag.append(_line("kafka_consumergroup_lag", pl, max(0, o.lag)))
        e.current_text, e.lag_text = "".join(current).encode(), "".join(lag).encode()
    e.offsets = offsets
    return made


def _sums_text(name: str, head: str, sums: tuple[tuple[str, int], ...]) -> bytes:
    return "".join(_line(name, f'{head},topic="{escape_value(t)}"}}', v) for t, v in sums).encode()


def _partition_seconds(g: Group, gf: GroupFigures | None) -> tuple[float | None, ...]:
    """The group's time lag per committed partition, in its order (None: unknown)."""
    if gf is None:
        return (None,) * len(g.offsets)
    get = gf.partition_time_lags.get
    return tuple(None if tl is None else tl.seconds for tl in (get((o.topic, o.partition)) for o in g.offsets))


def _partition_seconds_text(head: str, g: Group, values: tuple[float | None, ...]) -> bytes:
    out = []
    for o, seconds in zip(g.offsets, values, strict=True):
        if seconds is not None:
            pl = f'{head},partition="{o.partition}",topic="{escape_value(o.topic)}"}}'
            out.append(_line(LAG_SECONDS, pl, seconds))
    return "".join(out).encode()


def topic_lines(c: str, t: Topic) -> TopicLines:
    """A topic's lines made from the Topic: dashboard.metrics._topic_samples's, in its order."""
    head = f'{{cluster="{escape_value(c)}"'
    name = escape_value(t.name)
    lines: list[list[str]] = [[] for _ in TOPIC_STATIC[1:]]
    current, oldest, leader, preferred, replicas, isr, under = lines
    for p in t.partitions:
        pl = f'{head},partition="{p.partition}",topic="{name}"}}'
        if p.end_offset is not None:
            current.append(_line(TOPIC_STATIC[1], pl, p.end_offset))
        if p.start_offset is not None:
            oldest.append(_line(TOPIC_STATIC[2], pl, p.start_offset))
        leader.append(_line(TOPIC_STATIC[3], pl, -1 if p.leader is None else p.leader))
        is_preferred = p.leader is not None and p.replicas and p.replicas[0] == p.leader
        preferred.append(_line(TOPIC_STATIC[4], pl, 1 if is_preferred else 0))
        replicas.append(_line(TOPIC_STATIC[5], pl, len(p.replicas)))
        isr.append(_line(TOPIC_STATIC[6], pl, len(p.isr)))
        under.append(_line(TOPIC_STATIC[7], pl, 1 if p.under_replicated else 0))
    tl = f'{head},topic="{name}"}}'
    count = _line(TOPIC_STATIC[0], tl, len(t.partitions)).encode()
    return TopicLines(t, tl, (count, *("".join(f).encode() for f in lines)))


class CycleLines:
    """One cluster's kept lines; render() gives a cycle's chunks per family, reusing what still holds.

    One lock per cluster: the poller's pre-render and a scrape may render at once; the entries are
    updated in place, so one renders at a time (each render costs a pass over the groups).
    """

    def __init__(self, cluster: str) -> None:
        self.cluster = cluster
        self.partitions: bool | None = None
        self.groups: dict[str, GroupLines] = {}
        self.topics: dict[str, TopicLines] = {}
        self.made = 0  # groups and topics whose Group/Topic lines were made (not reused), over all renders
        self.lock = threading.Lock()

    def render(self, snap: ClusterSnapshot, figures: ClusterFigures, partitions: bool) -> dict[str, Chunks]:
        with self.lock:
            if partitions != self.partitions:
                self.partitions, self.groups, self.topics = partitions, {}, {}
            out = self._topics(snap.topics, figures.topics)
            out.update(self._groups(snap.groups, figures.groups, partitions))
            return {name: chunks for name, chunks in out.items() if chunks}

    def _topics(self, topics: Iterable[Topic], figures: dict[str, TopicFigures]) -> dict[str, Chunks]:
        c, kept, fresh = self.cluster, self.topics, {}
        static: list[list[bytes]] = [[] for _ in TOPIC_STATIC]
        appends = [s.append for s in static]
        rates: list[bytes] = []
        for t in topics:
            e = kept.get(t.name)
            if e is None or not (e.topic is t or e.topic == t):
                e = topic_lines(c, t)
                self.made += 1
            e.topic = t
            fresh[t.name] = e
            for append, chunk in zip(appends, e.static, strict=True):
                append(chunk)
            tf = figures.get(t.name)
            rate = None if tf is None else tf.produce_rate
            if not same(rate, e.rate):  # the text is what the value writes (None: no line)
                e.rate = rate
                e.rate_text = b"" if rate is None else _line(PRODUCE_RATE, e.labels, rate).encode()
            if e.rate_text:
                rates.append(e.rate_text)
        self.topics = fresh
        out = {name: tuple(chunks) for name, chunks in zip(TOPIC_STATIC, static, strict=True)}
        out[PRODUCE_RATE] = tuple(rates)
        return out

    def _groups(self, groups: Iterable[Group], figures: dict[str, GroupFigures], partitions: bool) -> dict[str, Chunks]:
        c, kept, fresh = self.cluster, self.groups, {}
        static: list[list[bytes]] = [[] for _ in GROUP_STATIC]
        info, members, current, current_sum, lag, lag_sum = static
        seconds: list[bytes] = []
        lag_max: list[bytes] = []
        rates: list[bytes] = []
        statuses: list[bytes] = []
        for g in groups:
            gid = g.group_id
            e = kept.get(gid)
            if e is None:
                e = new_group_lines(c, g)
                refresh(e, g, partitions)
                self.made += 1
            elif e.group is not g:
                if refresh(e, g, partitions):
                    self.made += 1
                e.group = g
            fresh[gid] = e
            info.append(e.info_text)
            members.append(e.members_text)
            if partitions:
                current.append(e.current_text)
                lag.append(e.lag_text)
            if e.offset_sums:
                current_sum.append(e.offset_sums_text)
            if e.lag_sums:
                lag_sum.append(e.lag_sums_text)
            gf = figures.get(gid)
            if partitions:
                values = _partition_seconds(g, gf)
                if e.seconds is None or len(values) != len(e.seconds) or not all(map(same, values, e.seconds)):
                    e.seconds, e.seconds_text = values, _partition_seconds_text(e.labels[:-1], g, values)
                seconds.append(e.seconds_text)
            if gf is None:
                continue
            # Each text is what its value writes (None: no line), so an equal value keeps its text.
            value = gf.time_lag.seconds
            if not same(value, e.lag_max):
                e.lag_max = value
                e.lag_max_text = b"" if value is None else _line(LAG_SECONDS_MAX, e.labels, value).encode()
            if e.lag_max_text:
                lag_max.append(e.lag_max_text)
            value = gf.commit_rate
            if not same(value, e.rate):
                e.rate = value
                e.rate_text = b"" if value is None else _line(COMMIT_RATE, e.labels, value).encode()
            if e.rate_text:
                rates.append(e.rate_text)
            status = getattr(gf, "status", None)
            if status is not e.status:  # immutable: the same object has the same name
                e.status = status
                # A GroupStatus's name is its LagStatus's: an enum member, so the same one, the same name.
                key = status.status if type(status) is GroupStatus else _UNSET
                if key is _UNSET or key is None or key is not e.status_key:
                    e.status_key = key
                    name = status_name(status)
                    if name != e.status_name:
                        e.status_name = name
                        labels = f'{e.labels[:-1]},status="{escape_value(name)}"}}' if name else ""
                        e.status_text = _line(STATUS, labels, 1).encode() if name else b""
            if e.status_text:
                statuses.append(e.status_text)
        self.groups = fresh
        out = {name: tuple(chunks) for name, chunks in zip(GROUP_STATIC, static, strict=True)}
        out.update({LAG_SECONDS: tuple(seconds), LAG_SECONDS_MAX: tuple(lag_max), COMMIT_RATE: tuple(rates)})
        out[STATUS] = tuple(statuses)
        return out


_kept: dict[str, CycleLines] = {}
_kept_lock = threading.Lock()


def kept(cluster: str) -> CycleLines:
    """The cluster's kept lines in this process (made empty at first use)."""
    with _kept_lock:
        found = _kept.get(cluster)
        if found is None:
            found = _kept[cluster] = CycleLines(cluster)
        return found
