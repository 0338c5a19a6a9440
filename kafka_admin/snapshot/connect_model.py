"""What a Kafka Connect worker group adds to a Group: which worker runs which connector and task.

Plain frozen data like model.py, with its part of the JSON contract (docs/snapshot.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ConnectWorker:
    member_id: str
    url: str | None
    connectors: tuple[str, ...]  # connector instances this worker runs
    tasks: tuple[tuple[str, int], ...]  # (connector, task number)


@dataclass(frozen=True, slots=True)
class ConnectInfo:
    leader: str | None
    leader_url: str | None
    config_offset: int | None
    protocol: str | None  # "default", "compatible", "sessioned" (the selected Connect protocol)
    workers: tuple[ConnectWorker, ...]


def connect_to_dict(info: ConnectInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    return {
        "leader": info.leader,
        "leader_url": info.leader_url,
        "config_offset": info.config_offset,
        "protocol": info.protocol,
        "workers": [
            {
                "member_id": w.member_id,
                "url": w.url,
                "connectors": list(w.connectors),
                "tasks": [{"connector": c, "task": t} for c, t in w.tasks],
            }
            for w in info.workers
        ],
    }


def connect_from_dict(d: dict[str, Any] | None) -> ConnectInfo | None:
    if d is None:
        return None
    return ConnectInfo(
        d.get("leader"),
        d.get("leader_url"),
        d.get("config_offset"),
        d.get("protocol"),
        tuple(
            ConnectWorker(
                w["member_id"],
                w.get("url"),
                tuple(w.get("connectors", [])),
                tuple((t["connector"], t["task"]) for t in w.get("tasks", [])),
            )
            for w in d.get("workers", [])
        ),
    )
