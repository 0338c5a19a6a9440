"""One action's broker work in a child of its own: started for the call, stopped after it.

For the actions of a page (offset reset: read the group, plan, apply) that call librdkafka in ways
that have crashed the process (list_consumer_group_offsets segfaults on a fresh broker). A crash
costs the one request (it answers "the broker client crashed") instead of the server. A fresh child
per call costs its start (an interpreter importing confluent-kafka, a few hundred ms): an action
page is used by a person, rarely; a pool would save that at the price of shared failures.
"""

from __future__ import annotations

from typing import Any

from kafka_admin.isolation.supervisor import OperationFailed, Supervisor, WorkerFailed

CALL_SESSION = "kafka_admin.isolation.oneshot:CallSession"
GRACE_S = 5.0

__all__ = ["CallSession", "WorkerFailed", "run_in_child"]


class CallSession:
    """The child's session: calls one kafka_admin function by its "module:name" path."""

    def call(self, path: str, *args: Any, **kwargs: Any) -> Any:
        from kafka_admin.isolation.worker import load

        if not path.startswith("kafka_admin."):
            raise ValueError(f"not a kafka_admin function: {path}")
        return load(path)(*args, **kwargs)


def run_in_child(path: str, *args: Any, role: str, within_s: float, **kwargs: Any) -> Any:
    """`path(*args, **kwargs)` in a new child; its exception re-raised here when it could be sent back.

    WorkerFailed when the child died or gave no answer within `within_s` (+ GRACE_S; then killed)."""
    supervisor = Supervisor(role, CALL_SESSION)
    try:
        return supervisor.call("call", path, *args, answer_within_s=within_s + GRACE_S, **kwargs)
    except OperationFailed as exc:
        if exc.error is not None:
            raise exc.error from None
        raise
    finally:
        supervisor.close()
