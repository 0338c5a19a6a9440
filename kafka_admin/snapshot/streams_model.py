"""What a Kafka Streams group (KIP-1071) adds to a Group: its topology and its members' tasks.

Plain frozen data like model.py, with its part of the JSON contract (docs/snapshot.md). The lag of
a streams group needs nothing here: Streams commits its input offsets like a consumer group, so
they are Group.offsets with the same lag, time lag and status figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Subtopology:
    subtopology_id: str
    source_topics: tuple[str, ...]
    repartition_sink_topics: tuple[str, ...] = ()
    state_changelog_topics: tuple[str, ...] = ()
    repartition_source_topics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Tasks:
    """The tasks of one subtopology a member runs: one task per input partition number."""

    subtopology_id: str
    partitions: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class StreamsMember:
    member_id: str
    process_id: str
    client_id: str
    host: str
    instance_id: str | None = None
    active: tuple[Tasks, ...] = ()
    standby: tuple[Tasks, ...] = ()
    warmup: tuple[Tasks, ...] = ()


@dataclass(frozen=True, slots=True)
class StreamsInfo:
    topology_epoch: int | None
    subtopologies: tuple[Subtopology, ...]
    members: tuple[StreamsMember, ...]

    def subtopology(self, subtopology_id: str) -> Subtopology | None:
        return next((s for s in self.subtopologies if s.subtopology_id == subtopology_id), None)


def _tasks_to_list(tasks: tuple[Tasks, ...]) -> list[dict[str, Any]]:
    return [{"subtopology": t.subtopology_id, "partitions": list(t.partitions)} for t in tasks]


def _tasks_from_list(items: list[dict[str, Any]]) -> tuple[Tasks, ...]:
    return tuple(Tasks(t["subtopology"], tuple(t["partitions"])) for t in items)


def streams_to_dict(info: StreamsInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    return {
        "topology_epoch": info.topology_epoch,
        "subtopologies": [
            {
                "subtopology": s.subtopology_id,
                "source_topics": list(s.source_topics),
                "repartition_sink_topics": list(s.repartition_sink_topics),
                "state_changelog_topics": list(s.state_changelog_topics),
                "repartition_source_topics": list(s.repartition_source_topics),
            }
            for s in info.subtopologies
        ],
        "members": [
            {
                "member_id": m.member_id,
                "process_id": m.process_id,
                "client_id": m.client_id,
                "host": m.host,
                "instance_id": m.instance_id,
                "active": _tasks_to_list(m.active),
                "standby": _tasks_to_list(m.standby),
                "warmup": _tasks_to_list(m.warmup),
            }
            for m in info.members
        ],
    }


def streams_from_dict(d: dict[str, Any] | None) -> StreamsInfo | None:
    if d is None:
        return None
    return StreamsInfo(
        d.get("topology_epoch"),
        tuple(
            Subtopology(
                s["subtopology"],
                tuple(s["source_topics"]),
                tuple(s.get("repartition_sink_topics", ())),
                tuple(s.get("state_changelog_topics", ())),
                tuple(s.get("repartition_source_topics", ())),
            )
            for s in d.get("subtopologies", [])
        ),
        tuple(
            StreamsMember(
                m["member_id"],
                m["process_id"],
                m["client_id"],
                m["host"],
                m.get("instance_id"),
                _tasks_from_list(m.get("active", [])),
                _tasks_from_list(m.get("standby", [])),
                _tasks_from_list(m.get("warmup", [])),
            )
            for m in d.get("members", [])
        ),
    )
